"""Demo mode: `serve` with no upstream runs the simulator in-process."""

from __future__ import annotations

import io
import wave

from conftest import PNG_SIGNATURE, png_size, sha256


def test_demo_mode_music_job(stack_factory):
    st = stack_factory("demo", demo=True, serve_args=["--simulator-latency", "500ms"])
    assert st.upstream is None
    tid = st.submit_music()
    d = st.wait_music(tid)
    assert len(d["tracks"]) == 2, d
    for tr in d["tracks"]:
        f = tr["file"]
        assert f["url"].startswith(st.base + "/files/"), f
        body = st.download(f["url"]).content
        assert len(body) == f["bytes"] and sha256(body) == f["sha256"], f
        with wave.open(io.BytesIO(body)) as w:
            assert abs(w.getnframes() / w.getframerate() - float(tr["duration"])) <= 0.1
        # The cover art too: the in-process simulator's port dies with the process, our copy stays.
        assert tr["image_url"].startswith(st.base + "/files/"), tr
        cover = st.download(tr["image_url"]).content
        assert cover.startswith(PNG_SIGNATURE) and min(png_size(cover)) > 0
    st.server.restart()
    for tr in st.fetch_music(tid)["tracks"]:
        assert st.download(tr["image_url"]).status_code == 200, tr
    log = st.server.log_text
    assert "simulator" in log.lower(), "demo mode should say so in the log"


def test_demo_mode_images(stack_factory):
    st = stack_factory("demo-img", demo=True, serve_args=["--simulator-latency", "500ms"])
    client = st.openai()
    try:
        res = client.images.generate(model="nano-banana-2", prompt="a demo picture", n=1, size="256x256")
    finally:
        client.close()
    assert len(res.data) == 1 and res.data[0].url.startswith(st.base + "/files/"), res


def test_demo_mode_videos(stack_factory):
    st = stack_factory("demo-video", demo=True, serve_args=["--simulator-latency", "500ms"])
    client = st.openai()
    try:
        video = client.videos.create_and_poll(prompt="a demo video", seconds="1", size="480x480", poll_interval_ms=200)
        assert video.status == "completed", video
        data = client.videos.download_content(video.id).read()
    finally:
        client.close()
    assert data[4:8] == b"ftyp", data[:16]

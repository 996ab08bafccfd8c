"""Demo mode: `serve` with no upstream runs the simulator in-process."""

from __future__ import annotations

import io
import wave

from conftest import sha256


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

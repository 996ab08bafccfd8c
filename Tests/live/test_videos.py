"""Videos through the official OpenAI Python SDK (`client.videos`), unchanged, against the real
binary and the simulator: create (multipart, as the SDK sends it), retrieve, list, delete,
download_content (video and thumbnail), create_and_poll; ffprobe reads the stored MP4. Operators see
videos too: the tasks CLI, stats, /metrics and prune.

Needs ffprobe (`source scripts/media-tools` installs it and sets MEDIAJOBS_TEST_FFPROBE); without
it the tests fail, never skip."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import openai
import pytest

from conftest import PNG_SIGNATURE, Receiver, assert_error, module_stack, png_size, wait_for
from test_operators import cli_json, media_files, metric, scrape

FPS = 24

# The SDK warns that OpenAI's own video service is going away; this server is not that service.
pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")


@pytest.fixture(scope="module")
def ffprobe() -> str:
    path = os.environ.get("MEDIAJOBS_TEST_FFPROBE")
    if not path:
        pytest.fail("MEDIAJOBS_TEST_FFPROBE is not set: run `source scripts/media-tools` (installs Debian's ffmpeg "
                    "and sets it), or scripts/test", pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail(f"MEDIAJOBS_TEST_FFPROBE={path!r} is not executable", pytrace=False)
    return path


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0)


@pytest.fixture(scope="module")
def client(stack):
    c = stack.openai()
    yield c
    c.close()


def probe(ffprobe: str, path: Path) -> dict:
    out = subprocess.run([ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def finished(client):
    """One video made with create_and_poll: 2 s, portrait (720x1280 asks for 720p 9:16)."""
    video = client.videos.create_and_poll(model="grok-video-3", prompt="A paper boat on a stream", seconds="2",
                                          size="720x1280", poll_interval_ms=200)
    return video


def test_create_and_poll_completes(finished):
    video = finished
    assert video.status == "completed", video
    assert video.id.startswith("video_") and video.object == "video", video
    assert video.model == "grok-video-3" and video.progress == 100, video
    assert video.seconds == "2" and video.size == "720x1280", video
    assert video.completed_at and video.completed_at >= video.created_at, video
    assert video.error is None, video


def test_download_content_is_the_mp4_ffprobe_reads(client, finished, ffprobe, tmp_path):
    body = client.videos.download_content(finished.id)
    data = body.read()
    assert data[4:8] == b"ftyp", data[:16]
    path = tmp_path / "video.mp4"
    path.write_bytes(data)
    info = probe(ffprobe, path)
    (stream,) = info["streams"]
    assert stream["codec_name"] == "h264", stream
    assert (stream["width"], stream["height"]) == (720, 1280), stream
    assert abs(float(info["format"]["duration"]) - 2) <= 1 / FPS, info["format"]


def test_download_thumbnail_is_a_png(client, finished):
    data = client.videos.download_content(finished.id, variant="thumbnail").read()
    assert data.startswith(PNG_SIGNATURE)
    assert png_size(data) == (720, 1280)


def test_content_serves_ranges_and_etags(stack, finished):
    url = f"/v1/videos/{finished.id}/content"
    whole = stack.get(url)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/mp4", whole.headers
    etag = whole.headers["ETag"]
    part = stack.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole.content[100:200], part.headers
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole.content)}"
    assert stack.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert_error(stack.get(url, params={"variant": "spritesheet"}), 400, "invalid_request_error")


def test_multipart_create_retrieve_and_poll_after(stack, client):
    video = client.videos.create(model="grok-video-3", prompt="A kite over a hill", seconds="1", size="854x480")
    assert video.status in ("queued", "in_progress"), video
    assert video.size == "854x480" and video.seconds == "1", video
    raw = client.videos.with_raw_response.retrieve(video.id)
    parsed = raw.parse()
    if parsed.status in ("queued", "in_progress"):
        assert int(raw.headers["openai-poll-after-ms"]) >= 1000, dict(raw.headers)
        # Not ready: a clear 409, not a half-written file.
        assert_error(stack.get(f"/v1/videos/{video.id}/content"), 409, "conflict_error")
    done = client.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed", done
    final = client.videos.with_raw_response.retrieve(video.id)
    assert "openai-poll-after-ms" not in final.headers, dict(final.headers)
    # The kind-neutral task view names it a video, with its two files.
    task = stack.get_task(video.id)
    assert task["kind"] == "video" and task["request"]["resolution"] == "480p", task
    assert [a["content_type"] for a in task["artifacts"]] == ["video/mp4", "image/png"], task


def test_list_pages_in_both_orders(client):
    made = [client.videos.create(prompt=f"list me {i}", seconds="1", size="480x480").id for i in range(3)]
    newest = client.videos.list(limit=100)
    ids = [v.id for v in newest.data]
    assert all(i in ids for i in made), ids
    assert ids.index(made[2]) < ids.index(made[0]), ids
    oldest = client.videos.list(limit=100, order="asc")
    assert [v.id for v in oldest.data] == list(reversed(ids))
    # The SDK's auto-paging follows last_id with after=.
    paged = [v.id for v in client.videos.list(limit=1, order="asc")]
    assert paged == [v.id for v in oldest.data], paged


def test_delete_removes_record_and_files(stack, client):
    video = client.videos.create_and_poll(prompt="delete me", seconds="1", size="480x480", poll_interval_ms=200)
    file_url = stack.get_task(video.id)["artifacts"][0]["url"]
    assert stack.download(file_url).status_code == 200
    deleted = client.videos.delete(video.id)
    assert deleted.id == video.id and deleted.deleted is True and deleted.object == "video.deleted", deleted
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)
    assert stack.download(file_url).status_code == 404
    folder = stack.server.data_dir
    wait_for(lambda: not any(p.name == video.id for p in folder.rglob(video.id)), 10, desc="task folder removed")


def test_delete_cancels_an_unfinished_video(stack, client):
    video = client.videos.create(prompt="never mind", seconds="15", size="1280x720")
    assert client.videos.delete(video.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


def test_other_kinds_are_not_videos(stack, client):
    tid = stack.submit_music(prompt="not a video")
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(tid)
    assert_error(stack.get(f"/v1/videos/{tid}/content"), 404, "not_found_error")


@pytest.mark.parametrize("fields,code", [
    ({"model": "grok-video-3"}, "missing_parameter"),
    ({"prompt": "x", "model": "sora-2"}, "model_not_found"),
    ({"prompt": "x", "seconds": "16"}, "invalid_value"),
    ({"prompt": "x", "seconds": 0}, "invalid_value"),
    ({"prompt": "x", "size": "big"}, "invalid_value"),
    ({"prompt": "x", "resolution": "1080p"}, "invalid_value"),
])
def test_bad_json_bodies_are_clear_400s(stack, fields, code):
    body = assert_error(stack.post("/v1/videos", json=fields), 400, "invalid_request_error")
    assert body["error"]["code"] == code, body


def test_sdk_errors_for_bad_input(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="x", model="sora-2")
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.videos.create(prompt="x", seconds="20")
    # A reference image is a file part; the provider takes text only.
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="x", input_reference=("ref.png", PNG_SIGNATURE + b"\0" * 32, "image/png"))
    assert "input_reference" in str(caught.value)


def test_a_reference_image_over_the_body_limit_is_a_400_not_a_413(client, tmp_path):
    # A real file as the SDK sends it (`open(...)`, so with a Content-Length), twice --max-body-size:
    # refused for what it is when its part begins, not for its size.
    ref = tmp_path / "ref.png"
    ref.write_bytes(PNG_SIGNATURE + os.urandom(2 * 1024 * 1024))
    with ref.open("rb") as f, pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(prompt="x", seconds="4", input_reference=f)
    assert caught.value.status_code == 400 and caught.value.param == "input_reference", caught.value
    assert "input_reference" in str(caught.value)


def test_broken_multipart_bodies(stack):
    good = b'--abc\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello\r\n--abc--\r\n'
    r = stack.post("/v1/videos", data=good, headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert r.status_code == 200 and r.json()["prompt"] == "hello", r.text
    for content_type, body in [
        ("multipart/form-data; boundary=xyz", good),  # not the body's boundary
        ("multipart/form-data", good),  # no boundary at all
        ("multipart/form-data; boundary=abc", good[:-12]),  # cut short
        ("multipart/form-data; boundary=abc", b"--abc\r\nno headers end"),
    ]:
        body_json = assert_error(stack.post("/v1/videos", data=body, headers={"Content-Type": content_type}), 400)
        assert body_json["error"]["code"] in ("invalid_multipart", "missing_parameter"), body_json


def test_oversized_multipart_is_413(stack):
    filler = b"x" * (2 * 1024 * 1024)
    body = (b'--abc\r\nContent-Disposition: form-data; name="prompt"\r\n\r\n' + filler + b"\r\n--abc--\r\n")
    r = stack.post("/v1/videos", data=body, headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert_error(r, 413, "invalid_request_error")


def test_tasks_list_filters_videos(stack, finished):
    videos = stack.list_tasks(kind="video", limit=100)
    assert videos["data"] and all(t["kind"] == "video" for t in videos["data"]), videos
    assert finished.id in [t["id"] for t in videos["data"]]


WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_video_webhooks_are_signed_events_of_the_video_task(stack_factory, tmp_path):
    receiver = Receiver(tmp_path / "receivers", secret=WEBHOOK_SECRET).start()
    try:
        st = stack_factory("hooks", latency="300ms",
                           serve_args=["--allow-private-networks", "--webhook-secret", WEBHOOK_SECRET])
        c = st.openai()
        # callback_url and metadata travel as form fields next to the SDK's own.
        video = c.videos.create(prompt="hook me", seconds="1", size="480x480",
                                extra_body={"callback_url": receiver.url, "metadata": json.dumps({"order": 7})})
        c.videos.poll(video.id, poll_interval_ms=200)
        c.close()
        entries = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == video.id] or None, 60,
                           desc="the video's webhook")
        assert len(entries) == 1 and entries[0]["verified"], entries
        assert entries[0]["type"] == "task.completed" and entries[0]["status"] == "completed", entries
        task = st.get_task(video.id)
        assert task["metadata"] == {"order": 7} and task["callback_url"] == receiver.url, task
    finally:
        receiver.stop()


def test_kill9_while_a_video_is_in_progress(stack_factory, ffprobe, tmp_path):
    st = stack_factory("crash", latency="2s")
    c = st.openai()
    video = c.videos.create(prompt="survive a crash", seconds="2", size="854x480")
    wait_for(lambda: c.videos.retrieve(video.id).status == "in_progress", 30, interval=0.05, desc="the video in progress")
    st.server.kill9()
    st.server.start()
    done = c.videos.poll(video.id, poll_interval_ms=200)
    assert done.status == "completed", done
    path = tmp_path / "after-crash.mp4"
    path.write_bytes(c.videos.download_content(video.id).read())
    c.close()
    info = probe(ffprobe, path)
    assert (info["streams"][0]["width"], info["streams"][0]["height"]) == (854, 480), info
    # Stored once, no temp files left behind.
    assert not [p for p in (st.server.data_dir / "tmp").rglob("*") if p.is_file()]


def test_operators_see_videos(stack_factory, mediajobs_bin):
    """One completed video next to a music task: the tasks CLI, stats, /metrics and prune count it as a video."""
    st = stack_factory("operators", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    c = st.openai()
    video = c.videos.create_and_poll(prompt="seen by operators", seconds="1", size="480x480", poll_interval_ms=200)
    c.close()
    assert video.status == "completed", video
    st.wait_music(st.submit_music(prompt="not a video"))
    files = st.get_task(video.id)["artifacts"]
    assert [a["content_type"] for a in files] == ["video/mp4", "image/png"], files

    listed = cli_json(mediajobs_bin, data, "tasks", "list", "--kind", "video")
    assert [(t["id"], t["kind"], t["status"]) for t in listed["data"]] == [(video.id, "video", "completed")], listed

    stats = cli_json(mediajobs_bin, data, "stats")
    assert stats["tasks"]["by_kind"]["video"]["completed"] == 1, stats["tasks"]
    assert stats["storage"]["by_kind"]["video"] == {"files": 2, "bytes": sum(a["bytes"] for a in files)}, stats["storage"]

    samples = scrape(st)
    assert metric(samples, "mediajobs_storage_files", kind="video") == 2
    assert metric(samples, "mediajobs_tasks", kind="video", status="completed") == 1

    before = media_files(data)
    dry = cli_json(mediajobs_bin, data, "prune", "--kind", "video", "--older-than", "0s", "--dry-run")
    assert dry["artifacts"]["count"] == 2, dry
    assert media_files(data) == before, "a dry run deleted files"

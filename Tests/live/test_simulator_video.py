"""The simulator's video API end to end through the real binary: `mediajobs simulate-upstream`
takes a video the way the provider documents it, reports progress until SUCCESS, and serves an
MP4 that ffprobe reads as H.264 of the asked size and duration and ffmpeg decodes without error.

Needs ffprobe and ffmpeg (`source scripts/media-tools` installs them and sets
MEDIAJOBS_TEST_FFPROBE / MEDIAJOBS_TEST_FFMPEG); without them the tests fail, never skip."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import HTTP_TIMEOUT, PNG_SIGNATURE, Upstream, http, png_size, wait_for

FPS = 24


def _tool(variable: str) -> str:
    path = os.environ.get(variable)
    if not path:
        pytest.fail(f"{variable} is not set: run `source scripts/media-tools` (installs Debian's ffmpeg and sets it), "
                    f"or scripts/test", pytrace=False)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{variable}={path!r} is not executable", pytrace=False)
    return path


@pytest.fixture(scope="module")
def ffprobe() -> str:
    return _tool("MEDIAJOBS_TEST_FFPROBE")


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    return os.environ.get("MEDIAJOBS_TEST_FFMPEG") or str(Path(_tool("MEDIAJOBS_TEST_FFPROBE")).with_name("ffmpeg"))


@pytest.fixture(scope="module")
def upstream(mediajobs_bin, tmp_path_factory):
    up = Upstream(mediajobs_bin, tmp_path_factory.mktemp("simulator_video"), latency="2s").start()
    yield up
    up.stop()


def submit(upstream: Upstream, **fields) -> str:
    body = {"model": "grok-video-3", "prompt": "A golden retriever running on a beach at sunset", **fields}
    with http() as s:
        r = s.post(f"{upstream.url}/v1/videos", json=body, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["object"] == "video" and answer["status"] == "queued", answer
    return answer["id"]


def poll(upstream: Upstream, task_id: str) -> dict:
    with http() as s:
        r = s.get(f"{upstream.url}/v1/videos/{task_id}", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["code"] == "success", answer
    return answer["data"]


def probe(ffprobe: str, path: Path) -> dict:
    out = subprocess.run([ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_first_task_fails_with_a_reason(mediajobs_bin, tmp_path):
    failing = Upstream(mediajobs_bin, tmp_path, latency="200ms", fail_first_tasks=1).start()
    try:
        outcomes = []
        for _ in range(2):
            tid = submit(failing, duration=1)
            data = wait_for(lambda: (d := poll(failing, tid))["status"] in ("SUCCESS", "FAILURE") and d,
                            timeout=60, desc="a terminal status")
            outcomes.append(data["status"])
            if data["status"] == "FAILURE":
                assert data["fail_reason"], data
                assert not data.get("data"), data
        assert outcomes == ["FAILURE", "SUCCESS"]
        assert failing.stats()["failed_tasks"] == 1
    finally:
        failing.stop()


@pytest.mark.parametrize("resolution,aspect_ratio,duration,size", [
    ("720p", "16:9", 6, (1280, 720)),
    ("480p", "9:16", 3, (480, 854)),
])
def test_a_video_renders_to_an_mp4_ffprobe_reads(upstream, ffprobe, ffmpeg, tmp_path, resolution, aspect_ratio, duration, size):
    tid = submit(upstream, duration=duration, resolution=resolution, aspect_ratio=aspect_ratio)
    progress: list[int] = []

    def finished():
        data = poll(upstream, tid)
        assert data["status"] in ("QUEUED", "IN_PROGRESS", "SUCCESS"), data
        assert data["progress"].endswith("%"), data
        progress.append(int(data["progress"][:-1]))
        return data if data["status"] == "SUCCESS" else None

    data = wait_for(finished, timeout=60, desc=f"video {tid} to succeed")
    assert progress == sorted(progress), f"progress went back: {progress}"
    assert progress[-1] == 100

    with http() as s:
        r = s.get(data["data"]["output"], timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text[:200]
        assert r.headers["Content-Type"] == "video/mp4"
        video = r.content
        # A player's range request: the same bytes.
        part = s.get(data["data"]["output"], headers={"Range": "bytes=1000-1999"}, timeout=HTTP_TIMEOUT)
        assert part.status_code == 206 and part.content == video[1000:2000]
        poster = s.get(data["data"]["thumbnail"], timeout=HTTP_TIMEOUT)
        assert poster.status_code == 200 and poster.content.startswith(PNG_SIGNATURE)
        assert png_size(poster.content) == size

    assert len(video) < 4_000_000, f"{len(video)} bytes for {duration} s of {resolution}"
    # moov before mdat: a browser can start playing while the rest arrives.
    assert video[4:8] == b"ftyp" and video.find(b"moov") < video.find(b"mdat")
    path = tmp_path / f"{tid}.mp4"
    path.write_bytes(video)

    info = probe(ffprobe, path)
    (stream,) = info["streams"]
    assert stream["codec_name"] == "h264", stream
    assert (stream["width"], stream["height"]) == size, stream
    assert abs(float(stream["duration"]) - duration) <= 1 / FPS, stream
    assert abs(float(info["format"]["duration"]) - duration) <= 1 / FPS, info["format"]
    assert int(stream["nb_frames"]) == duration * FPS, stream

    decode = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"],
                            capture_output=True, text=True, timeout=120)
    assert decode.returncode == 0 and decode.stderr == "", decode.stderr


def test_stats_count_video_calls(upstream):
    before = upstream.stats()
    tid = submit(upstream, duration=1)
    poll(upstream, tid)
    after = upstream.stats()
    assert after["video_submits"] == before["video_submits"] + 1, after
    assert after["video_fetches"] == before["video_fetches"] + 1, after
    assert after["injected_errors"]["video"] == 0 and after["injected_errors"]["video_fetch"] == 0, after

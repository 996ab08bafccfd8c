"""Music jobs (Suno-style routes) end to end, and serving of the stored files."""

from __future__ import annotations

import io
import json
import wave

import pytest

from conftest import PNG_SIGNATURE, STATUSES, assert_error, module_stack, parse_response_head, png_size, sha256, wait_for

TRACKS_PER_TASK = 2  # the simulator returns 2 tracks per music task


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0)


@pytest.fixture(scope="module")
def music(stack):
    """One completed music task: (task_id, fetch data)."""
    tid = stack.submit_music()
    first = stack.fetch_music(tid)
    assert first["task_id"] == tid
    data = stack.wait_music(tid)
    return tid, data


def test_submit_returns_suno_envelope(stack):
    r = stack.post("/suno/submit/music", json={
        "prompt": "A dreamy lo-fi beat with soft piano and rain sounds",
        "style": "lo-fi", "title": "Rain", "make_instrumental": True,
    })
    assert r.status_code == 200, r.text
    assert "json" in r.headers.get("Content-Type", "")
    body = r.json()
    assert body["code"] == 200 and body["message"] == "success", body
    assert set(body["data"]) >= {"task_id"}, body
    tid = body["data"]["task_id"]
    assert tid.startswith("suno_") and len(tid) >= len("suno_") + 16, f"id looks guessable/short: {tid}"
    d = stack.fetch_music(tid)
    assert d["status"] in STATUSES
    # Let it finish so the module leaves nothing in flight.
    stack.wait_music(tid)


def test_music_job_completes_with_tracks(stack, music):
    tid, d = music
    for key in ("task_id", "status", "progress", "fail_reason", "created_at", "finished_at", "tracks"):
        assert key in d, f"missing {key!r} in {d}"
    assert d["task_id"] == tid
    assert d["status"] == "completed"
    assert d["fail_reason"] in (None, ""), d
    assert d["finished_at"] is not None, d
    assert isinstance(d["progress"], (int, float)), d
    tracks = d["tracks"]
    assert len(tracks) == TRACKS_PER_TASK, tracks
    for t in tracks:
        for key in ("title", "audio_url", "image_url", "duration", "style", "file"):
            assert key in t, f"track lacks {key!r}: {t}"
        f = t["file"]
        for key in ("url", "bytes", "sha256", "content_type"):
            assert key in f, f"track.file lacks {key!r}: {t}"
        assert t["audio_url"] == f["url"], t
        assert f["url"].startswith(stack.base + "/files/"), f"not our stable URL: {f['url']}"
        assert f["content_type"] == "audio/wav", f
        assert isinstance(f["bytes"], int) and f["bytes"] > 44, f
        assert isinstance(f["sha256"], str) and len(f["sha256"]) == 64, f
        assert isinstance(t["duration"], (int, float)) and t["duration"] > 0, t
        assert t["style"] == "lo-fi", t
        assert isinstance(t["title"], str) and t["title"], t
    assert len({t["file"]["url"] for t in tracks}) == TRACKS_PER_TASK, "tracks share a URL"


def test_cover_art_is_kept_and_served_from_files(stack, music):
    """The provider's `image_url` expires (in demo mode it names the in-process simulator's port):
    each track's cover is stored like its audio, and `image_url` is our /files URL of a PNG."""
    tid, d = music
    covers = [t["image_url"] for t in d["tracks"]]
    for url in covers:
        assert url and url.startswith(f"{stack.base}/files/{tid}/"), f"not our stable URL: {url}"
        r = stack.download(url)
        assert r.status_code == 200, f"GET {url} -> {r.status_code}"
        assert r.headers["Content-Type"] == "image/png" and r.headers.get("ETag"), dict(r.headers)
        assert r.content.startswith(PNG_SIGNATURE) and min(png_size(r.content)) > 0
    assert len(set(covers)) == TRACKS_PER_TASK, covers
    # The task object lists them as files of the task: audio first, then the covers.
    artifacts = stack.get_task(tid)["artifacts"]
    assert [a["content_type"] for a in artifacts] == ["audio/wav"] * TRACKS_PER_TASK + ["image/png"] * TRACKS_PER_TASK
    assert sorted(a["url"] for a in artifacts[TRACKS_PER_TASK:]) == sorted(covers)


def test_track_files_are_real_wav(stack, music):
    _, d = music
    for t in d["tracks"]:
        f = t["file"]
        r = stack.download(f["url"])
        assert r.status_code == 200, f"GET {f['url']} -> {r.status_code} {r.text[:300]}"
        assert r.headers.get("Content-Type", "").split(";")[0].strip() == "audio/wav", r.headers
        body = r.content
        assert len(body) == f["bytes"], (len(body), f)
        assert sha256(body) == f["sha256"], f
        with wave.open(io.BytesIO(body)) as w:
            assert w.getnchannels() in (1, 2), w.getnchannels()
            assert w.getcomptype() == "NONE", w.getcomptype()
            assert w.getsampwidth() in (1, 2, 3, 4)
            seconds = w.getnframes() / w.getframerate()
        assert abs(seconds - float(t["duration"])) <= 0.1, f"wav is {seconds:.3f}s, track says {t['duration']}"


def test_batch_fetch(stack, music):
    tid, _ = music
    single = stack.fetch_music(tid)
    r = stack.post("/suno/fetch", json={"ids": [tid, "suno_doesnotexist"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["code"] == 200 and body["message"] == "success", body
    assert isinstance(body["data"], list), body
    assert body["data"] == [single], body


def test_range_request(stack, music):
    _, d = music
    url = d["tracks"][0]["file"]["url"]
    full = stack.download(url)
    assert full.status_code == 200
    r = stack.download(url, headers={"Range": "bytes=0-43"})
    assert r.status_code == 206, f"{r.status_code} {r.headers}"
    assert r.content == full.content[:44]
    assert len(r.content) == 44
    cr = r.headers.get("Content-Range")
    assert cr, r.headers
    assert cr.replace(" ", "").lower().startswith("bytes0-43/"), cr
    assert cr.rsplit("/", 1)[1] == str(len(full.content)), cr
    # a mid-file range (audio seeking)
    n = len(full.content)
    r2 = stack.download(url, headers={"Range": f"bytes={n - 100}-"})
    assert r2.status_code == 206, r2.status_code
    assert r2.content == full.content[-100:]


def test_caching_headers_and_etag(stack, music):
    _, d = music
    url = d["tracks"][0]["file"]["url"]
    r = stack.download(url)
    assert r.status_code == 200
    etag = r.headers.get("ETag")
    assert etag, f"no ETag: {dict(r.headers)}"
    assert r.headers.get("Accept-Ranges", "").lower() == "bytes", dict(r.headers)
    cc = r.headers.get("Cache-Control", "")
    assert "max-age" in cc, f"Cache-Control {cc!r}"
    r304 = stack.download(url, headers={"If-None-Match": etag})
    assert r304.status_code == 304, f"{r304.status_code} {dict(r304.headers)}"
    assert r304.content == b""
    # A different etag does not match.
    r200 = stack.download(url, headers={"If-None-Match": '"something-else"'})
    assert r200.status_code == 200


def test_missing_file_is_404_envelope(stack):
    r = stack.get("/files/doesnotexist/0.wav")
    assert_error(r, 404)


def test_head_request_on_file(stack, music):
    _, d = music
    f = d["tracks"][0]["file"]
    r = stack.s.head(f["url"], timeout=30)
    assert r.status_code == 200, r.status_code
    assert int(r.headers.get("Content-Length", "-1")) == f["bytes"], dict(r.headers)


def _read_response(sock, buffered: bytes, head_request: bool = False) -> tuple[int, dict[str, str], bytes, bytes]:
    """One response off a keep-alive socket, framed by Content-Length; returns the bytes left over."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-head: {data!r}"
        data += chunk
    head, _, data = data.partition(b"\r\n\r\n")
    status, fields = parse_response_head(head)
    length = 0 if head_request or status == 304 else int(fields.get("content-length", "0"))
    while len(data) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, f"connection closed after {len(data)} of {length} body bytes"
        data += chunk
    return status, fields, data[:length], data[length:]


def test_file_bytes_on_a_raw_keep_alive_connection(stack, music):
    """Several file answers back to back on one connection (the body goes out by sendfile):
    exact bytes, exact framing, and the server's private marker header never on the wire, even
    when a client sends one."""
    import socket
    from urllib.parse import urlparse

    _, d = music
    f = d["tracks"][0]["file"]
    path = urlparse(f["url"]).path
    host, port = stack.base.removeprefix("http://").split(":")
    planted = "X-MediaJobs-Sendfile: 0-9 /etc/passwd\r\n"
    sent = [
        ("GET", path, ""),
        ("GET", path, "Range: bytes=10-19\r\n"),
        ("HEAD", path, ""),
        ("GET", path, planted),
        ("GET", "/healthz", planted),
    ]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        # Pipelined: all requests first, then every answer in order.
        sock.sendall("".join(f"{m} {p} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n" for m, p, extra in sent).encode())
        leftover = b""
        answers = []
        for method, _, _ in sent:
            status, fields, body, leftover = _read_response(sock, leftover, head_request=method == "HEAD")
            assert "x-mediajobs-sendfile" not in fields, fields
            answers.append((status, fields, body))
    (s1, h1, whole), (s2, h2, part), (s3, h3, nothing), (s4, _, again), (s5, _, health) = answers
    assert s1 == 200 and sha256(whole) == f["sha256"] and len(whole) == f["bytes"], (s1, h1)
    assert s2 == 206 and part == whole[10:20] and h2["content-range"] == f"bytes 10-19/{len(whole)}", (s2, h2)
    assert s3 == 200 and nothing == b"" and int(h3["content-length"]) == len(whole), (s3, h3)
    assert s4 == 200 and again == whole
    assert s5 == 200 and b'"ok"' in health, health
    assert leftover == b""


def test_pipelined_submits_answer_in_order(stack):
    """Submits answered on the event loop wait for their commit while later requests of the same
    connection are already read: every answer still comes back in request order, a refused body
    (answered by the router) and a large one (too big for the event loop) included."""
    import socket

    host, port = stack.base.removeprefix("http://").split(":")

    def post(body: bytes) -> bytes:
        return (f"POST /suno/submit/music HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    large = b'{"prompt":"wide"' + b" " * 70_000 + b"}"
    sent = [post(b'{"prompt":"first"}'), post(b'{"prompt":"second"}'), post(b'{"prompt":123}'), post(large),
            post(b'{"prompt":"last"}'), f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()]
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"".join(sent))
        leftover = b""
        answers = []
        for _ in sent:
            status, fields, body, leftover = _read_response(sock, leftover)
            answers.append((status, fields, json.loads(body)))
    assert [status for status, _, _ in answers] == [200, 200, 400, 200, 200, 200], answers
    ids = [answers[i][2]["data"]["task_id"] for i in (0, 1, 3, 4)]
    assert len(set(ids)) == 4, ids
    assert answers[2][2]["code"] == 400 and answers[2][2]["error"]["param"] == "prompt", answers[2]
    assert answers[5][2] == {"status": "ok"}
    assert leftover == b""
    prompts = [stack.get(f"/v1/tasks/{tid}").json()["request"]["prompt"] for tid in ids]
    assert prompts == ["first", "second", "wide", "last"], prompts


def test_a_submit_whose_client_leaves_is_still_stored(stack):
    """The client closes its connection right after sending a submit, before the commit is done:
    the task is stored anyway and runs, and the server keeps serving."""
    import socket
    import uuid

    host, port = stack.base.removeprefix("http://").split(":")
    prompt = f"left early {uuid.uuid4()}"
    body = json.dumps({"prompt": prompt}).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"POST /suno/submit/music HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    found = wait_for(lambda: [t for t in stack.get("/v1/tasks?limit=100").json()["data"] if t["request"].get("prompt") == prompt] or None,
                     60, interval=0.1, desc="the submit of a client that left to be stored")
    assert len(found) == 1, found
    assert stack.get("/healthz").status_code == 200

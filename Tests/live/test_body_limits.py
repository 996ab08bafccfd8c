"""A body over `--max-body-size` gets its 413 at once, never a hang.

Most clients (Python's urllib, many HTTP libraries) send no `Expect: 100-continue` and read no
answer before their whole body is sent. The server answers 413 with the error envelope and
`Connection: close`, reads and drops the rest of the body (up to a bound), then closes. Each
test runs against the default server (hot routes answered on the event loop) and one started
with `--route-all-requests`; the limit is the default, 1 MB.

Every socket has a timeout: a server that stopped reading would make the client's send or
receive time out, which fails the test (no sleeps).
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from conftest import module_stack, parse_response_head

LIMIT = 1_000_000
MUSIC = "/suno/submit/music"
IMG = "/v1/images/generations"
PATHS = [MUSIC, IMG]
SIZES = {"just-over": LIMIT + 1, "5MB": 5_000_000, "50MB": 50_000_000}
# Long enough for 50 MB over loopback on a busy machine, far shorter than a hang.
TIMEOUT = 10.0


@pytest.fixture(scope="module", params=["event-loop", "router"])
def stack(request, tmp_path_factory, mediajobs_bin):
    args = ["--route-all-requests"] if request.param == "router" else []
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0, serve_args=args)


def json_body(size: int) -> bytes:
    """A valid submit body of exactly `size` bytes (a prompt padded to fit)."""
    head, tail = b'{"prompt":"', b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def host_port(stack) -> tuple[str, int]:
    return "127.0.0.1", stack.server.port


def assert_refused(status: int, headers: dict[str, str], body: bytes, path: str) -> None:
    """413, `Connection: close`, and the error envelope (with the Suno fields on /suno/*)."""
    assert status == 413, (status, headers, body[:300])
    assert headers.get("connection", "").lower() == "close", headers
    assert headers.get("content-type", "").startswith("application/json"), headers
    envelope = json.loads(body)
    assert envelope["error"]["code"] == "body_too_large", envelope
    assert envelope["error"]["type"] == "invalid_request_error", envelope
    if path.startswith("/suno/"):
        assert envelope["code"] == 413 and envelope["message"], envelope
    else:
        assert "code" not in envelope, envelope


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a timeout raises and fails the test)."""
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, f"no complete response head: {raw[:300]!r}"
    status, headers = parse_response_head(head)
    length = int(headers.get("content-length", len(body)))
    assert len(body) == length, (headers, body[:300])
    return status, headers, body


def send_raw(stack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(host_port(stack), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        return split_response(read_until_closed(sock))


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("path", PATHS)
def test_urllib_gets_the_413_at_once(stack, path, size):
    request = urllib.request.Request(stack.base + path, data=json_body(size), headers={"Content-Type": "application/json"})
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    error = refused.value
    headers = {name.lower(): value for name, value in error.headers.items()}
    assert_refused(error.code, headers, error.read(), path)
    assert time.monotonic() - started < TIMEOUT


@pytest.mark.parametrize("connection", ["keep-alive", "close"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("path", PATHS)
def test_raw_socket_with_content_length_gets_the_413_then_the_close(stack, path, size, connection):
    body = json_body(size)
    head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: {connection}\r\n\r\n").encode()
    assert_refused(*send_raw(stack, head + body), path)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("path", PATHS)
def test_chunked_body_crossing_the_limit_gets_the_413_then_the_close(stack, path, size):
    body = json_body(size)
    chunk = 64 * 1024
    parts = [f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n".encode()]
    for start in range(0, len(body), chunk):
        piece = body[start:start + chunk]
        parts.append(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    parts.append(b"0\r\n\r\n")
    assert_refused(*send_raw(stack, b"".join(parts)), path)


def test_a_client_that_waits_for_100_continue_gets_the_413_without_sending(stack):
    # What curl does: the answer comes from the head alone, and the body is never sent.
    head = (f"POST {MUSIC} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            f"Content-Length: {5_000_000}\r\nExpect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(host_port(stack), timeout=TIMEOUT) as sock:
        sock.sendall(head)
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = sock.recv(65536)
            assert chunk, f"closed before an answer: {raw!r}"
            raw += chunk
        status, headers = parse_response_head(raw.partition(b"\r\n\r\n")[0])
        assert status == 413 and headers.get("connection") == "close", (status, headers)


def test_the_server_stays_healthy_afterwards(stack):
    for path in PATHS:
        body = json_body(5_000_000)
        head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        assert send_raw(stack, head + body)[0] == 413
    assert stack.get("/healthz").status_code == 200
    stack.wait_music(stack.submit_music(prompt="after the refused bodies"))
    stack.wait_task(stack.submit_image_async(prompt="after the refused bodies")["id"])


@pytest.mark.parametrize("mode", ["event-loop", "router"])
def test_an_answer_before_the_body_ends_does_not_stall_the_client(stack_factory, mode):
    # Within the limit, on a route that answers without reading the body (an unknown path):
    # urllib says `Connection: close`, so the server reads and drops the rest before closing.
    args = ["--max-body-size", "40MB"] + (["--route-all-requests"] if mode == "router" else [])
    other = stack_factory(f"lenient-{mode}", serve_args=args)
    request = urllib.request.Request(other.base + "/v1/nope", data=json_body(30_000_000), headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=TIMEOUT)
    assert refused.value.code == 404
    assert json.loads(refused.value.read())["error"]["type"] == "not_found_error"

"""Fixtures and helpers for the process-level live suite.

The suite starts the real `mediajobs` binary (path from $MEDIAJOBS_BIN, default
<repo>/.build/debug/mediajobs) as subprocesses on loopback only:

  * `mediajobs simulate-upstream` -- the ApiTopMix simulator (the "upstream"),
  * `mediajobs serve`             -- the service under test, pointed at it.

Every process writes stdout+stderr to a log file in the test's tmp dir; when a
test fails, the tail of every log of the servers it used is attached to the
report ("server log" sections).

Nothing here sleeps for a fixed time: waiting is done with `wait_for`, which
polls a predicate until a deadline. Nothing depends on luck either: ports are
held from the moment they are chosen (`PortReservation`) or picked by the
kernel and read back from the log, and the simulator's faults are exact
(`fail_first`, `fail_first_tasks`) or drawn from a fixed `seed`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

import pytest
import requests

# Loopback only: never let a proxy setting route test traffic elsewhere.
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = "127.0.0.1,localhost,::1"
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "mediajobs"

# Deadlines are generous on purpose: they only bound a wait that normally ends far sooner, and a
# debug build on a loaded 2-core CI machine (five builds at once) can be many times slower.
HEALTH_DEADLINE = 60.0  # seconds to wait for /healthz
POLL = 0.05  # seconds between polls
STOP_GRACE = 10.0  # SIGTERM -> SIGKILL
HTTP_TIMEOUT = 60.0  # per request

# The service's own poll interval towards the upstream. Not part of the
# contract's defaults; set short so music jobs finish soon after the simulator
# says so and the whole suite stays within a few minutes.
SERVE_POLL_INTERVAL = "250ms"

TERMINAL = {"completed", "failed", "canceled"}
STATUSES = {"queued", "processing", "downloading", "completed", "failed", "canceled"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


class PortReservation:
    """A loopback port held for a server that binds it later, or binds it again after a restart.

    Choosing a free port and binding it later is a race: meanwhile another test, or the kernel
    handing out the source port of some outgoing connection, can take it. A reservation closes
    the window. Its socket is bound without SO_REUSEADDR (so the kernel picks a port nobody
    holds, and no other reservation or plain bind can share it) and then marked SO_REUSEADDR
    without ever listening. Linux then lets a server that also sets SO_REUSEADDR (Hummingbird
    and Python's http.server do) bind the same port while the reservation is held, and
    connections to it are refused while no server listens, exactly as for a server that is down.
    """

    def __init__(self, for_this_test: bool = False) -> None:
        """`for_this_test`: released when the current test ends; otherwise by its owner (`release`)."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port: int = self.sock.getsockname()[1]
        self._item: Optional[str] = _CURRENT_ITEM[0] if for_this_test else None
        _RESERVATIONS.append(self)

    def release(self) -> None:
        self.sock.close()
        with contextlib.suppress(ValueError):
            _RESERVATIONS.remove(self)


_RESERVATIONS: list[PortReservation] = []


def free_port() -> int:
    """A loopback port held (see `PortReservation`) until the end of the current test."""
    return PortReservation(for_this_test=True).port


def http() -> requests.Session:
    """A requests session that ignores proxy/netrc settings from the environment."""
    s = requests.Session()
    s.trust_env = False
    return s


class WaitTimeout(AssertionError):
    pass


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    interval: float = POLL,
    desc: str = "condition",
) -> Any:
    """Poll `predicate` until it returns a truthy value or `timeout` passes.

    Returns the truthy value. Exceptions raised by the predicate propagate
    (a predicate that can fail transiently must handle that itself). On
    timeout raises an AssertionError that shows the last value seen.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:.1f}s waiting for {desc}; last value: {_short(last)}")
        time.sleep(interval)


def hold_for(predicate: Callable[[], Any], duration: float, interval: float = 0.1, desc: str = "condition") -> None:
    """Assert that `predicate` stays truthy for `duration` seconds (polled).

    Only for "nothing else happens", which has no event to wait for; callers say why the window suffices.
    """
    deadline = time.monotonic() + duration
    while True:
        value = predicate()
        assert value, f"{desc} stopped holding: {_short(value)}"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def _short(value: Any, limit: int = 2000) -> str:
    try:
        text = json.dumps(value, default=str)
    except Exception:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...(cut)"


def tail(path: Path, lines: int = 60) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"<{path} does not exist>"
    text = data[-200_000:].decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_response_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status and lower-cased header fields of a raw HTTP/1.1 response head (without the blank line)."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), fields


def established_connections_to(port: int) -> int:
    """Number of ESTABLISHED TCP connections (on this machine) whose remote end
    is 127.0.0.1:`port` / [::1]:`port` -- i.e. open client connections to a
    local server. Linux only (/proc/net/tcp*)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; asserts the PNG signature."""
    assert data[:8] == PNG_SIGNATURE, f"not a PNG: first bytes {data[:16]!r}"
    length, ctype = struct.unpack(">I4s", data[8:16])
    assert ctype == b"IHDR" and length == 13, f"first chunk is not IHDR: {ctype!r} len {length}"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

_ALL_PROCS: list["Proc"] = []
_CURRENT_ITEM: list[Optional[str]] = [None]  # nodeid of the test being run


class Proc:
    """One mediajobs subprocess with its log file (stdout+stderr, appended)."""

    def __init__(self, name: str, argv: list[str], log_path: Path):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.popen: Optional[subprocess.Popen] = None
        self._item: Optional[str] = _CURRENT_ITEM[0]
        _ALL_PROCS.append(self)

    def start(self) -> None:
        assert not self.running, f"{self.name} already running"
        self._item = _CURRENT_ITEM[0]
        if self not in _ALL_PROCS:
            _ALL_PROCS.append(self)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} start: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self.popen.pid if self.popen else None

    def stop(self, grace: float = STOP_GRACE) -> Optional[int]:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._note(f"did not exit within {grace}s of SIGTERM; sending SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=10)
        return self.popen.returncode

    def kill9(self) -> None:
        """SIGKILL now (simulated crash) and reap."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self._note("kill -9")
            with contextlib.suppress(ProcessLookupError):
                self.popen.kill()
        self.popen.wait(timeout=10)

    def _note(self, msg: str) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} [test harness] {msg}\n".encode())

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)


def _wait_http(proc: Proc, url: str, want_200: bool, deadline: float = HEALTH_DEADLINE) -> None:
    """Wait until `url` answers (200 if want_200, any HTTP status otherwise)."""
    with http() as s:
        _poll_http(proc, s, url, want_200, deadline)


def _poll_http(proc: Proc, s: requests.Session, url: str, want_200: bool, deadline: float) -> None:
    end = time.monotonic() + deadline
    last = "no answer"
    while True:
        if not proc.running:
            code = proc.popen.returncode if proc.popen else None
            raise AssertionError(
                f"{proc.name} exited (code {code}) before {url} answered.\n--- {proc.log_path} (tail) ---\n{proc.tail()}"
            )
        try:
            r = s.get(url, timeout=2, headers={"Connection": "close"})
            if r.status_code == 200 or not want_200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as e:
            last = f"{type(e).__name__}"
        if time.monotonic() >= end:
            raise AssertionError(
                f"{proc.name}: {url} not ready within {deadline}s (last: {last}).\n"
                f"--- {proc.log_path} (tail) ---\n{proc.tail()}"
            )
        time.sleep(POLL)


# "upstream simulator listening" with the bound address, e.g. `address=[IPv4]127.0.0.1/127.0.0.1:40513`.
_LISTENING = re.compile(r"upstream simulator listening.*?address=\S*?:(\d+)|address=\S*?:(\d+).*?upstream simulator listening")


def fail_first_arg(counts: dict[str, int]) -> str:
    """{"submit": 2, "fetch": 1} -> "submit=2,fetch=1" (the simulator's --fail-first)."""
    return ",".join(f"{kind}={n}" for kind, n in counts.items())


class Upstream:
    """`mediajobs simulate-upstream` on a loopback port the kernel picks (`--port 0`), read back
    from its log. Its faults are exact (`fail_first`, `fail_first_tasks`) or drawn from `seed`."""

    # A rate without a seed would be a different run each time: the suite always fixes it.
    DEFAULT_SEED = 1

    def __init__(self, binary: str, workdir: Path, latency: str = "1s", failure_rate: float = 0,
                 error_rate: Optional[float] = None, track_duration: Optional[str] = None,
                 seed: int = DEFAULT_SEED, fail_first: Optional[dict[str, int]] = None,
                 fail_first_tasks: int = 0, extra: Iterable[str] = ()):
        self.port: Optional[int] = None
        self.url = ""
        argv = [binary, "simulate-upstream", "--host", "127.0.0.1", "--port", "0",
                "--latency", latency, "--failure-rate", _num(failure_rate), "--seed", str(seed)]
        if error_rate is not None:
            argv += ["--error-rate", _num(error_rate)]
        if fail_first:
            argv += ["--fail-first", fail_first_arg(fail_first)]
        if fail_first_tasks:
            argv += ["--fail-first-tasks", str(fail_first_tasks)]
        if track_duration is not None:
            argv += ["--track-duration", track_duration]
        argv += list(extra)
        self.proc = Proc("upstream", argv, workdir / "upstream.log")

    def start(self) -> "Upstream":
        self.proc.start()
        self.port = int(wait_for(lambda: self._bound_port(), HEALTH_DEADLINE, desc="the simulator's 'listening' log line"))
        self.url = f"http://127.0.0.1:{self.port}"
        # The line is logged once the socket listens; any HTTP answer confirms it.
        _wait_http(self.proc, f"{self.url}/healthz", want_200=False)
        return self

    def _bound_port(self) -> Optional[str]:
        if not self.proc.running:
            raise AssertionError(f"upstream exited before it listened.\n--- {self.proc.log_path} (tail) ---\n{self.proc.tail()}")
        # Only this run's lines: the log file is appended to across restarts.
        run = self.proc.log_text().rsplit("===== ", 1)[-1]
        match = _LISTENING.search(run)
        return (match.group(1) or match.group(2)) if match else None

    def stats(self) -> dict:
        """The simulator's `GET /_stats`: calls served and faults injected so far."""
        with http() as s:
            r = s.get(f"{self.url}/_stats", timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self) -> None:
        self.proc.stop()


class Server:
    """`mediajobs serve` on a fixed loopback port and data dir; can be stopped,
    killed (-9) and restarted on the same port and data dir.

    The port is reserved (`PortReservation`) for the server's whole life, not read back from the
    log after `--port 0`: its public URL is a flag given up front, and a restart must find the
    same port free."""

    def __init__(self, binary: str, workdir: Path, upstream_url: Optional[str] = None,
                 extra: Iterable[str] = (), name: str = "serve", poll_interval: Optional[str] = SERVE_POLL_INTERVAL):
        self.reservation = PortReservation()
        self.port = self.reservation.port
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [binary, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir), "--public-url", self.base]
        if upstream_url:
            argv += ["--upstream-url", upstream_url]
        if poll_interval:
            # Tasks here take a second or two, far below what the schedule assumes before it has
            # learned anything: the ceiling keeps each test's first tasks from waiting for it.
            argv += ["--poll-interval", poll_interval, "--max-poll-interval", "1s"]
        argv += list(extra)
        self.proc = Proc(name, argv, workdir / f"{name}.log")
        self.starts = 0

    # lifecycle -----------------------------------------------------------
    def start(self) -> "Server":
        self.proc.start()
        self.starts += 1
        _wait_http(self.proc, f"{self.base}/healthz", want_200=True)
        return self

    def stop(self) -> Optional[int]:
        return self.proc.stop()

    def kill9(self) -> None:
        self.proc.kill9()

    def restart(self) -> "Server":
        if self.proc.running:
            self.stop()
        return self.start()

    @property
    def log_text(self) -> str:
        return self.proc.log_text()

    # API helpers -----------------------------------------------------------
    def url(self, path: str) -> str:
        return self.base + path


def _num(x: float) -> str:
    return format(x, "g")


class Stack:
    """An upstream simulator plus a server pointed at it (or a demo-mode server)."""

    def __init__(self, upstream: Optional[Upstream], server: Server, workdir: Path):
        self.upstream = upstream
        self.server = server
        self.workdir = workdir
        self.s = http()

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def procs(self) -> list[Proc]:
        return [p for p in (self.server.proc, self.upstream.proc if self.upstream else None) if p]

    def stop(self) -> None:
        # Server first (it may have calls in flight to the upstream).
        errors = []
        for p in (self.server.proc, self.upstream.proc if self.upstream else None):
            if p is None:
                continue
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                errors.append(f"{p.name}: {e!r}")
        self.s.close()
        self.server.reservation.release()
        if errors:
            raise AssertionError("teardown problems: " + "; ".join(errors))

    # ------------------------------------------------------------------
    # API helpers shared by the tests
    # ------------------------------------------------------------------
    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.s.get(self.base + path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.s.post(self.base + path, **kw)

    def download(self, url: str, **kw) -> requests.Response:
        assert url.startswith(self.base + "/"), f"url {url!r} is not under {self.base}"
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.s.get(url, **kw)

    def submit_music(self, prompt: str = "A dreamy lo-fi beat with soft piano and rain sounds",
                     **fields: Any) -> str:
        body = {"prompt": prompt, "style": "lo-fi", "title": "Rain", "make_instrumental": True}
        body.update(fields)
        r = self.post("/suno/submit/music", json=body)
        assert r.status_code == 200, f"submit music -> {r.status_code} {r.text}"
        j = r.json()
        assert j.get("code") == 200 and j.get("message") == "success", j
        tid = j["data"]["task_id"]
        assert isinstance(tid, str) and tid.startswith("suno_"), j
        return tid

    def fetch_music(self, tid: str) -> dict:
        r = self.get(f"/suno/fetch/{tid}")
        assert r.status_code == 200, f"GET /suno/fetch/{tid} -> {r.status_code} {r.text}"
        j = r.json()
        assert j.get("code") == 200 and j.get("message") == "success", j
        d = j["data"]
        assert d["status"] in STATUSES, d
        return d

    def wait_music(self, tid: str, timeout: float = 60.0, want: Optional[str] = "completed") -> dict:
        d = wait_for(lambda: (lambda x: x if x["status"] in TERMINAL else None)(self.fetch_music(tid)),
                     timeout, interval=0.1, desc=f"music task {tid} to finish")
        if want:
            assert d["status"] == want, f"task {tid} ended {d['status']!r}, wanted {want!r}: {d}"
        return d

    def submit_image_async(self, prompt: str = "A red fox in the snow, watercolor", n: int = 1,
                           size: str = "256x256", **fields: Any) -> dict:
        body = {"model": "nano-banana-2", "prompt": prompt, "n": n, "size": size}
        body.update(fields)
        r = self.post("/v1/images/generations", json=body, headers={"Prefer": "respond-async"})
        assert r.status_code == 202, f"async image -> {r.status_code} {r.text}"
        j = r.json()
        assert isinstance(j.get("id"), str) and j["id"].startswith("img_"), j
        assert j.get("object") == "image.generation.task", j
        assert j.get("status") in STATUSES, j
        return j

    def get_task(self, tid: str) -> dict:
        r = self.get(f"/v1/tasks/{tid}")
        assert r.status_code == 200, f"GET /v1/tasks/{tid} -> {r.status_code} {r.text}"
        return r.json()

    def wait_task(self, tid: str, timeout: float = 60.0, want: Optional[str] = "completed") -> dict:
        t = wait_for(lambda: (lambda x: x if x["status"] in TERMINAL else None)(self.get_task(tid)),
                     timeout, interval=0.1, desc=f"task {tid} to finish")
        if want:
            assert t["status"] == want, f"task {tid} ended {t['status']!r}, wanted {want!r}: {t}"
        return t

    def list_tasks(self, **params: Any) -> dict:
        r = self.get("/v1/tasks", params=params)
        assert r.status_code == 200, f"GET /v1/tasks {params} -> {r.status_code} {r.text}"
        j = r.json()
        assert j.get("object") == "list", j
        return j

    def all_tasks(self, limit: int = 100, **params: Any) -> list[dict]:
        out: list[dict] = []
        after = None
        for _ in range(1000):
            q = dict(params, limit=limit)
            if after:
                q["after"] = after
            page = self.list_tasks(**q)
            out += page["data"]
            if not page["has_more"]:
                return out
            after = page["next_cursor"]
            assert after, page
        raise AssertionError("paging did not end")

    def openai(self, **kw):
        import openai

        kw.setdefault("timeout", HTTP_TIMEOUT)
        return openai.OpenAI(base_url=f"{self.base}/v1", api_key="sk-test", **kw)


def assert_error(r: requests.Response, status: int, type_: Optional[str] = None, suno: bool = False) -> dict:
    """The response is `status` with the error envelope
    {"error": {"message": str, "type": str, "code": ...}} (plus top-level
    "code"/"message" on the /suno/* routes)."""
    assert r.status_code == status, f"{r.request.method} {r.url}: want {status}, got {r.status_code}: {r.text[:500]}"
    ctype = r.headers.get("Content-Type", "")
    assert "json" in ctype, f"error body is not JSON (Content-Type {ctype!r}): {r.text[:300]}"
    try:
        body = r.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {r.text[:300]}")
    err = body.get("error") if isinstance(body, dict) else None
    assert isinstance(err, dict), f"no error object: {body}"
    assert isinstance(err.get("message"), str) and err["message"], f"error.message: {body}"
    assert isinstance(err.get("type"), str) and err["type"], f"error.type: {body}"
    assert "code" in err, f"error.code missing: {body}"
    if type_ is not None:
        assert err["type"] == type_, f"error.type {err['type']!r}, wanted {type_!r}: {body}"
    if suno:
        assert body.get("code") == status, f"suno route: top-level code should be {status}: {body}"
        assert isinstance(body.get("message"), str) and body["message"], f"suno route: top-level message: {body}"
    return body


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mediajobs_bin() -> str:
    path = os.environ.get("MEDIAJOBS_BIN") or str(DEFAULT_BIN)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"mediajobs binary not found or not executable at {path!r} "
                    f"(build it with `swift build`, or set MEDIAJOBS_BIN)", pytrace=False)
    return path


@contextlib.contextmanager
def launch_stack(binary: str, workdir: Path, *, latency: str = "1s", failure_rate: float = 0,
                 error_rate: Optional[float] = None, track_duration: Optional[str] = None,
                 seed: int = Upstream.DEFAULT_SEED, fail_first: Optional[dict[str, int]] = None,
                 fail_first_tasks: int = 0, serve_args: Iterable[str] = (), demo: bool = False,
                 poll_interval: Optional[str] = SERVE_POLL_INTERVAL) -> Iterator[Stack]:
    """Start (simulator +) server, yield the Stack, stop both at exit. The simulator options
    (`latency` … `fail_first_tasks`) are those of `Upstream`; a demo stack takes its simulator
    flags (`--simulator-*`) in `serve_args`."""
    workdir.mkdir(parents=True, exist_ok=True)
    upstream = None
    server = None
    stack = None
    try:
        if not demo:
            upstream = Upstream(binary, workdir, latency=latency, failure_rate=failure_rate,
                                error_rate=error_rate, track_duration=track_duration, seed=seed,
                                fail_first=fail_first, fail_first_tasks=fail_first_tasks)
            upstream.start()
        server = Server(binary, workdir, upstream_url=upstream.url if upstream else None,
                        extra=serve_args, poll_interval=poll_interval)
        stack = Stack(upstream, server, workdir)
        server.start()
        yield stack
    finally:
        if stack is not None:
            stack.stop()
        else:
            for p in (server.proc if server else None, upstream.proc if upstream else None):
                if p is not None:
                    p.stop()
            if server is not None:
                server.reservation.release()


@pytest.fixture
def stack_factory(mediajobs_bin, tmp_path):
    """Function-scoped: `stack_factory(name, **launch_stack kwargs)` -> started Stack,
    stopped at the end of the test (or earlier with `.stop()`)."""
    with contextlib.ExitStack() as es:
        def make(name: str = "stack", **kw) -> Stack:
            return es.enter_context(launch_stack(mediajobs_bin, tmp_path / name, **kw))
        yield make


def module_stack(request, tmp_path_factory, binary: str, **kw) -> Iterator[Stack]:
    """Body of a module-scoped stack fixture (see the test modules)."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    with launch_stack(binary, tmp_path_factory.mktemp(name), **kw) as st:
        yield st


RECEIVER = REPO_ROOT / "webhooks" / "receiver.py"


class Receiver:
    """webhooks/receiver.py on a loopback port, logging one JSON line per request."""

    def __init__(self, workdir: Path, *extra: str, secret: str, port: int | None = None, name: str = "receiver"):
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.log = workdir / f"{name}.jsonl"
        argv = [sys.executable, str(RECEIVER), "--port", str(self.port), "--secret", secret, "--log", str(self.log), *extra]
        self.proc = Proc(name, argv, workdir / f"{name}.stderr")

    def start(self) -> "Receiver":
        self.proc.start()
        wait_for(lambda: "listening" in self.proc.log_text(), 60, desc="receiver to listen")
        return self

    def entries(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.proc.stop()



# --------------------------------------------------------------------------
# attach server log tails to failing tests
# --------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    # Logs of processes that are alive now, or were started/stopped during this
    # item (the crash test kills and restarts; function fixtures stop after).
    seen = set()
    for p in list(_ALL_PROCS):
        if p.log_path in seen:
            continue
        if p.running or p._item == item.nodeid:
            seen.add(p.log_path)
            report.sections.append((f"server log tail: {p.name} ({p.log_path})", p.tail(80)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _CURRENT_ITEM[0] = item.nodeid
    # Forget processes that are gone and belonged to earlier items; tag the
    # ones still running (module-scoped stacks) with this item.
    for p in list(_ALL_PROCS):
        if p.running:
            p._item = item.nodeid
        elif p._item != item.nodeid:
            _ALL_PROCS.remove(p)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    # After the test's fixtures are gone (receivers stopped): free the ports it held with `free_port()`.
    for reservation in [r for r in _RESERVATIONS if r._item == item.nodeid]:
        reservation.release()


def pytest_sessionfinish(session, exitstatus):
    # Safety net: nothing we started outlives the session.
    for p in list(_ALL_PROCS):
        if p.running:
            with contextlib.suppress(Exception):
                p.stop(grace=5)
    for reservation in list(_RESERVATIONS):
        reservation.release()

"""Several `serve` instances on one PostgreSQL database and one shared media directory: one queue,
and any instance can die (kill -9), pause past its lease (SIGSTOP) or lose the database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from conftest import HTTP_TIMEOUT, TERMINAL, Receiver, Server, Upstream, assert_error, http, sha256, wait_for

LEASE = "3s"
LEASE_SECONDS = 3.0


def _database_env() -> tuple[str, str]:
    url = os.environ.get("MEDIAJOBS_TEST_DATABASE_URL")
    control = os.environ.get("MEDIAJOBS_TEST_DATABASE_CONTROL")
    if not url or not control:
        pytest.fail("MEDIAJOBS_TEST_DATABASE_URL and MEDIAJOBS_TEST_DATABASE_CONTROL are not set: run these tests "
                    "through scripts/test, which starts a throwaway PostgreSQL cluster", pytrace=False)
    return url, control


def psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def fresh_database() -> str:
    """A new, empty database on the test cluster; its URL."""
    url, _ = _database_env()
    name = "mj_" + uuid.uuid4().hex[:12]
    psql(url, f"CREATE DATABASE {name}")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


class Cluster:
    """Instances of `serve` sharing one database, one media directory and one simulator."""

    def __init__(self, binary: str, workdir: Path, count: int = 3, extra: tuple[str, ...] = ()):
        self.binary = binary
        self.workdir = workdir
        self.database_url = fresh_database()
        self.upstream = Upstream(binary, workdir, latency="2s", track_duration="1s").start()
        self.receiver: Optional[Receiver] = None
        self.extra = extra
        # One workdir: one shared data directory (workdir/data), one log per instance.
        self.servers = [
            Server(binary, workdir, upstream_url=self.upstream.url, name=f"serve-{k}",
                   extra=["--database-url", self.database_url, "--lease-duration", LEASE, "--allow-private-networks", *extra])
            for k in range(count)
        ]

    def stop(self) -> None:
        for server in self.servers:
            if server.proc.popen is not None and server.proc.running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(server.proc.popen.pid, signal.SIGCONT)
            server.stop()
            server.reservation.release()
        if self.receiver is not None:
            self.receiver.stop()
        self.upstream.stop()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args, "--database-url", self.database_url, "--data-dir", str(self.servers[0].data_dir)],
                              capture_output=True, text=True, timeout=60)


@pytest.fixture
def cluster_factory(mediajobs_bin, tmp_path) -> Iterator:
    made: list[Cluster] = []

    def make(name: str = "cluster", **kw) -> Cluster:
        cluster = Cluster(mediajobs_bin, tmp_path / name, **kw)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


def submit_music(server: Server, prompt: str, **headers: str) -> requests.Response:
    with http() as s:
        return s.post(server.url("/suno/submit/music"), json={"prompt": prompt}, headers=headers, timeout=HTTP_TIMEOUT)


def submit_image(server: Server, prompt: str, n: int) -> requests.Response:
    with http() as s:
        return s.post(server.url("/v1/images/generations"), json={"model": "nano-banana-2", "prompt": prompt, "n": n, "size": "256x256"},
                      headers={"Prefer": "respond-async"}, timeout=HTTP_TIMEOUT)


def get_task(server: Server, task_id: str) -> dict:
    with http() as s:
        r = s.get(server.url(f"/v1/tasks/{task_id}"), timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, f"{task_id}: {r.status_code} {r.text}"
    return r.json()


def temporary_files(data_dir: Path) -> list[Path]:
    """Downloads in progress under tmp/ (each live instance also keeps its folder's lock file)."""
    root = data_dir / "tmp"
    return [Path(d) / f for d, _, files in os.walk(root) for f in files if f != ".instance.lock"] if root.exists() else []


def test_three_instances_survive_kill_and_pause(cluster_factory):
    cluster = cluster_factory("chaos")
    first, second, third = cluster.servers
    first.start()
    # No --webhook-secret: the first instance generates one and keeps it in the database; every
    # instance signs with it, so one receiver verifies them all.
    secret = psql(cluster.database_url, "SELECT value FROM service_settings WHERE name = 'webhook_secret'")
    assert secret.startswith("whsec_"), secret
    cluster.receiver = Receiver(cluster.workdir / "receivers", secret=secret).start()
    for server in cluster.servers:
        server.proc.argv += ["--webhook-url", cluster.receiver.url]
    first.restart()
    second.start()
    third.start()

    expected: dict[str, int] = {}
    lock = threading.Lock()

    def submit(batch: int, servers: list[Server]) -> None:
        for i in range(batch):
            server = servers[i % len(servers)]
            if i % 3 == 2:
                n = 1 + i % 2
                r = submit_image(server, f"image {len(expected)}", n)
                assert r.status_code == 202, r.text
                task_id, files = r.json()["id"], n
            else:
                r = submit_music(server, f"track {len(expected)}")
                assert r.status_code == 200, r.text
                task_id, files = r.json()["data"]["task_id"], 4  # two tracks and their covers
            with lock:
                expected[task_id] = files

    submit(120, [first, second, third])
    # Some work in every stage, then a crash.
    wait_for(lambda: any(get_task(second, t)["status"] == "downloading" for t in list(expected)[:40]) or None, 60,
             interval=0.05, desc="a task downloading")
    first.kill9()
    submit(60, [second, third])
    # A pause past the lease: the paused instance's leases go to the others; when it wakes its
    # late writes are refused.
    os.kill(second.proc.popen.pid, signal.SIGSTOP)
    paused = time.monotonic()
    submit(40, [third])
    # The scenario itself: a pause longer than a lease (not a wait standing in for an event).
    time.sleep(max(0.0, LEASE_SECONDS + 2 - (time.monotonic() - paused)))
    os.kill(second.proc.popen.pid, signal.SIGCONT)
    first.start()
    submit(80, [first, second, third])
    assert len(expected) == 300

    def all_finished() -> Optional[dict]:
        tasks = {t: get_task(third, t) for t in expected}
        return tasks if all(t["status"] in TERMINAL for t in tasks.values()) else None

    tasks = wait_for(all_finished, 240, interval=1, desc="every task to finish")
    assert all(t["status"] == "completed" for t in tasks.values()), \
        {k: (v["status"], v.get("fail_reason")) for k, v in tasks.items() if v["status"] != "completed"}

    # Every artifact stored once, its bytes as recorded, served by every instance.
    with http() as s:
        for number, (task_id, task) in enumerate(tasks.items()):
            artifacts = task["artifacts"]
            assert sorted(a["index"] for a in artifacts) == list(range(expected[task_id])), (task_id, artifacts)
            for artifact in artifacts:
                path = urlsplit(artifact["url"]).path
                full = cluster.servers[number % 3]
                body = s.get(full.url(path), timeout=HTTP_TIMEOUT)
                assert body.status_code == 200 and sha256(body.content) == artifact["sha256"], (task_id, artifact)
                for other in cluster.servers:
                    if other is not full:
                        head = s.get(other.url(path), headers={"Range": "bytes=0-15"}, timeout=HTTP_TIMEOUT)
                        assert head.status_code == 206 and head.content == body.content[:16], (other.base, path)

    # Each task ended once: one event per task in the outbox, and the receiver (verifying every
    # signature) saw exactly one webhook-id per task, whichever instance sent it.
    assert psql(cluster.database_url, "SELECT count(*) FROM webhook_events") == str(len(expected))

    def delivered() -> Optional[dict]:
        ids: dict[str, set] = {}
        for entry in cluster.receiver.entries():
            assert entry["verified"], entry
            ids.setdefault(entry["task_id"], set()).add(entry["webhook_id"])
        return ids if set(ids) == set(expected) else None

    ids = wait_for(delivered, 90, interval=0.5, desc="a webhook for every task")
    assert all(len(v) == 1 for v in ids.values()), {k: v for k, v in ids.items() if len(v) != 1}

    # No download left a temporary file behind (the restarted first instance removed what the
    # killed one was downloading), and the operator CLI sees the same database.
    assert temporary_files(first.data_dir) == []
    stats = cluster.cli("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["tasks"]["by_status"]["completed"] == len(expected), counts["tasks"]


def test_one_idempotency_key_sent_to_every_instance_makes_one_task(cluster_factory):
    cluster = cluster_factory("idempotency")
    for server in cluster.servers:
        server.start()
    for round_number in range(5):
        key = f"order-{round_number}-{uuid.uuid4().hex[:6]}"
        answers: list[requests.Response] = []
        barrier = threading.Barrier(len(cluster.servers) * 2)

        def send(server: Server) -> None:
            barrier.wait()
            answers.append(submit_music(server, f"same request {round_number}", **{"Idempotency-Key": key}))

        threads = [threading.Thread(target=send, args=(server,)) for server in cluster.servers * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
        assert len({r.json()["data"]["task_id"] for r in answers}) == 1, [r.text for r in answers]
    assert psql(cluster.database_url, "SELECT count(*) FROM tasks") == "5"


def test_the_database_stopping_under_load_loses_nothing(cluster_factory):
    _, control = _database_env()
    cluster = cluster_factory("outage", count=2)
    for server in cluster.servers:
        server.start()
    accepted = [submit_music(cluster.servers[i % 2], f"before {i}").json()["data"]["task_id"] for i in range(30)]
    subprocess.run([control, "stop"], check=True, capture_output=True, timeout=120)
    try:
        # While it is down: a clear 503 envelope (not a hang, not a 500) and /readyz says why.
        r = submit_music(cluster.servers[0], "during the outage")
        assert_error(r, 503, "server_error", suno=True)
        assert r.json()["error"]["code"] == "database_unavailable"
        with http() as s:
            ready = s.get(cluster.servers[1].url("/readyz"), timeout=HTTP_TIMEOUT)
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unavailable"), ready.text
    finally:
        subprocess.run([control, "start"], check=True, capture_output=True, timeout=120)
    wait_for(lambda: all(submit_ok(server) for server in cluster.servers) or None, 60, interval=0.5, desc="the instances to serve again")
    accepted += [submit_music(cluster.servers[i % 2], f"after {i}").json()["data"]["task_id"] for i in range(10)]

    def all_done() -> Optional[dict]:
        tasks = {t: get_task(cluster.servers[0], t) for t in accepted}
        return tasks if all(t["status"] in TERMINAL for t in tasks.values()) else None

    tasks = wait_for(all_done, 180, interval=1, desc="every accepted task to finish")
    assert all(t["status"] == "completed" for t in tasks.values()), {k: v["status"] for k, v in tasks.items()}


def submit_ok(server: Server) -> bool:
    with http() as s:
        return s.get(server.url("/readyz"), timeout=HTTP_TIMEOUT).status_code == 200

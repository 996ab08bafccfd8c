"""Disk full: downloads fail without corrupting anything, the task retries later, /readyz says so."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import Server, Stack, Upstream, wait_for


def _mount_tmpfs(path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def test_full_disk_retries_and_recovers(mediajobs_bin, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs and needs root (CI and the dev machines run as root)")
    upstream = Upstream(mediajobs_bin, tmp_path, latency="200ms").start()
    data = tmp_path / "data"
    # Room for the database but not for two 441 kB tracks.
    _mount_tmpfs(data, "700k")
    server = Server(mediajobs_bin, tmp_path, upstream_url=upstream.url,
                    extra=["--min-free-space", "1MB", "--max-attempts", "50"])
    stack = Stack(upstream, server, tmp_path)
    try:
        server.start()
        ready = stack.get("/readyz")
        assert ready.status_code == 503 and "low on space" in ready.json()["checks"]["storage"], ready.text
        tid = stack.submit_music(prompt="too big for this disk")
        wait_for(lambda: (lambda t: t if t["status"] == "downloading" and t["attempts"] >= 1 else None)(stack.get_task(tid)),
                 60, desc="a failed download attempt")
        assert not list((data / "tmp").iterdir()), "a failed download left its temp file"
        assert stack.get_task(tid)["status"] == "downloading"

        subprocess.run(["mount", "-o", "remount,size=200m", str(data)], check=True)
        done = stack.wait_task(tid, timeout=60)
        assert done["status"] == "completed" and len(done["artifacts"]) == 4  # two tracks and their covers
        assert stack.get("/readyz").status_code == 200
    finally:
        stack.stop()
        subprocess.run(["umount", "-l", str(data)], check=False)

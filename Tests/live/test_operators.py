"""Operators: prune (CLI and admin API), crash mid-prune, automatic retention,
stats, /metrics, admin auth, the tasks CLI and JSON logs -- all against the real
binary and a data dir filled through the real API (simulator upstream)."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any, Iterable, Optional

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import Proc, assert_error, wait_for

DAY_MS = 86_400_000
ADMIN_KEY = "operator-test-key"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def cli(binary: str, data_dir: Path, *args: str, check: bool = True, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Runs `mediajobs <args> --data-dir <data_dir>` and returns the finished process."""
    argv = [binary, *args, "--data-dir", str(data_dir)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    if check:
        assert p.returncode == 0, f"{' '.join(argv)} -> exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def cli_json(binary: str, data_dir: Path, *args: str) -> Any:
    out = cli(binary, data_dir, *args, "--json").stdout
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError(f"mediajobs {' '.join(args)} --json printed no JSON: {out[:500]!r}")


def db(data_dir: Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(data_dir / "mediajobs.sqlite"), timeout=30)
    con.row_factory = sqlite3.Row
    return con


def artifact_rows(data_dir: Path) -> list[sqlite3.Row]:
    with db(data_dir) as con:
        return con.execute("SELECT * FROM artifacts ORDER BY created_at, task_id, idx").fetchall()


def file_of(data_dir: Path, row: sqlite3.Row) -> Path:
    return data_dir / "media" / row["task_id"] / row["file_name"]


def media_files(data_dir: Path) -> set[str]:
    root = data_dir / "media"
    return {str(Path(d).relative_to(root) / f) for d, _, files in os.walk(root) for f in files}


def backdate(data_dir: Path, task_ids: Iterable[str], days: float) -> None:
    """Moves tasks and their artifacts `days` into the past (ages that a test cannot wait for)."""
    shift = int(days * DAY_MS)
    with db(data_dir) as con:
        for tid in task_ids:
            con.execute("UPDATE artifacts SET created_at = created_at - ? WHERE task_id = ?", (shift, tid))
            con.execute("UPDATE tasks SET created_at = created_at - ?, finished_at = finished_at - ? WHERE id = ?", (shift, shift, tid))


def check_consistent(data_dir: Path) -> dict:
    """The invariant that holds at every moment, crash or not: an artifact row that is
    not pruned has its file. Returns counts for further checks.

    Files are listed before rows are read: a prune deletes a file only after the row is
    marked, so a file missing from the listing has a pruned row by the time rows are read."""
    files = media_files(data_dir)
    rows = artifact_rows(data_dir)
    with db(data_dir) as con:
        removals = con.execute("SELECT COUNT(*) FROM file_removals").fetchone()[0]
    path = lambda r: f"{r['task_id']}/{r['file_name']}"  # noqa: E731
    missing = [path(r) for r in rows if r["pruned_at"] is None and path(r) not in files]
    assert not missing, f"unpruned artifacts without a file: {missing}"
    return {
        "pruned": sum(1 for r in rows if r["pruned_at"] is not None),
        "unpruned": sum(1 for r in rows if r["pruned_at"] is None),
        "pruned_with_file": sum(1 for r in rows if r["pruned_at"] is not None and path(r) in files),
        "strays": sorted(files - {path(r) for r in rows}),
        "removals": removals,
    }


def fill(st, music: int = 0, images: int = 0, timeout: float = 60) -> list[str]:
    """Submits music tasks and 2-image tasks through the API and waits until all completed."""
    ids = [st.submit_music(prompt=f"operator test track {i}") for i in range(music)]
    ids += [st.submit_image_async(n=2, size="64x64", prompt=f"operator test image {i}")["id"] for i in range(images)]
    for tid in ids:
        st.wait_task(tid, timeout=timeout)
    return ids


def scrape(st) -> dict[tuple, float]:
    """GET /metrics parsed with prometheus_client: {(sample name, sorted labels): value}."""
    r = st.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain"), r.headers
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def metric(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def admin(key: str = ADMIN_KEY) -> dict:
    return {"Authorization": f"Bearer {key}"}


# --------------------------------------------------------------------------
# prune
# --------------------------------------------------------------------------


def test_prune_by_age_with_the_cli(stack_factory, mediajobs_bin):
    st = stack_factory("age", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    old = fill(st, music=2, images=1)
    young = fill(st, music=1, images=1)
    kept_by_webhook = old[0]

    st.server.stop()
    backdate(data, old, days=40)
    # A webhook of one old task is still pending: its files must stay.
    with db(data) as con:
        con.execute("INSERT INTO webhook_events (id, task_id, type, payload, created_at) VALUES ('evt_test', ?, 'task.completed', '{}', 0)",
                    (kept_by_webhook,))
        con.execute("INSERT INTO webhook_deliveries (event_id, task_id, endpoint_url, status, next_attempt_at, created_at) "
                    "VALUES ('evt_test', ?, 'http://127.0.0.1:9/hook', 'pending', 0, 0)", (kept_by_webhook,))
    files_before = media_files(data)
    rows_before = [dict(r) for r in artifact_rows(data)]

    dry = cli_json(mediajobs_bin, data, "prune", "--older-than", "30d", "--dry-run")
    assert media_files(data) == files_before, "a dry run deleted files"
    assert [dict(r) for r in artifact_rows(data)] == rows_before, "a dry run changed rows"
    expected = [r for r in rows_before if r["task_id"] in old and r["task_id"] != kept_by_webhook]
    assert dry["dry_run"] is True
    # The old music task: two tracks and their two covers; the image task: two pictures.
    assert dry["artifacts"]["count"] == len(expected) == 6, dry
    assert dry["artifacts"]["bytes"] == sum(r["bytes"] for r in expected)

    real = cli_json(mediajobs_bin, data, "prune", "--older-than", "30d")
    for key in ("count", "bytes", "oldest_created_at", "newest_created_at"):
        assert real["artifacts"][key] == dry["artifacts"][key], f"{key}: dry {dry['artifacts']} vs real {real['artifacts']}"
    assert real["files_deleted"] == 6

    rows = {(r["task_id"], r["idx"]): r for r in artifact_rows(data)}
    assert len(rows) == len(rows_before), "pruned artifacts keep their row"
    for r in rows.values():
        pruned = r["task_id"] in old and r["task_id"] != kept_by_webhook
        assert (r["pruned_at"] is not None) == pruned, dict(r)
        assert file_of(data, r).exists() == (not pruned), dict(r)
    assert check_consistent(data)["strays"] == []

    again = cli_json(mediajobs_bin, data, "prune", "--older-than", "30d")
    assert again["artifacts"]["count"] == 0, "prune is idempotent"

    with db(data) as con:  # (python's sqlite3 does not cascade: foreign keys are off by default)
        con.execute("DELETE FROM webhook_deliveries WHERE event_id = 'evt_test'")
        con.execute("DELETE FROM webhook_events WHERE id = 'evt_test'")
    st.server.start()
    old_music = next(t for t in old[1:] if t.startswith("suno_"))
    for track in st.fetch_music(old_music)["tracks"]:
        assert track["file"]["expired"] is True and track["audio_url"] is None and track["file"]["url"] is None, track
    task = st.get_task(old_music)
    assert all(a["expired"] and a["url"] is None for a in task["artifacts"]), task
    gone = st.get(f"/files/{old_music}/0.wav")
    assert_error(gone, 410)
    assert gone.json()["error"]["code"] == "file_expired"
    for tid in young:
        for a in st.get_task(tid)["artifacts"]:
            assert a["expired"] is False
            assert st.download(a["url"]).status_code == 200

    # A task in flight while a prune runs keeps everything it stores.
    running = st.submit_music(prompt="in flight during the prune")
    cli_json(mediajobs_bin, data, "prune", "--older-than", "0s")
    done = st.wait_task(running)
    assert all(st.download(a["url"]).status_code == 200 for a in done["artifacts"]), done


def test_prune_by_size_oldest_first(stack_factory, mediajobs_bin):
    st = stack_factory("size", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    ids = fill(st, music=4)
    for age, tid in zip((4, 3, 2, 1), ids):
        backdate(data, [tid], days=age)
    rows = artifact_rows(data)  # oldest first
    total = sum(r["bytes"] for r in rows)
    limit = total - sum(r["bytes"] for r in rows[:3]) + 1  # the 3 oldest files must go, no more

    dry = cli_json(mediajobs_bin, data, "prune", "--max-total-size", str(limit), "--kind", "music", "--dry-run")
    real = cli_json(mediajobs_bin, data, "prune", "--max-total-size", str(limit), "--kind", "music")
    assert dry["artifacts"]["count"] == real["artifacts"]["count"] == 3, real
    assert dry["artifacts"]["bytes"] == real["artifacts"]["bytes"]
    assert real["size_limit_met"] is True
    assert real["stored_bytes_before"] == total
    assert real["stored_bytes_after"] == total - sum(r["bytes"] for r in rows[:3])
    after = artifact_rows(data)
    assert [r["pruned_at"] is not None for r in after] == [True] * 3 + [False] * (len(rows) - 3)
    assert check_consistent(data)["pruned_with_file"] == 0

    # --kind image leaves music alone.
    image_only = cli_json(mediajobs_bin, data, "prune", "--max-total-size", "0", "--kind", "image")
    assert image_only["artifacts"]["count"] == 0


def test_prune_through_the_admin_api_matches_the_cli(stack_factory, mediajobs_bin):
    st = stack_factory("api", latency="300ms", track_duration="1s", serve_args=["--admin-key", ADMIN_KEY])
    data = st.server.data_dir
    fill(st, music=2, images=1)
    cli_dry = cli_json(mediajobs_bin, data, "prune", "--older-than", "0s", "--dry-run")
    api_dry = st.post("/admin/v1/prune", json={"older_than": "0s", "dry_run": True}, headers=admin()).json()
    assert api_dry["artifacts"]["count"] == cli_dry["artifacts"]["count"] == 10  # 2 × (2 tracks + 2 covers) + 2 images
    r = st.post("/admin/v1/prune", json={"older_than": "0s", "max_total_size": "1GB", "kind": "music"}, headers=admin())
    assert r.status_code == 200, r.text
    assert r.json()["artifacts"]["count"] == 8 and r.json()["size_limit_met"] is True
    assert_error(st.post("/admin/v1/prune", json={"older_than": "a while"}, headers=admin()), 400, "invalid_request_error")
    assert_error(st.post("/admin/v1/prune", json={}, headers=admin()), 400, "invalid_request_error")


def test_kill9_mid_prune_leaves_rows_and_files_consistent(stack_factory, mediajobs_bin, tmp_path):
    st = stack_factory("crash-prune", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    ids = fill(st, music=8)
    st.server.stop()
    backdate(data, ids, days=10)
    total = len(artifact_rows(data))
    assert total == 32  # two tracks and two covers each

    # 1. Killed while paused between a batch's commit and its file removals (deterministic).
    log = tmp_path / "prune.log"
    prune = Proc("prune", [mediajobs_bin, "prune", "--older-than", "1d", "--data-dir", str(data),
                           "--batch-size", "3", "--pause-before-removing-files", "30s"], log)
    prune.start()
    wait_for(lambda: check_consistent(data)["pruned"] >= 3, 60, desc="the first batch to commit")
    prune.kill9()
    state = check_consistent(data)
    assert state["pruned"] == 3 and state["pruned_with_file"] == 3 and state["removals"] == 3, state

    # The server finishes the interrupted removals when it starts.
    st.server.start()
    state = check_consistent(data)
    assert state["pruned_with_file"] == 0 and state["removals"] == 0, state
    gone = [r for r in artifact_rows(data) if r["pruned_at"] is not None]
    assert_error(st.get(f"/files/{gone[0]['task_id']}/{gone[0]['file_name']}"), 410)
    st.server.stop()

    # 2. Killed at arbitrary moments of a run that removes one file per transaction.
    for attempt in range(3):
        before = check_consistent(data)["pruned"]
        if before == total:
            break
        p = Proc(f"prune-{attempt}", [mediajobs_bin, "prune", "--older-than", "1d", "--data-dir", str(data), "--batch-size", "1"],
                 tmp_path / f"prune-{attempt}.log")
        p.start()
        wait_for(lambda: check_consistent(data)["pruned"] > before or not p.running, 60, interval=0.005, desc="some progress")
        p.kill9()
        state = check_consistent(data)
        assert state["strays"] == [], state
        assert state["pruned_with_file"] <= 1 and state["removals"] <= 1, state

    # 3. The next prune finishes the job; the end state is that of an uninterrupted run.
    final = cli_json(mediajobs_bin, data, "prune", "--older-than", "1d")
    state = check_consistent(data)
    assert state == {"pruned": total, "unpruned": 0, "pruned_with_file": 0, "strays": [], "removals": 0}, (state, final)
    assert not any((data / "media").iterdir()), "empty task folders are removed too"
    stats = cli_json(mediajobs_bin, data, "stats")
    assert stats["pruned"]["removed_files"] == total
    assert stats["pruned"]["expired_by_kind"]["music"]["files"] == total


def test_old_task_records_are_deleted(stack_factory, mediajobs_bin):
    st = stack_factory("delete-tasks", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    old = fill(st, music=1, images=1)
    young = fill(st, music=1)
    backdate(data, old, days=200)
    dry = cli_json(mediajobs_bin, data, "prune", "--delete-tasks-older-than", "180d", "--dry-run")
    real = cli_json(mediajobs_bin, data, "prune", "--delete-tasks-older-than", "180d")
    assert dry["tasks_deleted"] == real["tasks_deleted"]
    assert real["tasks_deleted"]["count"] == 2 and real["tasks_deleted"]["files"] == 6, real
    for tid in old:
        assert_error(st.get(f"/v1/tasks/{tid}"), 404)
        assert not (data / "media" / tid).exists()
    assert st.get_task(young[0])["status"] == "completed"
    assert check_consistent(data)["strays"] == []


def test_prune_shows_progress_only_on_a_terminal(stack_factory, mediajobs_bin):
    st = stack_factory("progress", latency="300ms", track_duration="1s")
    data = st.server.data_dir
    fill(st, music=3)
    piped = cli(mediajobs_bin, data, "prune", "--older-than", "0s", "--dry-run", "--batch-size", "2")
    assert "pruning files" not in piped.stderr, piped.stderr
    controller, terminal = pty.openpty()
    try:
        p = subprocess.run([mediajobs_bin, "prune", "--older-than", "0s", "--batch-size", "2", "--data-dir", str(data)],
                           stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL, timeout=60, text=True)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert p.returncode == 0, p.stdout
    assert b"pruning files: 12/12 (100%)" in shown, shown
    assert "pruned 12 files" in p.stdout, p.stdout


def test_serve_prunes_automatically(stack_factory):
    st = stack_factory("retention", latency="300ms", track_duration="1s",
                       serve_args=["--retention-max-age", "0s", "--retention-interval", "200ms"])
    tid = st.submit_music(prompt="short-lived")
    st.wait_music(tid)
    wait_for(lambda: all(t["file"]["expired"] for t in st.fetch_music(tid)["tracks"]), 60, desc="automatic retention")
    # The counters move when a run ends, after its files are gone (the rows said "expired" before).
    samples = wait_for(lambda: (lambda s: s if (metric(s, "mediajobs_retention_removed_files_total", trigger="schedule") or 0) >= 4 else None)(scrape(st)),
                       60, desc="the retention counters")
    assert metric(samples, "mediajobs_retention_removed_files_total", trigger="schedule") == 4  # tracks and covers
    assert metric(samples, "mediajobs_retention_runs_total", trigger="schedule") >= 1
    assert "automatic retention on" in st.server.log_text


# --------------------------------------------------------------------------
# visibility
# --------------------------------------------------------------------------


def test_metrics_parse_and_move(stack_factory):
    st = stack_factory("metrics", latency="300ms", track_duration="1s")
    before = scrape(st)
    tid = st.submit_music(prompt="measured")
    st.wait_music(tid)
    st.get_task(tid)
    st.get("/v1/tasks/suno_doesnotexist")
    after = scrape(st)

    route = dict(method="POST", route="/suno/submit/music", status="200")
    assert metric(after, "mediajobs_http_requests_total", **route) == metric(before, "mediajobs_http_requests_total", **route) + 1
    assert metric(after, "mediajobs_http_requests_total", method="GET", route="/v1/tasks/{id}", status="404") == 1
    assert metric(after, "mediajobs_http_request_duration_seconds_count", **route) >= 1
    assert not any(tid in str(labels) for _, labels in after), "raw paths must not become labels"
    assert metric(after, "mediajobs_tasks", kind="music", status="completed") == metric(before, "mediajobs_tasks", kind="music", status="completed") + 1
    assert metric(after, "mediajobs_download_bytes_total", kind="music") > metric(before, "mediajobs_download_bytes_total", kind="music")
    assert metric(after, "mediajobs_storage_files", kind="music") == 4  # tracks and covers
    assert metric(after, "mediajobs_upstream_calls_total", operation="submit", kind="music", status="2xx") == 1
    assert metric(after, "mediajobs_upstream_calls_total", operation="poll", kind="music", status="2xx") >= 1
    for status in ("pending", "dead"):
        assert ("mediajobs_webhook_backlog", (("status", status),)) in after


def test_stats_numbers_match(stack_factory, mediajobs_bin):
    st = stack_factory("stats", latency="300ms", track_duration="1s", serve_args=["--admin-key", ADMIN_KEY])
    data = st.server.data_dir
    ids = fill(st, music=2, images=1)
    api = st.get("/admin/v1/stats", headers=admin()).json()
    from_cli = cli_json(mediajobs_bin, data, "stats")
    for key in ("tasks", "storage", "pruned", "webhooks", "in_flight"):
        assert api[key] == from_cli[key], key
    tasks = [st.get_task(t) for t in ids]
    assert api["tasks"]["by_kind"]["music"]["completed"] == 2
    assert api["tasks"]["by_kind"]["image"]["completed"] == 1
    assert api["tasks"]["total"] == 3 and api["in_flight"] == 0
    assert api["oldest_queued_age_seconds"] is None
    for kind in ("music", "image"):
        arts = [a for t in tasks if t["kind"] == kind for a in t["artifacts"]]
        assert api["storage"]["by_kind"][kind] == {"files": len(arts), "bytes": sum(a["bytes"] for a in arts)}
    assert api["webhooks"]["pending"] == 0 and api["webhooks"]["dead"] == 0
    assert isinstance(api["disk_free_bytes"], int)
    text = cli(mediajobs_bin, data, "stats").stdout
    assert "TASKS" in text and "STORAGE" in text and "webhooks:" in text


def test_admin_auth(stack_factory, monkeypatch):
    off = stack_factory("admin-off", latency="300ms")
    for r in (off.get("/admin/v1/stats", headers=admin()), off.post("/admin/v1/prune", json={"older_than": "1d"})):
        assert_error(r, 404, "not_found_error")

    monkeypatch.setenv("MEDIAJOBS_ADMIN_KEY", ADMIN_KEY)  # the environment fallback
    on = stack_factory("admin-on", latency="300ms")
    assert_error(on.get("/admin/v1/stats"), 401, "authentication_error")
    assert_error(on.get("/admin/v1/stats", headers=admin("wrong")), 401, "authentication_error")
    r = on.get("/admin/v1/stats", headers=admin())
    assert r.status_code == 200 and r.json()["tasks"]["total"] == 0
    assert on.get("/metrics").status_code == 200, "/metrics stays open for scrapers"


def test_tasks_cli(stack_factory, mediajobs_bin):
    failing = stack_factory("cli-failing", latency="300ms", failure_rate=1)
    data = failing.server.data_dir
    tid = failing.submit_music(prompt="will fail")
    failed = failing.wait_task(tid, want="failed")

    listed = cli_json(mediajobs_bin, data, "tasks", "list", "--status", "failed", "--kind", "music", "--limit", "5")
    assert [t["id"] for t in listed["data"]] == [tid]
    assert listed["object"] == "list"
    shown = cli_json(mediajobs_bin, data, "tasks", "show", tid)
    api = failing.get_task(tid)
    for key in ("id", "kind", "status", "fail_reason", "attempts", "created_at", "finished_at", "request"):
        assert shown[key] == api[key], key
    table = cli(mediajobs_bin, data, "tasks", "list").stdout
    assert table.splitlines()[0].split()[:3] == ["ID", "KIND", "STATUS"] and tid in table

    retried = cli_json(mediajobs_bin, data, "tasks", "retry", tid)
    assert retried["status"] == "queued" and retried["fail_reason"] is None and retried["finished_at"] is None
    assert retried["attempts"] == 0
    # The running server picks it up (at its next idle tick) and runs it again.
    again = failing.wait_task(tid, want="failed")
    assert again["finished_at"] >= failed["finished_at"]

    completed_conflict = cli(mediajobs_bin, data, "tasks", "cancel", tid, check=False)
    assert completed_conflict.returncode != 0 and "can no longer be canceled" in completed_conflict.stderr
    missing = cli(mediajobs_bin, data, "tasks", "show", "suno_missing", check=False)
    assert missing.returncode != 0 and "no task" in missing.stderr

    slow = stack_factory("cli-slow", latency="30s")
    slow_id = slow.submit_music(prompt="too slow")
    canceled = cli_json(mediajobs_bin, slow.server.data_dir, "tasks", "cancel", slow_id)
    assert canceled["status"] == "canceled"
    assert slow.get_task(slow_id)["status"] == "canceled"
    not_failed = cli(mediajobs_bin, slow.server.data_dir, "tasks", "retry", slow_id, check=False)
    assert not_failed.returncode != 0 and "only failed tasks" in not_failed.stderr


def test_cli_refuses_a_data_dir_without_a_database(mediajobs_bin, tmp_path):
    p = cli(mediajobs_bin, tmp_path / "nothing-here", "stats", check=False)
    assert p.returncode != 0 and "no MediaJobs database" in p.stderr
    assert not (tmp_path / "nothing-here").exists()


def test_json_logs_carry_task_metadata(stack_factory):
    st = stack_factory("json-logs", latency="300ms", track_duration="1s", serve_args=["--log-format", "json"])
    tid = st.submit_music(prompt="logged")
    st.wait_music(tid)
    lines = [line for line in st.server.log_text.splitlines() if line.startswith("{")]
    assert lines, st.server.log_text[:2000]
    events = [json.loads(line) for line in lines]
    for e in events:
        assert {"ts", "level", "logger", "message"} <= set(e), e
    about_task = [e for e in events if e.get("task.id") == tid]
    assert about_task, events
    assert all(e.get("task.kind") == "music" for e in about_task)
    assert any("upstream.id" in e for e in about_task), about_task

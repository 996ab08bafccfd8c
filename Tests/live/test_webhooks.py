"""Webhooks as a consumer sees them: signed (verified with the official `standardwebhooks`
package), retried with a stable webhook-id, dead-lettered and redelivered, never lost to kill -9."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conftest import Receiver, assert_error, free_port, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
def serve_args(*extra: str, schedule: str = "0s,300ms,300ms,300ms") -> list[str]:
    return ["--allow-private-networks", "--webhook-secret", SECRET, "--webhook-retry-schedule", schedule, *extra]


def cli(st, *args: str) -> subprocess.CompletedProcess:
    binary = st.server.proc.argv[0]
    return subprocess.run([binary, *args, "--data-dir", str(st.server.data_dir)], capture_output=True, text=True, timeout=60)


def deliveries(st, flag: str = "") -> list[dict]:
    args = ["webhooks", "list", "--json", "--limit", "1000"] + ([flag] if flag else [])
    result = cli(st, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def receiver_factory(tmp_path):
    made: list[Receiver] = []

    def make(*extra: str, port: int | None = None, name: str = "receiver", start: bool = True) -> Receiver:
        receiver = Receiver(tmp_path / "receivers", *extra, secret=SECRET, port=port, name=name)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        if receiver.proc.running:
            receiver.stop()


def test_completed_and_failed_tasks_each_deliver_one_verified_event(stack_factory, receiver_factory):
    receiver = receiver_factory()
    ok = stack_factory("ok", latency="300ms", serve_args=serve_args())
    tid = ok.submit_music(prompt="webhook me", callback_url=receiver.url)
    ok.wait_music(tid)
    # Delivered is final: once the row says so after one attempt, no second, duplicate request can follow.
    [row] = wait_for(lambda: [d for d in deliveries(ok) if d["task_id"] == tid and d["status"] == "delivered"] or None, 60,
                     desc="the delivery to be marked delivered")
    assert row["attempts"] == 1, row
    entries = [e for e in receiver.entries() if e.get("task_id") == tid]
    assert len(entries) == 1, entries
    assert entries[0]["verified"] and entries[0]["type"] == "task.completed" and entries[0]["status"] == "completed"
    assert entries[0]["webhook_id"].startswith("msg_")

    bad = stack_factory("bad", latency="300ms", failure_rate=1, serve_args=serve_args())
    failed = bad.submit_music(prompt="this one fails", callback_url=receiver.url)
    bad.wait_music(failed, want="failed")
    event = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == failed] or None, 60, desc="failed event")
    assert event[0]["verified"] and event[0]["type"] == "task.failed"


def test_retries_keep_the_same_webhook_id(stack_factory, receiver_factory):
    receiver = receiver_factory("--fail-first", "2")
    st = stack_factory("retry", latency="300ms", serve_args=serve_args())
    tid = st.submit_music(prompt="flaky receiver", callback_url=receiver.url)
    st.wait_music(tid)
    entries = wait_for(lambda: (lambda es: es if len(es) >= 3 else None)(receiver.entries()), 60, desc="three attempts")
    assert [e["answered"] for e in entries] == [500, 500, 200]
    assert len({e["webhook_id"] for e in entries}) == 1
    assert all(e["verified"] for e in entries)
    [row] = [d for d in deliveries(st) if d["task_id"] == tid]
    assert row["status"] == "delivered" and row["attempts"] == 3 and row["last_response_status"] == 200


def test_dead_lettered_delivery_is_redelivered_by_an_operator(stack_factory, receiver_factory):
    port = free_port()  # nothing listens here until the operator fixes the receiver
    st = stack_factory("dead", latency="300ms", serve_args=serve_args(schedule="0s,100ms,100ms"))
    tid = st.submit_music(prompt="nobody home", callback_url=f"http://127.0.0.1:{port}/hook")
    st.wait_music(tid)
    dead = wait_for(lambda: [d for d in deliveries(st, "--dead") if d["task_id"] == tid] or None, 60, desc="dead letter")
    assert dead[0]["attempts"] == 3 and dead[0]["last_error"]

    receiver = receiver_factory(port=port)
    result = cli(st, "webhooks", "redeliver", "--all-dead")
    assert result.returncode == 0 and "scheduled 1" in result.stdout, result.stdout + result.stderr
    got = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == tid] or None, 60, desc="redelivery")
    assert got[0]["verified"] and got[0]["webhook_id"] == dead[0]["event_id"]


def test_kill9_between_task_end_and_delivery_still_delivers(stack_factory, receiver_factory):
    port = free_port()
    st = stack_factory("crash", latency="300ms", serve_args=serve_args(schedule="0s,3s,3s,3s,3s"))
    tid = st.submit_music(prompt="crash before delivery", callback_url=f"http://127.0.0.1:{port}/hook")
    st.wait_music(tid)
    wait_for(lambda: [d for d in deliveries(st, "--failed") if d["task_id"] == tid] or None, 60, desc="a failed first attempt")
    st.server.kill9()
    receiver = receiver_factory(port=port)
    st.server.start()
    got = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == tid] or None, 60, desc="delivery after restart")
    assert got[0]["verified"] and got[0]["type"] == "task.completed"


def test_tampered_bodies_and_signatures_fail_verification(stack_factory):
    captured: list[tuple[bytes, dict]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["content-length"]))
            captured.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        st = stack_factory("tamper", latency="300ms", serve_args=serve_args())
        tid = st.submit_music(prompt="sign me", callback_url=f"http://127.0.0.1:{server.server_port}/hook")
        st.wait_music(tid)
        wait_for(lambda: captured or None, 60, desc="a captured delivery")
    finally:
        server.shutdown()
    body, headers = captured[0]
    wh = Webhook(SECRET)
    event = wh.verify(body, headers)
    assert event["type"] == "task.completed" and event["data"]["id"] == tid
    assert event["data"]["artifacts"][0]["url"].startswith(st.base + "/files/")
    assert headers["content-type"].startswith("application/json")
    with pytest.raises(WebhookVerificationError):
        wh.verify(body.replace(b"completed", b"c0mpleted", 1), headers)
    with pytest.raises(WebhookVerificationError):
        wh.verify(body, {**headers, "webhook-id": "msg_forged"})
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY").verify(body, headers)


def test_global_endpoint_with_event_filter(stack_factory, receiver_factory):
    all_events = receiver_factory(name="all")
    failures_only = receiver_factory(name="failures")
    st = stack_factory("global", latency="300ms", failure_rate=0,
                       serve_args=serve_args("--webhook-url", all_events.url, "--webhook-url", failures_only.url + "#task.failed"))
    tid = st.submit_music(prompt="global endpoints")
    st.wait_music(tid)
    wait_for(lambda: [e for e in all_events.entries() if e.get("task_id") == tid] or None, 60, desc="global delivery")
    canceled = st.post("/v1/tasks/" + st.submit_music(prompt="to cancel") + "/cancel").json()
    wait_for(lambda: [e for e in all_events.entries() if e.get("task_id") == canceled["id"]] or None, 60, desc="canceled event")
    # Deliveries are written with the task's end, so none to the failures-only endpoint can still come.
    assert not [d for d in deliveries(st) if d["endpoint_url"] == failures_only.url], deliveries(st)
    assert not failures_only.entries(), "a failures-only endpoint got a completed/canceled event"


def test_gone_endpoint_is_disabled(stack_factory, receiver_factory):
    receiver = receiver_factory("--status", "410")
    st = stack_factory("gone", latency="300ms", serve_args=serve_args())
    first = st.submit_music(prompt="first", callback_url=receiver.url)
    st.wait_music(first)
    wait_for(lambda: [d for d in deliveries(st) if d["task_id"] == first and d["status"] == "disabled"] or None, 60, desc="endpoint disabled")
    second = st.submit_music(prompt="second", callback_url=receiver.url)
    st.wait_music(second)
    # The deliveries of an event are written with the task's end, in one transaction: once the task
    # reads completed, a delivery to the disabled endpoint would already exist. None does.
    assert not [d for d in deliveries(st) if d["task_id"] == second], deliveries(st)
    assert len(receiver.entries()) == 1, receiver.entries()


def test_private_callback_urls_are_refused_at_submit(stack_factory):
    st = stack_factory("ssrf", latency="300ms", serve_args=["--webhook-secret", SECRET])
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://2130706433:9/hook", "http://[::1]:9/hook", "ftp://example.com/x"):
        r = st.post("/suno/submit/music", json={"prompt": "x", "callback_url": url})
        body = assert_error(r, 400, "invalid_request_error", suno=True)
        assert body["error"]["param"] == "callback_url", body


def test_secret_is_generated_once_and_kept(stack_factory):
    st = stack_factory("secret", latency="300ms")
    secret_file = st.server.data_dir / "webhook-secret"
    assert secret_file.read_text().strip().startswith("whsec_")
    assert st.server.log_text.count("Generated webhook signing secret") == 1
    st.server.restart()
    assert st.server.log_text.count("Generated webhook signing secret") == 1


def test_delivery_throughput_to_a_local_receiver(stack_factory, receiver_factory):
    """Deliveries per second for a backlog: events pile up dead while the receiver is down, then an
    operator redelivers them all at once. A figure for the notes, not a pass/fail threshold."""
    port = free_port()
    st = stack_factory("throughput", latency="100ms", track_duration="1s", serve_args=serve_args(schedule="0s"))
    ids = [st.submit_music(prompt=f"burst {i}", callback_url=f"http://127.0.0.1:{port}/hook") for i in range(100)]
    for tid in ids:
        st.wait_music(tid, timeout=120)
    wait_for(lambda: len(deliveries(st, "--dead")) >= len(ids) or None, 60, desc="all deliveries dead-lettered")
    receiver = receiver_factory(port=port)
    started = time.monotonic()
    assert cli(st, "webhooks", "redeliver", "--all-dead").returncode == 0
    wait_for(lambda: len(receiver.entries()) >= len(ids) or None, 60, interval=0.01, desc="all redeliveries")
    elapsed = time.monotonic() - started
    entries = receiver.entries()
    assert all(e["verified"] for e in entries) and len({e["task_id"] for e in entries}) == len(ids)
    print(f"\nwebhook redelivery of {len(ids)} events: {elapsed:.2f}s, {len(ids) / elapsed:.0f} deliveries/s (debug build, includes the receiver's verification)")


def test_operator_cancel_from_the_cli_sends_the_event(stack_factory, receiver_factory):
    receiver = receiver_factory()
    st = stack_factory("cli-cancel", latency="30s", serve_args=serve_args())
    tid = st.submit_music(prompt="cancelled by an operator", callback_url=receiver.url)
    result = cli(st, "tasks", "cancel", tid)
    assert result.returncode == 0, result.stdout + result.stderr
    got = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == tid] or None, 60, desc="canceled event")
    assert got[0]["verified"] and got[0]["type"] == "task.canceled"


def test_admin_api_lists_and_redelivers(stack_factory, receiver_factory):
    port = free_port()
    st = stack_factory("admin", latency="300ms", serve_args=serve_args("--admin-key", "adm", schedule="0s"))
    admin = {"Authorization": "Bearer adm"}
    tid = st.submit_music(prompt="admin redelivery", callback_url=f"http://127.0.0.1:{port}/hook")
    st.wait_music(tid)
    dead = wait_for(lambda: (lambda r: r["data"] or None)(st.get("/admin/v1/webhooks/deliveries?status=dead", headers=admin).json()),
                    60, desc="dead delivery via the admin API")
    assert dead[0]["task_id"] == tid and dead[0]["attempts"] == 1 and isinstance(dead[0]["created_at"], int)
    assert st.get("/admin/v1/webhooks/deliveries?status=bogus", headers=admin).status_code == 400
    assert st.get("/admin/v1/webhooks/deliveries").status_code == 401
    receiver = receiver_factory(port=port)
    r = st.post(f"/admin/v1/webhooks/deliveries/{dead[0]['id']}/redeliver", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "pending", r.text
    got = wait_for(lambda: [e for e in receiver.entries() if e.get("task_id") == tid] or None, 60, desc="redelivery")
    assert got[0]["verified"] and got[0]["webhook_id"] == dead[0]["event_id"]
    assert st.post("/admin/v1/webhooks/redeliver-dead", headers=admin).json() == {"scheduled": 0}
    assert st.post("/admin/v1/webhooks/deliveries/999999/redeliver", headers=admin).status_code == 404

"""Canceling tasks that are still queued/processing (the simulator takes 30 s)."""

from __future__ import annotations

import pytest

from conftest import hold_for, module_stack, wait_for


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="30s", failure_rate=0)


def _cancel_ok(stack, tid: str) -> dict:
    r = stack.post(f"/v1/tasks/{tid}/cancel")
    assert r.status_code == 200, f"cancel {tid} -> {r.status_code} {r.text}"
    body = r.json()
    assert body.get("status") == "canceled", body
    assert body.get("id") == tid, body
    return body


def test_cancel_music_task(stack):
    tid = stack.submit_music()
    assert stack.get_task(tid)["status"] in ("queued", "processing")
    _cancel_ok(stack, tid)
    t = stack.get_task(tid)
    assert t["status"] == "canceled", t
    assert type(t["finished_at"]) is int, t
    assert stack.fetch_music(tid)["status"] == "canceled"
    # It stays canceled (the worker/poller must not move it again). Nothing happening has no event
    # to wait for, so this watches a bounded window: a poller that ignored the cancel would act
    # within it (the service polls every 250 ms here).
    hold_for(lambda: stack.get_task(tid)["status"] == "canceled", 2.0, desc="task stays canceled")
    # Canceling again: the task is terminal now.
    r = stack.post(f"/v1/tasks/{tid}/cancel")
    assert r.status_code in (200, 409), f"second cancel -> {r.status_code} {r.text}"
    assert stack.get_task(tid)["status"] == "canceled"


def test_cancel_processing_music_task(stack):
    tid = stack.submit_music(prompt="cancel me once the upstream has it")
    wait_for(lambda: stack.get_task(tid)["status"] == "processing", 60, desc=f"{tid} processing")
    _cancel_ok(stack, tid)
    # A bounded window, as above: "it stays canceled" has no event to wait for.
    hold_for(lambda: stack.get_task(tid)["status"] == "canceled", 2.0, desc="task stays canceled")
    assert stack.get_task(tid)["artifacts"] == []


def test_cancel_async_image_task(stack):
    j = stack.submit_image_async(n=1, size="256x256")
    tid = j["id"]
    _cancel_ok(stack, tid)
    # A bounded window, as above: "it stays canceled" has no event to wait for.
    hold_for(lambda: stack.get_task(tid)["status"] == "canceled", 1.0, desc="image task stays canceled")
    r = stack.get(f"/v1/images/generations/{tid}")
    assert r.status_code == 200 and r.json()["status"] == "canceled", r.text

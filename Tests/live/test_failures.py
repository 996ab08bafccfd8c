"""Upstream failures: tasks that fail end `failed`; transient 503s are retried."""

from __future__ import annotations

import openai
import pytest

from conftest import png_size, sha256


def test_failing_upstream(stack_factory):
    st = stack_factory("fail", latency="500ms", failure_rate=1)

    # Music: ends failed with a reason, no tracks.
    tid = st.submit_music()
    d = st.wait_music(tid, timeout=30, want="failed")
    assert isinstance(d["fail_reason"], str) and d["fail_reason"].strip(), d
    assert not d["tracks"], d
    t = st.get_task(tid)
    assert t["status"] == "failed" and t["fail_reason"], t
    assert type(t["finished_at"]) is int, t

    # Images via the SDK (default max_retries=2): one 500 server_error, not retried.
    client = st.openai()
    try:
        with pytest.raises(openai.InternalServerError) as ei:
            client.images.generate(model="nano-banana-2", prompt="doomed", n=1, size="256x256")
    finally:
        client.close()
    e = ei.value
    assert e.status_code == 500, e
    assert e.type == "server_error", e.body
    assert e.response.headers.get("x-should-retry") == "false", dict(e.response.headers)
    imgs = st.all_tasks(kind="image")
    assert len(imgs) == 1, f"the SDK retried (or the server made extra tasks): {imgs}"
    assert imgs[0]["status"] == "failed" and imgs[0]["fail_reason"], imgs[0]


def test_flaky_upstream_is_retried(stack_factory):
    # 30 % of provider calls answer 503. At 50 %, six failures in a row on one step (1 in 64 per
    # step, with ~20 steps here) pushed a task past the wait below by backoff alone (1+2+…+32 s).
    st = stack_factory("flaky", latency="500ms", failure_rate=0, error_rate=0.3)
    music = [st.submit_music(prompt=f"through the storm {i}") for i in range(2)]
    image = st.submit_image_async(n=2, size="256x256")["id"]
    for tid in music + [image]:
        t = st.wait_task(tid, timeout=90)
        want = 2
        assert len(t["artifacts"]) == want, t
        for a in t["artifacts"]:
            body = st.download(a["url"]).content
            assert len(body) == a["bytes"] and sha256(body) == a["sha256"], a
            if t["kind"] == "image":
                assert png_size(body) == (256, 256)
    assert "step failed; retrying" in st.server.log_text, "no provider error was retried"

"""The generic task API: /v1/tasks/{id}, listing with cursor paging, cancel conflicts."""

from __future__ import annotations

import pytest

from conftest import STATUSES, assert_error, module_stack, sha256

TASK_KEYS = {"id", "object", "kind", "status", "progress", "model", "created_at", "updated_at",
             "finished_at", "fail_reason", "attempts", "request", "metadata", "callback_url", "artifacts"}
ARTIFACT_KEYS = {"index", "url", "content_type", "bytes", "sha256", "expired"}


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0)


@pytest.fixture(scope="module")
def music_ids(stack):
    """5 music tasks submitted in order (oldest first), all completed."""
    ids = [stack.submit_music(prompt=f"lo-fi piece number {i}", metadata={"i": i}) for i in range(5)]
    for tid in ids:
        stack.wait_task(tid)
    return ids


@pytest.fixture(scope="module")
def image_id(stack):
    j = stack.submit_image_async(n=1, size="256x256", metadata={"who": "test"})
    stack.wait_task(j["id"])
    return j["id"]


def _check_task_shape(t: dict) -> None:
    missing = TASK_KEYS - set(t)
    assert not missing, f"task lacks {sorted(missing)}: {t}"
    assert t["object"] == "task", t
    assert t["status"] in STATUSES, t
    for k in ("created_at", "updated_at"):
        assert type(t[k]) is int, f"{k} should be unix seconds (int): {t[k]!r}"
    assert t["finished_at"] is None or type(t["finished_at"]) is int, t["finished_at"]
    assert 1_600_000_000 < t["created_at"] <= t["updated_at"], t
    assert isinstance(t["attempts"], int), t
    assert isinstance(t["request"], dict), t
    assert isinstance(t["artifacts"], list), t
    for a in t["artifacts"]:
        missing = ARTIFACT_KEYS - set(a)
        assert not missing, f"artifact lacks {sorted(missing)}: {a}"


def test_music_task_object(stack, music_ids):
    tid = music_ids[0]
    t = stack.get_task(tid)
    _check_task_shape(t)
    assert t["id"] == tid and t["kind"] == "music" and t["status"] == "completed", t
    assert type(t["finished_at"]) is int and t["finished_at"] >= t["created_at"], t
    assert t["fail_reason"] in (None, ""), t
    assert t["request"].get("prompt") == "lo-fi piece number 0", t["request"]
    assert t["metadata"] == {"i": 0}, t["metadata"]
    assert t["callback_url"] is None, t
    everything = sorted(t["artifacts"], key=lambda a: a["index"])
    # The two tracks, then their two covers (kept like the audio).
    assert [a["index"] for a in everything] == [0, 1, 2, 3], everything
    assert [a["content_type"] for a in everything] == ["audio/wav"] * 2 + ["image/png"] * 2, everything
    for a in everything:
        assert a["expired"] is False, a
        assert a["url"].startswith(stack.base + "/files/"), a
        body = stack.download(a["url"]).content
        assert len(body) == a["bytes"] and sha256(body) == a["sha256"], a
    arts = everything[:2]
    # Consistent with the Suno-style view.
    d = stack.fetch_music(tid)
    assert sorted(tr["file"]["sha256"] for tr in d["tracks"]) == sorted(a["sha256"] for a in arts)
    assert sorted(tr["image_url"] for tr in d["tracks"]) == sorted(a["url"] for a in everything[2:])


def test_image_task_object(stack, image_id):
    t = stack.get_task(image_id)
    _check_task_shape(t)
    assert t["kind"] == "image" and t["status"] == "completed", t
    assert t["model"] == "nano-banana-2", t
    assert t["metadata"] == {"who": "test"}, t
    assert len(t["artifacts"]) == 1 and t["artifacts"][0]["content_type"] == "image/png", t


def test_list_pages_through_every_task_once(stack, music_ids, image_id):
    seen: list[str] = []
    pages = 0
    after = None
    while True:
        params = {"kind": "music", "limit": 2}
        if after:
            params["after"] = after
        page = stack.list_tasks(**params)
        pages += 1
        assert isinstance(page["data"], list) and len(page["data"]) <= 2, page
        assert isinstance(page["has_more"], bool), page
        for t in page["data"]:
            assert t["kind"] == "music", t
            assert t["object"] == "task", t
        seen += [t["id"] for t in page["data"]]
        if not page["has_more"]:
            assert page.get("next_cursor") is None, page
            break
        assert page["next_cursor"], page
        after = page["next_cursor"]
        assert pages < 20, "paging does not end"
    assert len(seen) == len(set(seen)), f"a task was listed twice: {seen}"
    assert sorted(seen) == sorted(music_ids), f"listed {seen}, submitted {music_ids}"
    # newest first
    assert seen == list(reversed(music_ids)), f"not newest first: {seen} vs submitted {music_ids}"
    assert pages == 3, pages
    # kind filter and status filter
    imgs = stack.list_tasks(kind="image")["data"]
    assert [t["id"] for t in imgs] == [image_id], imgs
    done = stack.all_tasks(status="completed")
    assert {t["id"] for t in done} == set(music_ids) | {image_id}
    assert stack.list_tasks(status="failed")["data"] == []


def test_cancel_completed_task_conflicts(stack, music_ids):
    tid = music_ids[-1]
    r = stack.post(f"/v1/tasks/{tid}/cancel")
    assert_error(r, 409, "conflict_error")
    assert stack.get_task(tid)["status"] == "completed"


def test_cancel_unknown_task_is_404(stack):
    r = stack.post("/v1/tasks/suno_doesnotexist/cancel")
    assert_error(r, 404, "not_found_error")

"""Bad requests get the error envelope and the right status; nothing accepted is lost.

The server of this module runs with `--max-body-size 64KB`.
"""

from __future__ import annotations

import pytest

from conftest import assert_error, module_stack

IMG = "/v1/images/generations"
MUSIC = "/suno/submit/music"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0,
                            serve_args=["--max-body-size", "64KB"])


@pytest.fixture(scope="module")
def accepted(stack):
    """Tasks accepted before the bad requests; checked at the end of the module."""
    music = [stack.submit_music(prompt=f"before the errors {i}") for i in range(2)]
    image = stack.submit_image_async(n=2, size="256x256")["id"]
    return {"music": music, "image": image}


def _img(**fields):
    body = {"model": "nano-banana-2", "prompt": "a cat", "n": 1, "size": "256x256"}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.mark.parametrize("path", [IMG, MUSIC])
def test_malformed_json(stack, accepted, path):
    r = stack.post(path, data=b'{"prompt": "a cat", ', headers=JSON)
    assert_error(r, 400, "invalid_request_error", suno=path.startswith("/suno"))


@pytest.mark.parametrize("path", [IMG, MUSIC])
def test_missing_prompt(stack, accepted, path):
    body = _img(prompt=...) if path == IMG else {"style": "lo-fi", "title": "Rain"}
    r = stack.post(path, json=body)
    assert_error(r, 400, "invalid_request_error", suno=path.startswith("/suno"))


@pytest.mark.parametrize("path", [IMG, MUSIC])
def test_prompt_wrong_type(stack, accepted, path):
    body = _img(prompt=123) if path == IMG else {"prompt": 123}
    r = stack.post(path, json=body)
    assert_error(r, 400, "invalid_request_error", suno=path.startswith("/suno"))


@pytest.mark.parametrize("fields", [
    {"n": 9},
    {"n": 0},
    {"size": "abc"},
    {"response_format": "gif"},
    {"image_size": "8K"},
], ids=["n=9", "n=0", "size=abc", "response_format=gif", "image_size=8K"])
def test_image_bad_fields(stack, accepted, fields):
    r = stack.post(IMG, json=_img(**fields))
    assert_error(r, 400, "invalid_request_error")


def test_body_array_instead_of_object(stack, accepted):
    r = stack.post(IMG, json=["a cat"])
    assert_error(r, 400, "invalid_request_error")


def test_unknown_task(stack, accepted):
    assert_error(stack.get("/v1/tasks/x"), 404, "not_found_error")
    assert_error(stack.get("/v1/tasks/suno_doesnotexist"), 404, "not_found_error")
    assert_error(stack.get("/v1/images/generations/img_doesnotexist"), 404, "not_found_error")


def test_unknown_suno_task_has_top_level_code(stack, accepted):
    body = assert_error(stack.get("/suno/fetch/suno_x"), 404, "not_found_error", suno=True)
    assert body["code"] == 404


def test_body_over_cap_is_413(stack, accepted):
    big = {"model": "nano-banana-2", "prompt": "x" * (200 * 1024), "n": 1, "size": "256x256"}
    r = stack.post(IMG, json=big)
    assert_error(r, 413)
    r = stack.post(MUSIC, json={"prompt": "y" * (200 * 1024)})
    assert_error(r, 413, suno=True)


def test_unknown_route(stack, accepted):
    assert_error(stack.get("/v1/nope"), 404)
    assert_error(stack.post("/v1/nope", json={}), 404)


def test_server_still_healthy_and_nothing_lost(stack, accepted):
    """Runs last: every task accepted before the errors completes."""
    assert stack.get("/healthz").status_code == 200
    for tid in accepted["music"]:
        d = stack.wait_music(tid)
        assert len(d["tracks"]) == 2, d
    t = stack.wait_task(accepted["image"])
    assert len(t["artifacts"]) == 2, t
    # The error requests created no tasks.
    all_ids = {t["id"] for t in stack.all_tasks()}
    assert all_ids == set(accepted["music"]) | {accepted["image"]}, all_ids

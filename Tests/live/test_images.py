"""Images through the official OpenAI Python SDK, and the async variant."""

from __future__ import annotations

import base64

import pytest

from conftest import STATUSES, module_stack, png_size, sha256, wait_for


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory, mediajobs_bin):
    yield from module_stack(request, tmp_path_factory, mediajobs_bin, latency="1s", failure_rate=0)


@pytest.fixture(scope="module")
def client(stack):
    c = stack.openai()
    yield c
    c.close()


def test_sdk_generate_urls(stack, client):
    res = client.images.generate(model="nano-banana-2", prompt="A lighthouse at dusk, oil painting",
                                 n=2, size="256x256")
    assert isinstance(res.created, int) and res.created > 1_600_000_000, res
    assert len(res.data) == 2, res
    urls = [d.url for d in res.data]
    assert len(set(urls)) == 2, urls
    for url in urls:
        assert url and url.startswith(stack.base + "/files/"), url
        r = stack.download(url)
        assert r.status_code == 200, f"GET {url} -> {r.status_code}"
        assert r.headers.get("Content-Type", "").split(";")[0].strip() == "image/png", dict(r.headers)
        assert png_size(r.content) == (256, 256)


def test_sdk_generate_b64_json(stack, client):
    res = client.images.generate(model="nano-banana-2", prompt="A lighthouse at dawn", n=1,
                                 size="256x256", response_format="b64_json")
    assert len(res.data) == 1, res
    b64 = res.data[0].b64_json
    assert b64, res
    png = base64.b64decode(b64, validate=True)
    assert png_size(png) == (256, 256)


def test_sdk_image_size_1k(stack, client):
    res = client.images.generate(model="nano-banana-2", prompt="A snow leopard on a peak",
                                 extra_body={"image_size": "1K"})
    assert len(res.data) == 1, res
    r = stack.download(res.data[0].url)
    assert r.status_code == 200
    assert png_size(r.content) == (1024, 1024)


def test_async_image_generation(stack):
    task = stack.submit_image_async(n=2, size="256x256")
    tid = task["id"]

    def done():
        r = stack.get(f"/v1/images/generations/{tid}")
        assert r.status_code == 200, f"{r.status_code} {r.text}"
        j = r.json()
        assert j["id"] == tid and j["object"] == "image.generation.task", j
        assert j["status"] in STATUSES, j
        return j if j["status"] in ("completed", "failed", "canceled") else None

    j = wait_for(done, 60, interval=0.1, desc=f"image task {tid}")
    assert j["status"] == "completed", j
    assert isinstance(j.get("data"), list) and len(j["data"]) == 2, j
    for item in j["data"]:
        assert item["url"].startswith(stack.base + "/files/"), item
        r = stack.download(item["url"])
        assert r.status_code == 200
        assert png_size(r.content) == (256, 256)

    # The generic task view agrees and its artifacts carry the hashes.
    t = stack.get_task(tid)
    assert t["kind"] == "image" and t["status"] == "completed", t
    arts = sorted(t["artifacts"], key=lambda a: a["index"])
    assert [a["index"] for a in arts] == [0, 1], arts
    for a in arts:
        body = stack.download(a["url"]).content
        assert sha256(body) == a["sha256"] and len(body) == a["bytes"], a
        assert a["content_type"] == "image/png", a

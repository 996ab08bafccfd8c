"""`openapi.yaml` is the public API as built, and stays so.

* the spec is a valid OpenAPI 3.1 document that schemathesis loads;
* it lists exactly the public routes: every documented operation is answered by the
  server (not the generic route-level 404), every method it does not document is not
  routed, the routes named in the README are in it, and every route registered in
  Sources/ (operator routes aside) is in it;
* schemathesis fuzzes the live server (positive and negative data, then stateful sequences
  along the spec's links): no 5xx, every status, content type, header and body documented;
* deterministic cases schemathesis cannot reach by chance (real files with Range/ETag, a
  failed synchronous generation, 413, pruned files, idempotency, API keys) are checked
  against the spec with schemathesis' own response validation.

Server bugs found here were fixed; their cases stay as regression tests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from conftest import REPO_ROOT, launch_stack, parse_response_head, wait_for

SPEC_PATH = REPO_ROOT / "openapi.yaml"
HOOKS_PATH = Path(__file__).resolve().parent / "schemathesis_hooks.py"
README_PATH = REPO_ROOT / "README.md"
SOURCES = REPO_ROOT / "Sources" / "MediaJobs"

ADMIN_KEY = "openapi-admin-key"
API_KEY = "openapi-client-key"

# Operator routes: documented in the README's operator section, not in the public API spec.
OPERATOR_PREFIXES = ("/admin/", "/metrics")

# The checks every fuzzed response must pass.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]
FUZZ_MAX_EXAMPLES = int(os.environ.get("MEDIAJOBS_FUZZ_MAX_EXAMPLES", "25"))
# Fixed by default so CI is reproducible; set MEDIAJOBS_FUZZ_SEED=random to explore.
FUZZ_SEED = os.environ.get("MEDIAJOBS_FUZZ_SEED", "20261123")
FUZZ_TIMEOUT = 600  # hard cap on the schemathesis run, seconds (about 40 s unloaded; a loaded CI machine is slower)

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PROBE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def load_yaml() -> dict:
    import yaml  # PyYAML comes with schemathesis

    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def template(path: str) -> str:
    """`/v1/tasks/{id}` -> `/v1/tasks/{}`: compares paths whatever the parameter names."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def spec_operations(spec: dict) -> set[tuple[str, str]]:
    return {(m.upper(), template(p)) for p, item in spec["paths"].items() for m in item if m in METHODS}


def fill(path: str, value: str = "probe") -> str:
    return re.sub(r"\{[^}]*\}", value, path)


@pytest.fixture(scope="module")
def schema():
    import schemathesis

    return schemathesis.openapi.from_path(str(SPEC_PATH))


def validate(schema, method: str, path: str, response: requests.Response, documented_5xx: bool = False,
             **case_kw: Any) -> None:
    """Runs the fuzzing checks on one response, as schemathesis would (raises on any failure).
    `documented_5xx`: the response is a 5xx the spec documents (the failed synchronous image)."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    operation = schema[path][method.upper()]
    if "{" in path and "path_parameters" not in case_kw:
        # The values the request used, read back from its URL.
        sent = requests.utils.urlparse(response.url).path
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$"
        match = re.match(pattern, sent)
        assert match, f"{sent} does not match {path}"
        case_kw["path_parameters"] = {k: requests.utils.unquote(v) for k, v in match.groupdict().items()}
    case = operation.Case(**case_kw)
    try:
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_headers_conformance,
                    response_schema_conformance] + ([] if documented_5xx else [not_a_server_error]),
        )
    except Exception as e:
        raise AssertionError(
            f"{method.upper()} {path} -> {response.status_code} does not match openapi.yaml:\n{e}\n"
            f"headers: {dict(response.headers)}\nbody: {response.text[:1500] if method.upper() != 'HEAD' else ''}"
        ) from None


def serve_help(binary: str) -> str:
    p = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.stdout + p.stderr


def raw_get(base: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """A GET over a bare socket: reads what the server sends even when the framing is broken.

    Reads until the head is complete or the server closes, not for a fixed time: a slow answer
    on a loaded machine is waited for (up to the socket timeout), and a body whose framing lies
    does not matter. The body is what arrived with the head.
    """
    host, port = base.removeprefix("http://").split(":")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data and (chunk := s.recv(65536)):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, fields = parse_response_head(head)
    return status, fields, body


# --------------------------------------------------------------------------
# stacks
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory, mediajobs_bin):
    """Fast simulator; synchronous image calls give up waiting after 2 s (then 202)."""
    with launch_stack(mediajobs_bin, tmp_path_factory.mktemp("openapi"), latency="200ms",
                      serve_args=["--image-wait", "2s", "--admin-key", ADMIN_KEY]) as st:
        yield st


@pytest.fixture(scope="module")
def failing_stack(tmp_path_factory, mediajobs_bin):
    """Every upstream task fails; bodies above 4 KB are refused."""
    with launch_stack(mediajobs_bin, tmp_path_factory.mktemp("openapi-failing"), latency="100ms", failure_rate=1,
                      serve_args=["--image-wait", "10s", "--max-body-size", "4KB"]) as st:
        yield st


@pytest.fixture(scope="module")
def finished(stack):
    """A completed music task and a completed image task, with their file paths."""
    music = stack.submit_music(prompt="openapi contract music")
    image = stack.submit_image_async(n=1, size="64x64")["id"]
    m = stack.wait_music(music)
    i = stack.wait_task(image)
    return {
        "music": music,
        "image": image,
        "music_file": m["tracks"][0]["audio_url"].removeprefix(stack.base),
        "image_file": i["artifacts"][0]["url"].removeprefix(stack.base),
    }


# --------------------------------------------------------------------------
# (a) the spec is valid
# --------------------------------------------------------------------------


def test_spec_is_valid_openapi():
    from openapi_spec_validator import validate as validate_spec

    spec = load_yaml()
    assert spec["openapi"].startswith("3."), spec["openapi"]
    validate_spec(spec)


def test_schemathesis_loads_every_operation(schema):
    spec = load_yaml()
    loaded = {(op.method.upper(), template(op.path)) for op in (r.ok() for r in schema.get_all_operations())}
    assert loaded == spec_operations(spec)


# --------------------------------------------------------------------------
# (c) the spec lists exactly the routes the server answers
# --------------------------------------------------------------------------


def readme_routes() -> set[tuple[str, str]]:
    """`METHOD /path` pairs named in the README's API table."""
    text = README_PATH.read_text("utf-8")
    section = text.split("## API", 1)[1].split("\n## ", 1)[0]
    routes = set()
    for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE|HEAD) (/(?:<[^>`]*>|[^`?\s<])*)", section):
        segments = ["{}" if re.search(r"[{<]", seg) else seg for seg in path.split("/")]
        routes.add((method, "/".join(segments)))
    return routes


def source_routes() -> set[tuple[str, str]]:
    """Routes registered in Sources/MediaJobs: `<var>.get("path"...)` calls in the controllers,
    prefixed with the group each controller is mounted on (Assembly.router in Sources/MediaJobs/App/Assembly+Routes.swift) or the
    group it makes itself (`let files = router.group("files")`)."""
    mounts: dict[str, str] = {}
    for swift in (SOURCES / "App").glob("*.swift"):
        text = swift.read_text("utf-8")
        # Controllers mounted on a local group variable (the admin group behind its key).
        for var, group in re.findall(r"let (\w+) = router\.group\(\"([^\"]*)\"\)", text):
            for name in re.findall(r"(\w+Controller)\((?:[^()]|\([^()]*\))*\)\s*\.addRoutes\(\s*to:\s*" + var + r"\)", text):
                mounts[name] = group
        for name, group in re.findall(
                r"(\w+Controller)\((?:[^()]|\([^()]*\))*\)\s*\.addRoutes\(\s*to:\s*router(?:\.group\(\"([^\"]*)\"\))?", text):
            mounts[name] = group
    assert mounts, "found no `XController(...).addRoutes(to: router...)` in Sources/MediaJobs/App: update source_routes()"
    routes = set()
    for swift in (SOURCES / "API").glob("*Controller.swift"):
        text = swift.read_text("utf-8")
        for controller in re.findall(r"struct (\w+Controller)\b", text):
            assert controller in mounts, f"{controller} is not mounted with `{controller}(...).addRoutes(to: router...)` " \
                                         f"in Sources/MediaJobs/App: update source_routes()"
            prefixes = {"router": "", "group": mounts[controller]}
            for var, group in re.findall(r"let (\w+) = router\.group\(\"([^\"]*)\"\)", text):
                prefixes[var] = group
            for var, method, path in re.findall(r"\b(\w+)\.(get|post|put|patch|delete|head)\(\"([^\"]*)\"", text):
                if var not in prefixes:
                    continue
                full = "/" + "/".join(p for p in (prefixes[var].strip("/"), path.strip("/")) if p)
                routes.add((method.upper(), template(full)))
    assert routes, "found no routes in Sources/MediaJobs/API/*Controller.swift: update source_routes()"
    return {r for r in routes if not r[1].startswith(OPERATOR_PREFIXES)}


def test_spec_has_every_route_the_readme_names():
    documented = spec_operations(load_yaml())
    named = {r for r in readme_routes() if not r[1].startswith(OPERATOR_PREFIXES)}
    assert len(named) >= 10, f"README API table not found or changed shape: {named}"
    missing = sorted(named - documented)
    assert not missing, f"routes in README.md but not in openapi.yaml: {missing}"


def test_spec_has_exactly_the_routes_in_sources():
    documented = spec_operations(load_yaml())
    registered = source_routes()
    assert not sorted(registered - documented), f"routes registered in Sources/ but not in openapi.yaml: {sorted(registered - documented)}"
    assert not sorted(documented - registered), f"routes in openapi.yaml that Sources/ does not register: {sorted(documented - registered)}"


def _generic_not_found(r: requests.Response) -> bool:
    """The router's own answer for a path/method it has no route for."""
    if r.status_code == 405:
        return True
    if r.status_code != 404:
        return False
    try:
        return r.json()["error"]["code"] == "not_found"
    except (ValueError, KeyError, TypeError):
        return False


def test_every_documented_operation_is_routed(stack):
    spec = load_yaml()
    for path, item in spec["paths"].items():
        for method in item:
            if method not in METHODS or method == "head":  # a HEAD 404 has no body to tell them apart
                continue
            r = stack.s.request(method.upper(), stack.base + fill(path), json={} if method == "post" else None, timeout=30)
            assert not _generic_not_found(r), f"{method.upper()} {path} is documented but not routed: {r.status_code} {r.text[:300]}"


def test_undocumented_methods_are_not_routed(stack):
    """A method the spec does not list on a documented path must not be served either."""
    spec = load_yaml()
    for path, item in spec["paths"].items():
        for method in PROBE_METHODS:
            if method.lower() in item:
                continue
            r = stack.s.request(method, stack.base + fill(path), timeout=30)
            assert _generic_not_found(r), f"{method} {path} is answered ({r.status_code} {r.text[:300]}) but not documented"


# --------------------------------------------------------------------------
# (b) schemathesis against the live server
# --------------------------------------------------------------------------


def test_schemathesis_fuzz(stack, tmp_path):
    """Examples, coverage, fuzzing and stateful phases; positive and negative data."""
    report = tmp_path / "junit.xml"
    argv = [
        sys.executable, "-m", "schemathesis.cli", "run", str(SPEC_PATH),
        "--url", stack.base,
        "--checks", ",".join(CHECKS),
        "--max-examples", str(FUZZ_MAX_EXAMPLES),
        "--request-timeout", "30",
        "--workers", "1",  # CPython 3.11's ast module is not thread-safe; hypothesis uses it
        "--generation-database", "none",
        "--no-color",
        "--output-truncate", "false",
        "--report", "junit", "--report-junit-path", str(report),
    ]
    if FUZZ_SEED != "random":
        argv += ["--seed", FUZZ_SEED]
    env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HOOKS_PATH), NO_COLOR="1")
    started = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=FUZZ_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        partial = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"schemathesis did not finish within {FUZZ_TIMEOUT}s:\n{partial[-20000:]}", pytrace=False)
    elapsed = time.monotonic() - started
    out = p.stdout + p.stderr
    at = out.rfind("\n", 0, out.rfind("SUMMARY")) if "SUMMARY" in out else -1
    summary = out[at + 1:] if at >= 0 else out[-3000:]
    print(f"schemathesis ran {elapsed:.1f}s, exit {p.returncode}\n{summary}")
    if p.returncode != 0:
        # Failures first (with their curl reproductions), then the summary.
        pytest.fail(f"schemathesis found problems (exit {p.returncode}, {elapsed:.0f}s):\n{out[-30000:]}", pytrace=False)
    tested = re.search(r"Tested:\s+(\d+)", out)
    assert tested and int(tested.group(1)) == len(spec_operations(load_yaml())), f"not every operation was tested:\n{summary}"


# --------------------------------------------------------------------------
# deterministic cases, checked against the spec
# --------------------------------------------------------------------------


def test_task_routes_match_the_spec(stack, schema, finished):
    music, image = finished["music"], finished["image"]
    validate(schema, "GET", "/suno/fetch/{task_id}", stack.get(f"/suno/fetch/{music}"))
    validate(schema, "POST", "/suno/fetch", stack.post("/suno/fetch", json={"ids": [music, image, "nope"]}))
    validate(schema, "GET", "/v1/images/generations/{id}", stack.get(f"/v1/images/generations/{image}"))
    for tid in (music, image):
        validate(schema, "GET", "/v1/tasks/{id}", stack.get(f"/v1/tasks/{tid}"))
        r = stack.post(f"/v1/tasks/{tid}/cancel")
        assert r.status_code == 409, r.text
        validate(schema, "POST", "/v1/tasks/{id}/cancel", r)
    validate(schema, "GET", "/v1/tasks", stack.get("/v1/tasks", params={"limit": 1}))
    validate(schema, "GET", "/v1/tasks", stack.get("/v1/tasks", params={"after": "img_nope"}))
    validate(schema, "GET", "/suno/fetch/{task_id}", stack.get(f"/suno/fetch/{image}"))  # wrong kind: 404
    r = stack.post("/v1/images/generations", json={"prompt": "a lighthouse", "size": "64x64", "response_format": "b64_json"})
    assert r.status_code == 200, r.text
    validate(schema, "POST", "/v1/images/generations", r)
    r = stack.post("/v1/images/generations", json={"prompt": "a lighthouse"}, headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    validate(schema, "POST", "/v1/images/generations", r)
    r = stack.post(f"/v1/tasks/{r.json()['id']}/cancel")
    assert r.status_code in (200, 409), r.text
    validate(schema, "POST", "/v1/tasks/{id}/cancel", r)
    validate(schema, "GET", "/healthz", stack.get("/healthz"))
    validate(schema, "GET", "/readyz", stack.get("/readyz"))


def test_files_match_the_spec(stack, schema, finished):
    path = "/files/{task_id}/{file}"
    for file in (finished["music_file"], finished["image_file"]):
        whole = stack.get(file)
        assert whole.status_code == 200
        validate(schema, "GET", path, whole)
        part = stack.get(file, headers={"Range": "bytes=0-9"})
        assert part.status_code == 206 and part.content == whole.content[:10]
        validate(schema, "GET", path, part)
        cached = stack.get(file, headers={"If-None-Match": whole.headers["ETag"]})
        assert cached.status_code == 304
        validate(schema, "GET", path, cached)
        head = stack.s.head(stack.base + file, timeout=30)
        assert head.status_code == 200
        validate(schema, "HEAD", path, head)
    missing = stack.get(finished["image_file"].replace("/0.png", "/9.png"))
    assert missing.status_code == 404
    validate(schema, "GET", path, missing)


def test_range_past_the_end_is_416(stack, finished):
    status, headers, _ = raw_get(stack.base, finished["image_file"], {"Range": "bytes=99999999-100000000"})
    assert status == 416, (status, headers)


def test_range_at_the_end_is_416(stack, finished):
    size = len(stack.get(finished["image_file"]).content)
    status, headers, _ = raw_get(stack.base, finished["image_file"], {"Range": f"bytes={size}-"})
    assert status == 416, (status, headers)


def test_suffix_range_serves_the_last_bytes(stack, finished):
    whole = stack.get(finished["music_file"]).content
    r = stack.get(finished["music_file"], headers={"Range": "bytes=-5"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {len(whole) - 5}-{len(whole) - 1}/{len(whole)}", r.headers
    assert r.content == whole[-5:]


def test_failed_generation_and_body_limit_match_the_spec(failing_stack, schema):
    st = failing_stack
    r = st.post("/v1/images/generations", json={"prompt": "doomed", "size": "64x64"})
    assert r.status_code == 500 and r.headers.get("x-should-retry") == "false", (r.status_code, r.headers, r.text)
    assert r.json()["error"]["code"] == "generation_failed", r.text
    validate(schema, "POST", "/v1/images/generations", r, documented_5xx=True)
    tid = st.submit_music(prompt="doomed music")
    st.wait_music(tid, want="failed")
    validate(schema, "GET", "/suno/fetch/{task_id}", st.get(f"/suno/fetch/{tid}"))
    validate(schema, "GET", "/v1/tasks/{id}", st.get(f"/v1/tasks/{tid}"))
    big = {"prompt": "x", "metadata": {"pad": "x" * 8000}}
    for path in ("/suno/submit/music", "/v1/images/generations"):
        r = st.post(path, json=big)
        assert r.status_code == 413, r.text
        validate(schema, "POST", path, r)
    r = st.post("/suno/fetch", json={"ids": ["x" * 40] * 200})
    assert r.status_code == 413, r.text
    validate(schema, "POST", "/suno/fetch", r)


@pytest.fixture(scope="module")
def pruned(stack):
    """A completed music and image task whose files the retention policy removed."""
    music = stack.submit_music(prompt="openapi contract: pruned")
    image = stack.submit_image_async(n=1, size="64x64")["id"]
    m = stack.wait_music(music)
    i = stack.wait_task(image)
    r = stack.post("/admin/v1/prune", json={"older_than": "0s"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert r.status_code == 200, r.text
    wait_for(lambda: stack.get(f"/v1/tasks/{image}").json()["artifacts"][0]["expired"], 60, desc="image pruned")
    wait_for(lambda: stack.get(f"/v1/tasks/{music}").json()["artifacts"][0]["expired"], 60, desc="music pruned")
    return {"music": music, "image": image, "music_file": m["tracks"][0]["audio_url"].removeprefix(stack.base),
            "image_file": i["artifacts"][0]["url"].removeprefix(stack.base)}


def test_pruned_tasks_and_files_match_the_spec(stack, schema, pruned):
    gone = stack.get(pruned["music_file"])
    assert gone.status_code == 410, gone.text
    validate(schema, "GET", "/files/{task_id}/{file}", gone)
    validate(schema, "GET", "/suno/fetch/{task_id}", stack.get(f"/suno/fetch/{pruned['music']}"))
    validate(schema, "GET", "/v1/tasks/{id}", stack.get(f"/v1/tasks/{pruned['image']}"))


def test_pruned_image_task_matches_the_spec(stack, schema, pruned):
    validate(schema, "GET", "/v1/images/generations/{id}", stack.get(f"/v1/images/generations/{pruned['image']}"))


def test_idempotency_key_matches_the_spec(stack, schema):
    key = f"openapi-{uuid.uuid4()}"
    body = {"prompt": "idempotent music", "title": "Once"}
    first = stack.post("/suno/submit/music", json=body, headers={"Idempotency-Key": key})
    second = stack.post("/suno/submit/music", json=body, headers={"Idempotency-Key": key})
    other = stack.post("/suno/submit/music", json=dict(body, title="Twice"), headers={"Idempotency-Key": key})
    if first.status_code == second.status_code == other.status_code == 200 and \
            len({r.json()["data"]["task_id"] for r in (first, second, other)}) == 3:
        pytest.skip("this binary ignores Idempotency-Key (not implemented yet)")
    for r in (first, second, other):
        validate(schema, "POST", "/suno/submit/music", r)
    assert second.json() == first.json()
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused", other.text

    key = f"openapi-{uuid.uuid4()}"
    body = {"prompt": "idempotent image", "size": "64x64"}
    hdrs = {"Idempotency-Key": key, "Prefer": "respond-async"}
    first = stack.post("/v1/images/generations", json=body, headers=hdrs)
    second = stack.post("/v1/images/generations", json=body, headers=hdrs)
    other = stack.post("/v1/images/generations", json=dict(body, n=2), headers=hdrs)
    for r in (first, second, other):
        validate(schema, "POST", "/v1/images/generations", r)
    assert second.json()["id"] == first.json()["id"]
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused", other.text
    r = stack.post("/suno/submit/music", json={"prompt": "bad key"}, headers={"Idempotency-Key": "k" * 256})
    assert r.status_code == 400, r.text
    validate(schema, "POST", "/suno/submit/music", r)


def test_api_keys_match_the_spec(tmp_path, mediajobs_bin, schema):
    if "--api-keys" not in serve_help(mediajobs_bin):
        pytest.skip("this binary has no --api-keys yet")
    with launch_stack(mediajobs_bin, tmp_path / "keys", latency="200ms", serve_args=["--api-keys", API_KEY]) as st:
        auth = {"Authorization": f"Bearer {API_KEY}"}
        tid = st.post("/suno/submit/music", json={"prompt": "keyed"}, headers=auth).json()["data"]["task_id"]
        cases = [
            ("POST", "/suno/submit/music", "/suno/submit/music", {"json": {"prompt": "x"}}),
            ("GET", "/suno/fetch/{task_id}", f"/suno/fetch/{tid}", {}),
            ("POST", "/suno/fetch", "/suno/fetch", {"json": {"ids": [tid]}}),
            ("POST", "/v1/images/generations", "/v1/images/generations", {"json": {"prompt": "x"}}),
            ("GET", "/v1/images/generations/{id}", "/v1/images/generations/img_x", {}),
            ("GET", "/v1/tasks", "/v1/tasks", {}),
            ("GET", "/v1/tasks/{id}", f"/v1/tasks/{tid}", {}),
            ("POST", "/v1/tasks/{id}/cancel", f"/v1/tasks/{tid}/cancel", {}),
            ("GET", "/files/{task_id}/{file}", f"/files/{tid}/0.wav", {}),
        ]
        for method, path, url, kw in cases:
            for headers in ({}, {"Authorization": "Bearer wrong-key"}):
                r = st.s.request(method, st.base + url, headers=headers, timeout=30, **kw)
                assert r.status_code == 401, f"{method} {url} with {headers}: {r.status_code} {r.text}"
                validate(schema, method, path, r)
        for path in ("/healthz", "/readyz"):
            r = st.get(path)
            assert r.status_code == 200, r.text
            validate(schema, "GET", path, r)
        r = st.get(f"/v1/tasks/{tid}", headers=auth)
        assert r.status_code == 200, r.text
        validate(schema, "GET", "/v1/tasks/{id}", r)


def test_video_routes_match_the_spec(stack, schema):
    """A video through its whole life, each answer checked against the spec: created (JSON and
    multipart), unfinished (poll-after, 409 content), completed (list, content, thumbnail, ranges),
    deleted."""
    r = stack.post("/v1/videos", json={"prompt": "openapi contract video", "seconds": 1, "size": "480x480"})
    assert r.status_code == 200, r.text
    validate(schema, "POST", "/v1/videos", r)
    vid = r.json()["id"]
    early = stack.get(f"/v1/videos/{vid}/content")
    if r.json()["status"] != "completed" and early.status_code == 409:
        validate(schema, "GET", "/v1/videos/{id}/content", early)
    form = b'--b0\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nform video\r\n--b0\r\n' \
           b'Content-Disposition: form-data; name="seconds"\r\n\r\n1\r\n--b0--\r\n'
    r = stack.post("/v1/videos", data=form, headers={"Content-Type": "multipart/form-data; boundary=b0"})
    assert r.status_code == 200, r.text
    validate(schema, "POST", "/v1/videos", r)
    other = r.json()["id"]
    done = wait_for(lambda: (v := stack.get(f"/v1/videos/{vid}")).json()["status"] == "completed" and v, 60, desc="the video")
    validate(schema, "GET", "/v1/videos/{id}", done)
    for params in ({}, {"order": "asc", "limit": "1"}):
        validate(schema, "GET", "/v1/videos", stack.get("/v1/videos", params=params), query=params)
    for variant in ("video", "thumbnail"):
        params = {"variant": variant}
        validate(schema, "GET", "/v1/videos/{id}/content", stack.get(f"/v1/videos/{vid}/content", params=params), query=params)
    ranged = stack.get(f"/v1/videos/{vid}/content", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206, ranged.headers
    validate(schema, "GET", "/v1/videos/{id}/content", ranged, headers={"Range": "bytes=0-9"})
    validate(schema, "GET", "/v1/tasks/{id}", stack.get(f"/v1/tasks/{vid}"))
    for tid in (vid, other):
        validate(schema, "DELETE", "/v1/videos/{id}", stack.s.delete(stack.base + f"/v1/videos/{tid}", timeout=30))
    validate(schema, "GET", "/v1/videos/{id}", stack.get(f"/v1/videos/{vid}"))

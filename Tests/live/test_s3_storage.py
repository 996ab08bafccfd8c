"""Artifacts in S3: the real binary in demo mode against a real S3 API server (moto, with
signature checking on, started by scripts/s3-test-server).

Music and image tasks complete with their objects in the bucket (`<prefix>/<task>/<file>`, the
recorded sha256 and content type) and nothing under the data directory's media folder; `/files`
answers 307 to a presigned URL whose signature botocore computes identically and which downloads
the same bytes; prune removes the objects and `/files` then answers 410; a wrong secret leaves
`/readyz` at 503 with the reason, never the secret.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import botocore.auth
import botocore.config
import pytest

from conftest import HTTP_TIMEOUT, TERMINAL, Proc, Server, Upstream, assert_error, free_port, http, sha256, wait_for

ADMIN_KEY = "s3-admin-key"
PREFIX = "media/live"


@pytest.fixture(scope="module")
def s3_server() -> dict:
    names = ("MEDIAJOBS_TEST_S3_ENDPOINT", "MEDIAJOBS_TEST_S3_ACCESS_KEY_ID", "MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run scripts/test, or `source scripts/s3-test-server` first", pytrace=False)
    return {n: os.environ[n] for n in names}


@pytest.fixture
def bucket(s3_server):
    """A fresh bucket, and a boto3 client on it with the server's real key."""
    client = boto3.client("s3", endpoint_url=s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    name = f"live-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name, client


def s3_serve_args(s3_server: dict, bucket_name: str) -> list[str]:
    return ["--storage-url", f"s3://{bucket_name}/{PREFIX}", "--s3-endpoint", s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"],
            "--s3-region", "us-east-1", "--s3-presign-ttl", "10m", "--admin-key", ADMIN_KEY,
            "--simulator-latency", "300ms"]


@contextmanager
def signature_checks_paused(endpoint: str):
    """moto answers a presigned request with a 500 while it checks signatures (it only knows the
    header form), so to fetch one the test lets requests in unchecked for a moment. The
    signature itself is checked against botocore's separately."""
    def reset(count: bytes) -> None:
        request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count, method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10).read()
    reset(b"inf")
    try:
        yield
    finally:
        reset(b"0")


def botocore_presigned_signature(url: str, s3_server: dict) -> str:
    """The signature botocore gives the same GET, at the moment and validity the URL names."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    moment = datetime.datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    client = boto3.client("s3", endpoint_url=s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"],
                          config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    bucket_name, key = parts.path.lstrip("/").split("/", 1)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        theirs = client.generate_presigned_url("get_object", Params={"Bucket": bucket_name, "Key": unquote(key)},
                                               ExpiresIn=int(query["X-Amz-Expires"][0]))
    return parse_qs(urlsplit(theirs).query)["X-Amz-Signature"][0]


def test_tasks_store_in_the_bucket_and_files_redirect(stack_factory, s3_server, bucket, monkeypatch):
    bucket_name, s3 = bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    st = stack_factory("s3", demo=True, serve_args=s3_serve_args(s3_server, bucket_name))

    ready = st.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["storage"] == "ok", ready.text

    music = st.submit_music()
    image = st.submit_image_async()["id"]
    tasks = [st.wait_task(music), st.wait_task(image)]
    # Each artifact with its task and file name, as its stable /files/<task>/<file> URL names them.
    artifacts = [dict(a, task_id=a["url"].split("/")[-2], file_name=a["url"].split("/")[-1]) for t in tasks for a in t["artifacts"]]
    assert len(artifacts) == 5, tasks  # two tracks and their covers, one image

    listed = {o["Key"]: o for o in s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents", [])}
    for a in artifacts:
        key = f"{PREFIX}/{a['task_id']}/{a['file_name']}"
        assert key in listed, (key, sorted(listed))
        obj = s3.get_object(Bucket=bucket_name, Key=key)
        body = obj["Body"].read()
        assert sha256(body) == a["sha256"] and len(body) == a["bytes"], a
        assert obj["ContentType"] == a["content_type"], (obj["ContentType"], a)
    assert len(listed) == 5, sorted(listed)
    media = st.server.data_dir / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*")), "nothing on the local disk"
    assert not any((st.server.data_dir / "tmp").iterdir()), "no temp files left"

    # /files: 307 to a presigned GET that botocore signs the same way, and that serves the bytes.
    for a in artifacts:
        r = st.get(a["url"].removeprefix(st.base), allow_redirects=False)
        assert r.status_code == 307, (r.status_code, r.text)
        location = r.headers["Location"]
        assert location.startswith(f"{s3_server['MEDIAJOBS_TEST_S3_ENDPOINT']}/{bucket_name}/{PREFIX}/{a['task_id']}/"), location
        assert r.headers["Cache-Control"] == "private, max-age=540", r.headers
        query = parse_qs(urlsplit(location).query)
        assert query["X-Amz-Expires"] == ["600"] and query["X-Amz-SignedHeaders"] == ["host"], query
        assert query["X-Amz-Signature"] == [botocore_presigned_signature(location, s3_server)], location
        with signature_checks_paused(s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"]):
            fetched = urllib.request.urlopen(location, timeout=30).read()
        assert sha256(fetched) == a["sha256"], a

    # Prune removes the objects; the files then answer 410.
    r = st.post("/admin/v1/prune", json={"older_than": "0s"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert r.status_code == 200, r.text
    wait_for(lambda: not s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents"), 30,
             desc="the pruned objects to leave the bucket")
    for a in artifacts:
        assert_error(st.get(a["url"].removeprefix(st.base), allow_redirects=False), 410)
    assert all(a["expired"] for a in st.get_task(music)["artifacts"])

    log = st.server.log_text
    assert s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"] not in log


def test_wrong_secret_is_not_ready_and_never_logged(stack_factory, s3_server, bucket, monkeypatch):
    bucket_name, _ = bucket
    wrong = "definitely-not-the-secret-0123456789"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    st = stack_factory("s3-wrong", demo=True, serve_args=s3_serve_args(s3_server, bucket_name))
    r = st.get("/readyz")
    assert r.status_code == 503, r.text
    reason = r.json()["checks"]["storage"]
    assert "refused these credentials" in reason and bucket_name in reason, reason
    log = st.server.log_text
    assert "S3 storage not usable" in log and bucket_name in log, log[-2000:]
    assert wrong not in log and wrong not in r.text


def test_missing_credentials_refuse_to_start(mediajobs_bin, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    run = subprocess.run([mediajobs_bin, "serve", "--data-dir", str(tmp_path), "--port", "0", "--storage-url", "s3://some-bucket/x"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "AWS_ACCESS_KEY_ID" in run.stderr + run.stdout, run.stderr


def test_proxy_mode_streams_with_range(stack_factory, s3_server, bucket, monkeypatch):
    bucket_name, s3 = bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    st = stack_factory("s3-proxy", demo=True, serve_args=s3_serve_args(s3_server, bucket_name) + ["--s3-serve", "proxy"])
    task = st.wait_task(st.submit_music())
    for a in task["artifacts"]:
        path = a["url"].removeprefix(st.base)
        whole = st.get(path, allow_redirects=False)
        assert whole.status_code == 200, (whole.status_code, whole.text)
        assert sha256(whole.content) == a["sha256"] and whole.headers["Content-Type"] == a["content_type"], whole.headers
        assert whole.headers["ETag"] == f'"{a["sha256"]}"', whole.headers
        part = st.get(path, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == whole.content[100:200], part.headers
        assert part.headers["Content-Range"] == f"bytes 100-199/{a['bytes']}", part.headers
        tail_part = st.get(path, headers={"Range": "bytes=-10"})
        assert tail_part.status_code == 206 and tail_part.content == whole.content[-10:]
        assert st.get(path, headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304


def test_storage_down_then_back_completes_every_task(stack_factory, monkeypatch, tmp_path):
    """The S3 server is down when tasks finish upstream: uploads fail and are retried with backoff,
    no task completes without its object, and once a server answers on that address every task
    completes with its objects. (A moto of its own, without signature checks, on a held port.)"""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEDOWN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "down-secret")
    st = stack_factory("s3-down", demo=True, serve_args=[
        "--storage-url", "s3://comes-back/p", "--s3-endpoint", endpoint, "--simulator-latency", "200ms"])
    assert st.get("/readyz").status_code == 503
    ids = [st.submit_music(), st.submit_image_async()["id"]]
    # Downloads happen and their uploads fail: the tasks wait in `downloading`, none completes.
    wait_for(lambda: "artifact upload failed" in st.server.log_text, 60, desc="a failed upload")
    assert all(st.get_task(t)["status"] in ("queued", "processing", "downloading") for t in ids)

    moto = Proc("moto", [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], tmp_path / "moto.log")
    moto.start()
    try:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="AKIAEXAMPLEDOWN", aws_secret_access_key="down-secret")
        wait_for(lambda: _try(lambda: client.create_bucket(Bucket="comes-back")), 30, desc="moto to start")
        tasks = [st.wait_task(t, timeout=120) for t in ids]
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="comes-back").get("Contents", [])}
        for t in tasks:
            for a in t["artifacts"]:
                assert f"p/{t['id']}/{a['url'].split('/')[-1]}" in keys, (a, keys)
        wait_for(lambda: st.get("/readyz").status_code == 200, 30, desc="/readyz to recover")
    finally:
        moto.stop()


def _try(action) -> bool:
    try:
        action()
        return True
    except Exception:
        return False


def test_cli_prune_removes_objects(stack_factory, s3_server, bucket, monkeypatch, mediajobs_bin):
    """`mediajobs prune` with the servers' --storage-url deletes the objects, beside the running server."""
    bucket_name, s3 = bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    st = stack_factory("s3-cli", demo=True, serve_args=s3_serve_args(s3_server, bucket_name))
    task = st.wait_task(st.submit_music())
    # Two tracks and their covers.
    assert len(s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents", [])) == len(task["artifacts"]) == 4
    run = subprocess.run([mediajobs_bin, "prune", "--older-than", "0s", "--json", "--data-dir", str(st.server.data_dir),
                          "--storage-url", f"s3://{bucket_name}/{PREFIX}", "--s3-endpoint", s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"]],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert '"count" : 4' in run.stdout or '"count": 4' in run.stdout, run.stdout
    assert not s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents"), "objects left after prune"
    assert all(a["expired"] for a in st.get_task(task["id"])["artifacts"])


def test_storage_sweep_removes_objects_no_row_names(stack_factory, s3_server, bucket, monkeypatch, mediajobs_bin):
    """`mediajobs storage sweep`: an object no artifact row names (a crash between upload and row)
    is reported by --dry-run, then removed; the task's own objects stay."""
    bucket_name, s3 = bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    st = stack_factory("s3-sweep", demo=True, serve_args=s3_serve_args(s3_server, bucket_name))
    task = st.wait_task(st.submit_music())
    s3.put_object(Bucket=bucket_name, Key=f"{PREFIX}/suno_orphan/0.wav", Body=b"left behind by a crash")

    def sweep(*extra: str) -> dict:
        run = subprocess.run([mediajobs_bin, "storage", "sweep", "--json", "--older-than", "0s", *extra,
                              "--data-dir", str(st.server.data_dir), "--storage-url", f"s3://{bucket_name}/{PREFIX}",
                              "--s3-endpoint", s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"]], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    def keys() -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents", [])}

    report = sweep("--dry-run")
    assert report["orphans"] == ["suno_orphan/0.wav"] and report["deleted"] == 0, report
    assert f"{PREFIX}/suno_orphan/0.wav" in keys()
    report = sweep()
    assert report["deleted"] == 1, report
    assert keys() == {f"{PREFIX}/{task['id']}/{a['url'].split('/')[-1]}" for a in task["artifacts"]}
    # Recent objects are never judged: an upload may be in flight.
    s3.put_object(Bucket=bucket_name, Key=f"{PREFIX}/suno_inflight/0.wav", Body=b"uploading")
    run = subprocess.run([mediajobs_bin, "storage", "sweep", "--json", "--data-dir", str(st.server.data_dir),
                          "--storage-url", f"s3://{bucket_name}/{PREFIX}", "--s3-endpoint", s3_server["MEDIAJOBS_TEST_S3_ENDPOINT"]],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and json.loads(run.stdout)["recent"] >= 1, run.stdout + run.stderr
    assert f"{PREFIX}/suno_inflight/0.wav" in keys()


def test_two_instances_on_postgresql_share_the_bucket(mediajobs_bin, s3_server, bucket, monkeypatch, tmp_path):
    """Two servers, one PostgreSQL database, one bucket, and no shared directory: each task's
    objects land once in the bucket whichever instance downloads them, and either instance
    serves any task's files."""
    from test_several_instances import fresh_database

    bucket_name, s3 = bucket
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"])
    database = fresh_database()
    upstream = Upstream(mediajobs_bin, tmp_path, latency="500ms", track_duration="1s").start()
    servers = [
        Server(mediajobs_bin, tmp_path / f"node-{k}", upstream_url=upstream.url, name=f"serve-{k}",
               extra=["--database-url", database, *s3_serve_args(s3_server, bucket_name)])
        for k in range(2)
    ]
    try:
        for server in servers:
            server.start()
        with http() as s:
            ids = []
            for k in range(6):
                r = s.post(servers[k % 2].url("/suno/submit/music"), json={"prompt": f"shared bucket {k}"}, timeout=HTTP_TIMEOUT)
                assert r.status_code == 200, r.text
                ids.append(r.json()["data"]["task_id"])

            def finished() -> list[dict] | None:
                tasks = [s.get(servers[0].url(f"/v1/tasks/{t}"), timeout=HTTP_TIMEOUT).json() for t in ids]
                return tasks if all(t["status"] in TERMINAL for t in tasks) else None

            tasks = wait_for(finished, 120, desc="every task to finish")
            assert all(t["status"] == "completed" for t in tasks), [t["status"] for t in tasks]
            listed = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket_name, Prefix=PREFIX + "/").get("Contents", [])}
            assert len(listed) == 4 * len(ids), sorted(listed)  # two tracks and their covers per task
            for t in tasks:
                for a in t["artifacts"]:
                    key = f"{PREFIX}/{t['id']}/{a['url'].split('/')[-1]}"
                    assert listed.get(key) == a["bytes"], (key, a)
                    # Either instance answers for any task, with a redirect into the shared bucket.
                    for server in servers:
                        r = s.get(server.url(f"/files/{t['id']}/{a['url'].split('/')[-1]}"), allow_redirects=False, timeout=HTTP_TIMEOUT)
                        assert r.status_code == 307 and f"/{bucket_name}/{key}?" in r.headers["Location"], (r.status_code, r.headers)
        for server in servers:
            media = server.data_dir / "media"
            assert not media.exists() or not any(p.is_file() for p in media.rglob("*")), f"files on {server.data_dir}"
    finally:
        for server in servers:
            server.stop()
            server.reservation.release()
        upstream.stop()

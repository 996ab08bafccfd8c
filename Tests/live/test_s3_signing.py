"""SigV4 as MediaJobs signs it, against botocore on a few hundred generated requests.

The requests are generated from a fixed seed: odd keys (spaces, unicode, `+`, `~`, `=`, `%`,
`&`, `/` runs), query parameters with and without values, extra signed headers with runs of
spaces, session tokens, several regions and moments. botocore signs each one (its `S3SigV4Auth`
for the `Authorization` header, `S3SigV4QueryAuth` for the presigned URL, at the same frozen
time) and the hidden `mediajobs sign-s3-requests` command signs the same inputs: every signature
must be equal.
"""

from __future__ import annotations

import datetime
import json
import random
import subprocess
from unittest import mock
from urllib.parse import parse_qs, quote, urlsplit

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEED = 20130524
COUNT = 300

KEY_ALPHABET = list("abcXYZ019-._~ +=&%$@!*'()[],;:?#/") + ["é", "ü", "日本", "🎵", "ß", "\u00a0"]
REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2"]


def encode_path(path: str) -> str:
    """How botocore's serializer puts an S3 key into the URL (safe: '/' and '~')."""
    return quote(path, safe="/~")


def encode_query(query: list[list[str]]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)


def generate(rng: random.Random) -> dict:
    key = "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randint(1, 24))).strip("/") or "k"
    bucket = rng.choice(["media", "my.bucket", "b-1"])
    query = []
    # Distinct names: botocore's presigner keeps one value per name.
    names = ["uploadId", "partNumber", "prefix", "list-type", "continuation-token", "uploads", "delete", "x y", "a+b"]
    for name in rng.sample(names, rng.choice([0, 0, 1, 2, 3])):
        value = "" if name in ("uploads", "delete") else "".join(rng.choice(KEY_ALPHABET) for _ in range(rng.randint(0, 10)))
        query.append([name, value])
    headers = []
    if rng.random() < 0.5:
        headers.append(["Range", f"bytes={rng.randint(0, 99)}-{rng.randint(100, 999)}"])
    if rng.random() < 0.5:
        headers.append(["Content-Type", rng.choice(["audio/mpeg", "image/png", "application/xml", "text/plain;  charset=utf-8"])])
    if rng.random() < 0.3:
        headers.append(["x-amz-meta-note", "  spaced   out  value "])
    payload = rng.choice([
        "UNSIGNED-PAYLOAD",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "".join(rng.choice("0123456789abcdef") for _ in range(64)),
    ])
    return {
        "method": rng.choice(["GET", "PUT", "HEAD", "POST", "DELETE"]),
        "host": rng.choice(["127.0.0.1:9000", "s3.example.test", f"{bucket}.s3.amazonaws.com", "[::1]:9000"]),
        "path": f"/{bucket}/{key}",
        "query": query,
        "headers": headers,
        "payload_hash": payload,
        "epoch_seconds": rng.randint(1_300_000_000, 2_000_000_000),
        "access_key_id": rng.choice(["AKIAIOSFODNN7EXAMPLE", "ASIAEXAMPLE"]),
        "secret_access_key": "".join(rng.choice("abcdefABCDEF0123456789/+") for _ in range(40)),
        "session_token": rng.choice([None, None, "FwoGZXIvYXdzEDMaD+/token=="]),
        "region": rng.choice(REGIONS),
        "expires": rng.choice([1, 60, 900, 86400, 604800]),
    }


def botocore_signatures(case: dict) -> tuple[str, str]:
    credentials = Credentials(case["access_key_id"], case["secret_access_key"], case["session_token"])
    moment = datetime.datetime.fromtimestamp(case["epoch_seconds"], datetime.timezone.utc).replace(tzinfo=None)
    query = encode_query(case["query"])
    url = f"http://{case['host']}{encode_path(case['path'])}" + (f"?{query}" if query else "")

    request = AWSRequest(method=case["method"], url=url, headers=dict(case["headers"]))
    request.headers["X-Amz-Content-SHA256"] = case["payload_hash"]
    auth = S3SigV4Auth(credentials, "s3", case["region"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        # The payload hash is the caller's (as for a streamed body): botocore keeps a header it is given.
        with mock.patch.object(S3SigV4Auth, "payload", return_value=case["payload_hash"]):
            auth.add_auth(request)
    authorization = request.headers["Authorization"]

    presign = AWSRequest(method=case["method"], url=url)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        S3SigV4QueryAuth(credentials, "s3", case["region"], expires=case["expires"]).add_auth(presign)
    signature = parse_qs(urlsplit(presign.url).query)["X-Amz-Signature"][0]
    return authorization, signature


def test_signatures_match_botocore(mediajobs_bin):
    rng = random.Random(SEED)
    cases = [generate(rng) for _ in range(COUNT)]
    stdin = "\n".join(json.dumps(case) for case in cases) + "\n"
    run = subprocess.run([mediajobs_bin, "sign-s3-requests"], input=stdin, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    ours = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert len(ours) == COUNT

    mismatches = []
    for case, mine in zip(cases, ours):
        authorization, signature = botocore_signatures(case)
        if mine["authorization"] != authorization:
            mismatches.append(("authorization", case, mine["authorization"], authorization))
        their_query = parse_qs(urlsplit(mine["presigned_url"]).query)
        if their_query.get("X-Amz-Signature") != [signature]:
            mismatches.append(("presigned", case, mine["presigned_url"], signature))
    assert not mismatches, f"{len(mismatches)} of {2 * COUNT} signatures differ; first: {mismatches[0]}"


def test_aws_published_examples_through_the_binary(mediajobs_bin):
    """The same tool reproduces AWS's worked examples (the Swift suite checks them directly too),
    so a mismatch above is botocore against MediaJobs, not a broken harness."""
    case = {
        "method": "GET", "host": "examplebucket.s3.amazonaws.com", "path": "/test.txt", "query": [],
        "headers": [["Range", "bytes=0-9"]],
        "payload_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "epoch_seconds": 1369353600, "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session_token": None,
        "region": "us-east-1", "expires": 86400,
    }
    run = subprocess.run([mediajobs_bin, "sign-s3-requests"], input=json.dumps(case) + "\n", capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    mine = json.loads(run.stdout)
    assert mine["authorization"].endswith("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    assert mine["presigned_url"].endswith("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    assert botocore_signatures(case)[1] == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

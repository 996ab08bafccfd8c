"""Schemathesis hooks for the API fuzzing run of `test_openapi.py` (loaded via $SCHEMATHESIS_HOOKS).

The server resolves the host of a submitted `callback_url` at submit time (SSRF guard). A
generated URL with a random host name would make it ask DNS, i.e. send traffic off this
machine. So every string `callback_url` is replaced, just before the request is sent, by one
of a fixed set of values whose hosts need no DNS (loopback literals, `localhost` from
/etc/hosts, or no host at all). They still cover the refusal paths (loopback refused,
unsupported scheme, malformed) and, with private networks allowed, the accepted path.
"""

from __future__ import annotations

import hashlib

import schemathesis

SAFE_CALLBACK_URLS = (
    "http://127.0.0.1:9/hook",
    "https://127.0.0.1/hook?x=1",
    "http://localhost:9/hook",
    "http://[::1]:9/hook",
    "http://2130706433:9/hook",
    "ftp://127.0.0.1/hook",
    "file:///etc/passwd",
    "not a url",
    "http://",
    "",
)


def _safe_callback(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
    return SAFE_CALLBACK_URLS[digest[0] % len(SAFE_CALLBACK_URLS)]


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("callback_url"), str):
        body["callback_url"] = _safe_callback(body["callback_url"])

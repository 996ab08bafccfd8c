#!/usr/bin/env python3
"""A small reference webhook receiver for MediaJobs events.

It verifies every request with the official `standardwebhooks` library, de-duplicates on
`webhook-id`, and appends one JSON line per request to a log file. Use it as a starting point
for your own consumer; the MediaJobs test suite uses it as the receiving end.

    pip install standardwebhooks
    python3 receiver.py --port 9000 --secret whsec_... --log events.jsonl

Options for tests: --fail-first N answers 500 to the first N requests; --status CODE answers
CODE to every request.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str, log_path: str | None, fail_first: int, status: int | None) -> None:
        self.webhook = Webhook(secret)
        self.log_path = log_path
        self.fail_first = fail_first
        self.status = status
        self.seen: set[str] = set()
        self.requests = 0
        self.lock = threading.Lock()

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests += 1
            number = self.requests
        entry: dict = {"received_at": time.time(), "request": number, "webhook_id": headers.get("webhook-id")}
        try:
            event = self.webhook.verify(body, headers)
            entry.update(verified=True, type=event["type"], task_id=event["data"]["id"], status=event["data"]["status"])
        except (WebhookVerificationError, ValueError, KeyError) as error:
            entry.update(verified=False, error=str(error))
            self.write(entry)
            return 400  # a bad signature is never retried into success: tell the sender plainly
        if self.status is not None:
            answer = self.status
        elif number <= self.fail_first:
            answer = 500
        else:
            answer = 200
        with self.lock:
            # Retries carry the same webhook-id: act on an event once, acknowledge it every time.
            duplicate = entry["webhook_id"] in self.seen
            if answer < 300:
                self.seen.add(entry["webhook_id"])
        entry.update(answered=answer, duplicate=duplicate)
        self.write(entry)
        return answer

    def write(self, entry: dict) -> None:
        line = json.dumps(entry)
        if self.log_path:
            with self.lock, open(self.log_path, "a", encoding="utf-8") as log:
                log.write(line + "\n")
        else:
            print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the whsec_ secret MediaJobs signs with")
    parser.add_argument("--log", help="append one JSON line per request here (default: stdout)")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int)
    args = parser.parse_args(argv)
    receiver = Receiver(args.secret, args.log, args.fail_first, args.status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            code = receiver.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:  # keep stderr quiet; the log file is the record
            pass

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"receiver listening on http://{args.host}:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

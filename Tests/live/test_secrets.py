"""Keys stay secret: the upstream key never shows in logs, answers or the database, and client
API keys are stored only as digests."""

from __future__ import annotations

from conftest import Upstream, Server, Stack

UPSTREAM_KEY = "sk-upstream-DO-NOT-LEAK-7f3a9c"
CLIENT_KEY = "client-key-DO-NOT-LEAK-91b2"


def test_keys_never_appear_in_clear(mediajobs_bin, tmp_path):
    upstream = Upstream(mediajobs_bin, tmp_path, latency="200ms", extra=["--api-key", UPSTREAM_KEY]).start()
    server = Server(mediajobs_bin, tmp_path, upstream_url=upstream.url,
                    extra=["--upstream-key", UPSTREAM_KEY, "--api-keys", CLIENT_KEY, "--log-level", "trace"])
    stack = Stack(upstream, server, tmp_path)
    stack.s.headers["Authorization"] = f"Bearer {CLIENT_KEY}"
    try:
        server.start()
        tid = stack.submit_music(prompt="keep my secrets")
        stack.wait_music(tid)
        answers = [stack.get(f"/v1/tasks/{tid}").text, stack.get(f"/suno/fetch/{tid}").text, stack.get("/v1/tasks").text]
        stack.stop()
        # The harness writes each command line into the log file itself: only the server's own lines count.
        own_lines = "\n".join(line for line in server.log_text.splitlines() if not line.startswith("====="))
        haystacks = {"server log": own_lines, "answers": "\n".join(answers)}
        for path in server.data_dir.glob("mediajobs.sqlite*"):
            haystacks[path.name] = path.read_bytes().decode("latin-1")
        for name, text in haystacks.items():
            assert UPSTREAM_KEY not in text, f"the upstream key leaked into {name}"
            assert CLIENT_KEY not in text, f"a client key leaked into {name}"
    finally:
        if server.proc.running or upstream.proc.running:
            stack.stop()

#!/usr/bin/env python3
"""The hostile-input catalogue against `healthbot ask --json -` (TAP).

    run_cli.py HEALTHBOT CATALOGUE

Message cases go down one long-running `ask --json -` process, one line
each (a message with newlines in it is that many lines, and must get that
many replies). Each must come back as one JSON object per line, within
the reply invariants a user relies on (a valid kind, text and html, no
markup from the input in the html, the emergency number in an
escalation), the kind and category the case expects, and in under
HB_HOSTILE_MAX_MS (default 1000) ms; the process must still be alive and
answering at the end, and exit 0.

Data-file cases run `ask --json` once on a copy of the checkout's content
and intents with the case's file added: an "error" case must exit 1 with a
message naming the file, an "ok" case must answer its messages.
"""
import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HB = sys.argv[1]
CATALOGUE = sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_MS = float(os.environ.get("HB_HOSTILE_MAX_MS", "1000"))
EMERGENCY = "5550911"
CRISIS = "5550988"
KINDS = {"answer", "escalation", "fallback", "smalltalk"}
# the only markup the engine writes (bot/engine/reply.c, passage.c)
TAGS = re.compile(r'<(?:/?(?:p|strong|ul|li)|p class="hb-(?:heading|source|disclaimer)")>')

count = 0
failures = 0


def result(ok, name, detail=""):
    global count, failures
    count += 1
    if not ok:
        failures += 1
    print(f"{'' if ok else 'not '}ok {count} - {name}" + (f" ({detail})" if ok and detail else ""))
    if not ok and detail:
        print("# " + detail.replace("\n", "\n# "))
    sys.stdout.flush()


def body(case):
    if "text" in case:
        return case["text"].encode()
    if "b64" in case:
        return base64.b64decode(case["b64"])
    return b"".join(body(p) * p.get("repeat", 1) for p in case.get("parts", []))


def reply_problem(r, kinds=None, category=None):
    if r.get("kind") not in KINDS:
        return f"kind {r.get('kind')!r}"
    if not isinstance(r.get("text"), str) or not isinstance(r.get("html"), str):
        return "no text or html"
    stray = [m for m in re.finditer(r"<", r["html"]) if not TAGS.match(r["html"], m.start())]
    if stray:
        return "markup in html that the engine does not write: " + r["html"][stray[0].start():][:40]
    if r["kind"] == "escalation":
        if EMERGENCY not in r["text"]:
            return "escalation without the emergency number"
        if r.get("severity") == "crisis" and CRISIS not in r["text"]:
            return "crisis escalation without the crisis line"
    if kinds and r["kind"] not in kinds:
        return f"got {r['kind']} (rule {r.get('rule')}), want {'/'.join(kinds)}"
    if category and r.get("category") != category:
        return f"category {r.get('category')}, want {category}"
    return None


def numbers():
    return ["--emergency-number", EMERGENCY, "--crisis-number", CRISIS]


class Asker:
    """One `healthbot ask --json -`, fed a line at a time."""

    def __init__(self):
        self.p = subprocess.Popen([HB, "ask", "--json", *numbers(), "-"], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.buf = b""

    def readline(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.p.stdout], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def ask(self, message, budget_s):
        """Replies to message (one per line in it) and the seconds taken."""
        start = time.monotonic()
        self.p.stdin.write(message + b"\n")
        self.p.stdin.flush()
        replies = []
        for _ in range(message.count(b"\n") + 1):
            line = self.readline(start + budget_s)
            if line is None:
                break
            replies.append(line)
        return replies, time.monotonic() - start


def message_cases(cases):
    asker = Asker()
    # the first reply waits for the library to load: not part of the bound
    replies, _ = asker.ask(b"hello", 60)
    result(len(replies) == 1, "ask --json - starts and answers")
    for case in cases:
        msg = body(case)
        lines = msg.count(b"\n") + 1
        # generous: the bound per message, plus moving a megabyte through
        # two pipes and a JSON encoder
        replies, took = asker.ask(msg, lines * MAX_MS / 1000 + 10)
        problem = None
        if asker.p.poll() is not None:
            problem = f"healthbot exited with {asker.p.returncode}"
        elif len(replies) != lines:
            problem = f"{len(replies)} replies to {lines} line(s)"
        else:
            for raw in replies:
                try:
                    r = json.loads(raw)
                except ValueError as e:
                    problem = f"not JSON: {e}: {raw[:80]!r}"
                    break
                problem = reply_problem(r, case.get("expect_kind") if lines == 1 else None,
                                        case.get("expect_category") if lines == 1 else None)
                if problem:
                    break
        # the pipe and JSON overhead grows with size: 1 ms per 10 KB
        bound = (MAX_MS + len(msg) / 10240) * lines
        if not problem and took * 1000 > bound:
            problem = f"{took * 1000:.0f} ms (bound {bound:.0f} ms)"
        result(problem is None, case["id"], problem or f"{len(msg)} bytes, {took * 1000:.1f} ms")
        if asker.p.poll() is not None:
            break
    asker.p.stdin.close()
    asker.p.wait(timeout=60)
    err = asker.p.stderr.read().decode(errors="replace")
    result(asker.p.returncode == 0, "ask --json - still alive, exits 0",
           f"exit {asker.p.returncode}: {err[-300:]}")


def data_case(case):
    entry = case["entry"]
    with tempfile.TemporaryDirectory(prefix="hb-hostile-") as tmp:
        content = os.path.join(tmp, "content")
        intents = os.path.join(tmp, "intents")
        shutil.copytree(os.path.join(ROOT, "content"), content)
        # with the locales: a "languages" object needs locales/CODE.json
        shutil.copytree(os.path.join(ROOT, "intents"), intents)
        if entry == "sidecar":
            name, where = "night-leg-cramps.json", content
        elif entry == "article":
            name, where = "zz-hostile.txt", content
        else:
            name, where = "zz-hostile.json", intents
        with open(os.path.join(where, name), "wb") as f:
            f.write(body(case))
        messages = case.get("messages") or ["hello"]
        start = time.monotonic()
        p = subprocess.run([HB, "ask", "--json", "--content", content, "--intents", intents,
                            *numbers(), "-"], input="\n".join(messages).encode() + b"\n",
                           capture_output=True, timeout=120)
        took = time.monotonic() - start
        err = p.stderr.decode(errors="replace")
        expect = case.get("expect_load", "any")
        problem = None
        if p.returncode not in (0, 1):
            problem = f"exit {p.returncode} (a crash?): {err[-300:]}"
        elif p.returncode == 1:
            if expect == "ok":
                problem = f"did not load: {err.strip()[-300:]}"
            elif name not in err:
                problem = f"the error does not name {name}: {err.strip()[-300:]}"
        else:
            if expect == "error":
                problem = "loaded, want an error"
            else:
                out = p.stdout.decode(errors="replace").splitlines()
                if len(out) != len(messages):
                    problem = f"{len(out)} replies to {len(messages)} messages"
                for raw in out:
                    problem = problem or reply_problem(json.loads(raw))
        if not problem and took > 30:
            problem = f"took {took:.1f} s"
        detail = err.strip().splitlines()[-1] if p.returncode == 1 and err.strip() else "loaded"
        result(problem is None, case["id"], problem or detail[:160])


def main():
    cases = [json.loads(line) for line in open(CATALOGUE) if line.strip()]
    message_cases([c for c in cases if c["entry"] == "message"])
    for case in cases:
        if case["entry"] != "message":
            data_case(case)
    print(f"1..{count}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

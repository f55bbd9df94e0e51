"""Matrix end to end (a benchmark, not a test): time from a user's send to
the bot's reply event, through a real Synapse on 127.0.0.1 (the Matrix
tests' homeserver, tests/matrix/conftest.py), with Synapse's own share.

Messages go one at a time (the next once the reply is in), alternating
with a baseline message between two users in a room without the bot:

  bot round trip   the user's PUT /send starts -> the bot's reply arrives
                   in the user's own /sync long-poll
  server stamps    reply origin_server_ts - message origin_server_ts
  baseline hop     a user's PUT /send starts -> the message arrives in
                   another user's /sync (no bot: Synapse alone, one hop)
  bot's PUT        the bot's send answered by Synapse (bot log, ms=)
  bot's own time   the bot's task start to reply accepted, minus its PUT
                   (bot log, total_ms - ms: engine, state save, requests
                   fired before the send)

The bot's round trip is two hops through Synapse (user -> bot's sync, bot's
send -> user's sync) plus the bot's own time; Synapse's share is the round
trip minus the bot's own time.

  $(tests/matrix/setup-venv.sh)/bin/python tests/bench/matrix-e2e.py \\
      --healthbot build/bot/healthbot [--messages 200]
"""
import argparse
import os
import re
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "matrix"))

ap = argparse.ArgumentParser()
ap.add_argument("--healthbot", default=os.environ.get("HEALTHBOT", "build/bot/healthbot"))
ap.add_argument("--messages", type=int, default=200)
args = ap.parse_args()
os.environ["HEALTHBOT"] = os.path.abspath(args.healthbot)

import conftest  # noqa: E402  (reads HEALTHBOT at import)
from conftest import Client, World, wait_until  # noqa: E402

QUESTIONS = ["what causes night leg cramps?", "how can I prevent night leg cramps?",
             "hello", "when should I see a doctor about leg cramps?",
             "is there a medicine for night leg cramps", "thanks"]


class Watcher(threading.Thread):
    """A user's /sync long-poll: when each event arrived (monotonic)."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.c = client
        self.seen = {}  # event id or ("reply", in_reply_to) -> (time, event)
        self.stop = False
        r = client.call("GET", "/_matrix/client/v3/sync", params={"timeout": "0"})
        self.since = r["next_batch"]

    def run(self):
        while not self.stop:
            try:
                r = self.c.call("GET", "/_matrix/client/v3/sync",
                                params={"timeout": "2000", "since": self.since})
            except Exception:  # noqa: BLE001 - a benchmark keeps going
                time.sleep(0.2)
                continue
            now = time.monotonic()
            self.since = r["next_batch"]
            for room in r.get("rooms", {}).get("join", {}).values():
                for ev in room.get("timeline", {}).get("events", []):
                    self.seen[ev["event_id"]] = (now, ev)
                    target = ev.get("content", {}).get("m.relates_to", {}) \
                        .get("m.in_reply_to", {}).get("event_id")
                    if target:
                        self.seen[("reply", target)] = (now, ev)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] if s else float("nan")


def main():
    tmp = tempfile.mkdtemp(prefix="hb-matrix-bench-")
    world = World(tmp)
    try:
        world.setup()
        alice, bob, bot = world.alice, world.bob, world.bot
        dm = world.dm(alice)
        plain = bob.create_room(invite=[alice.user_id], name="no bot")
        alice.join(plain)
        watch_alice = Watcher(alice)
        watch_alice.start()
        rt, stamps, hop = [], [], []
        log_start = os.path.getsize(bot.logfile)
        for i in range(args.messages):
            # the bot's round trip
            t0 = time.monotonic()
            ev = alice.send(dm, {"msgtype": "m.text", "body": QUESTIONS[i % len(QUESTIONS)]})
            got = wait_until(lambda: watch_alice.seen.get(("reply", ev)), 60, 0.002,
                             "the bot's reply")
            rt.append(got[0] - t0)
            sent = watch_alice.seen.get(ev)
            if sent:
                stamps.append((got[1]["origin_server_ts"] -
                               sent[1]["origin_server_ts"]) / 1000.0)
            # the baseline: one hop between two people
            t0 = time.monotonic()
            ev = bob.send(plain, {"msgtype": "m.text", "body": "baseline %d" % i})
            got = wait_until(lambda: watch_alice.seen.get(ev), 60, 0.002, "the message")
            hop.append(got[0] - t0)
            time.sleep(0.02)
        watch_alice.stop = True
        with open(bot.logfile, encoding="utf-8", errors="replace") as f:
            f.seek(log_start)
            log = f.read()
        put, own = [], []
        for m in re.finditer(r"event=matrix_sent ok=yes .*?\bms=(\d+) total_ms=(\d+)", log):
            put.append(int(m.group(1)) / 1000.0)
            own.append((int(m.group(2)) - int(m.group(1))) / 1000.0)

        def row(name, v):
            return (f"| {name} | {1000 * pct(v, 0.5):.1f} ms | {1000 * pct(v, 0.99):.1f} ms "
                    f"| {len(v)} |")
        print(f"| figure | median | p99 | n |")
        print("| --- | --- | --- | --- |")
        print(row("bot round trip: user's send -> reply in the user's sync", rt))
        print(row("reply origin_server_ts - message origin_server_ts", stamps))
        print(row("baseline hop (no bot): send -> another user's sync", hop))
        print(row("the bot's PUT /send, answered by Synapse", put))
        print(row("the bot's own time (task start to reply accepted, minus its PUT)", own))
        med = pct(rt, 0.5)
        mine = pct(own, 0.5)
        print(f"\nSynapse's share of the median round trip: about "
              f"{100 * (1 - mine / med):.0f} % ({1000 * (med - mine):.1f} of "
              f"{1000 * med:.1f} ms: everything but the bot's own "
              f"{1000 * mine:.1f} ms; one delivery alone, the baseline hop, takes "
              f"{1000 * pct(hop, 0.5):.1f} ms, and the round trip is two of them plus "
              f"the bot's send); load average "
              + " ".join("%.2f" % x for x in os.getloadavg()))
    finally:
        world.teardown()


if __name__ == "__main__":
    main()

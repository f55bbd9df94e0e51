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

--throughput instead measures replies per second across many rooms (a bot
of its own, exempt from the rate limit, send_connections --connections;
--connections 4,1 runs one bot after the other on the same Synapse):

  $(tests/matrix/setup-venv.sh)/bin/python tests/bench/matrix-e2e.py \\
      --healthbot build/bot/healthbot --throughput [--rooms 20] [--connections 4,1]

  backlog  --per-room messages in each of --rooms direct rooms are sent
           while the bot is stopped; it is started and answers them all
           (first to last reply accepted, from the bot log's timestamps)
  live     --live messages sent by 8 threads over the same rooms as fast
           as Synapse takes them while the bot answers (first send to
           last reply accepted)

with the CPU time Synapse and the bot used over each window (share of one
core, and Synapse's per reply), and the load average. First, for
reference, Synapse alone: --live messages from the same 8 threads into
rooms without a bot. --bare turns the bots' read receipts and typing
notifications off (two requests fewer per reply for Synapse).
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
ap.add_argument("--throughput", action="store_true")
ap.add_argument("--bare", action="store_true",
                help="--throughput bots with read_receipts and typing_notifications off")
ap.add_argument("--rooms", type=int, default=20)
ap.add_argument("--per-room", type=int, default=25)
ap.add_argument("--live", type=int, default=1000)
ap.add_argument("--connections", type=lambda v: [int(x) for x in v.split(",")],
                default=[4], help="send_connections; a list (4,1) runs one bot after another")
args = ap.parse_args()
os.environ["HEALTHBOT"] = os.path.abspath(args.healthbot)

import conftest  # noqa: E402  (reads HEALTHBOT at import)
from conftest import Bot, Client, World, wait_until  # noqa: E402

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


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_times(bot, start):
    """Unix times (s) of the replies accepted in the bot's log since offset
    start (the log's stamps are UTC, to the millisecond)."""
    from datetime import datetime, timezone
    with open(bot.logfile, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        log = f.read()
    return [datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
            .replace(tzinfo=timezone.utc).timestamp()
            for m in re.finditer(r"ts=(\S+) level=info event=matrix_sent ok=yes", log)]


def loadavg():
    return " ".join("%.2f" % x for x in os.getloadavg())


def throughput_run(world, people, connections):
    """One bot with send_connections connections: the backlog and live
    phases over rooms of its own. Returns a line for each phase."""
    from concurrent.futures import ThreadPoolExecutor
    s = world.synapse
    name = f"tput{connections}"
    user = s.register(name, displayname=f"Throughput Bot {connections}")
    world.unlimit(user)
    extra = {"send_connections": connections}
    if args.bare:
        extra.update(read_receipts=False, typing_notifications=False)
    bot = Bot(world.tmp, s, user, name,
              allowed_inviters=[p.user_id for p in people], extra=extra)
    bot.start().wait_synced()
    rooms = [world.dm(people[i % 2], bot) for i in range(args.rooms)]
    out = []

    # backlog: everything waiting when the bot starts
    bot.stop()
    total = args.rooms * args.per_room

    def fill(i):
        for k in range(args.per_room):
            people[i % 2].send(rooms[i], {"msgtype": "m.text",
                                          "body": QUESTIONS[(i + k) % len(QUESTIONS)]})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fill, range(args.rooms)))
    time.sleep(1)  # let Synapse finish with the senders' work
    la = loadavg()
    start = os.path.getsize(bot.logfile)
    syn0, t0 = cpu_seconds(s.proc.pid), time.monotonic()
    bot.start()
    wait_until(lambda: len(log_times(bot, start)) >= total, 600, 0.2,
               "the backlog answered")
    wall = time.monotonic() - t0
    syn = cpu_seconds(s.proc.pid) - syn0
    botcpu = cpu_seconds(bot.proc.pid)
    ts = log_times(bot, start)
    span = ts[-1] - ts[0]
    out.append(f"send_connections {connections}, backlog: {total} replies in "
               f"{args.rooms} rooms, first to last accepted {span:.2f} s: "
               f"{(total - 1) / span:.0f} replies/s; {wall:.2f} s from the bot's "
               f"start; Synapse CPU {syn:.2f} s ({100 * syn / wall:.0f} % of a core, "
               f"{1000 * syn / total:.0f} ms a reply), "
               f"bot CPU {botcpu:.2f} s ({100 * botcpu / wall:.0f} %, start-up "
               f"included); load average before {la}, after {loadavg()}")
    print(out[-1], flush=True)

    # live: users keep sending while the bot answers
    bot.wait_synced()
    time.sleep(1)
    la = loadavg()
    start = os.path.getsize(bot.logfile)
    bot0, syn0 = cpu_seconds(bot.proc.pid), cpu_seconds(s.proc.pid)
    t0 = time.monotonic()
    t0_wall = time.time()

    def send(j):
        i = j % args.rooms
        people[i % 2].send(rooms[i], {"msgtype": "m.text",
                                      "body": QUESTIONS[j % len(QUESTIONS)]})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(args.live)))
    sent_s = time.monotonic() - t0
    wait_until(lambda: len(log_times(bot, start)) >= args.live, 600, 0.2,
               "the live messages answered")
    wall = time.monotonic() - t0
    syn = cpu_seconds(s.proc.pid) - syn0
    botcpu = cpu_seconds(bot.proc.pid) - bot0
    ts = log_times(bot, start)
    span = ts[-1] - t0_wall
    out.append(f"send_connections {connections}, live: {args.live} messages sent "
               f"in {sent_s:.2f} s ({args.live / sent_s:.0f}/s), all answered "
               f"{span:.2f} s after the first send: {args.live / span:.0f} "
               f"replies/s; Synapse CPU {syn:.2f} s ({100 * syn / wall:.0f} % of a "
               f"core, {1000 * syn / args.live:.0f} ms a message and its reply), bot CPU {botcpu:.2f} s ({100 * botcpu / wall:.0f} %); load "
               f"average before {la}, after {loadavg()}")
    print(out[-1], flush=True)
    assert bot.stop() == 0, "the bot did not stop cleanly"
    return out


def baseline(world, people):
    """Synapse alone: --live messages from the same 8 threads into --rooms
    rooms without a bot, for what Synapse takes here without replies."""
    from concurrent.futures import ThreadPoolExecutor
    s = world.synapse
    rooms = []
    for i in range(args.rooms):
        room = people[0].create_room(invite=[people[1].user_id], name=f"no bot {i}")
        people[1].join(room)
        rooms.append(room)
    time.sleep(1)
    la = loadavg()
    syn0, t0 = cpu_seconds(s.proc.pid), time.monotonic()

    def send(j):
        i = j % args.rooms
        people[j % 2].send(rooms[i], {"msgtype": "m.text", "body": f"baseline {j}"})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, range(args.live)))
    wall = time.monotonic() - t0
    syn = cpu_seconds(s.proc.pid) - syn0
    line = (f"Synapse alone: {args.live} messages sent by 8 threads into {args.rooms} "
            f"rooms without a bot in {wall:.2f} s: {args.live / wall:.0f}/s; Synapse "
            f"CPU {syn:.2f} s ({100 * syn / wall:.0f} % of a core, "
            f"{1000 * syn / args.live:.0f} ms a message); load average before {la}, "
            f"after {loadavg()}")
    print(line, flush=True)
    return line


def throughput():
    tmp = tempfile.mkdtemp(prefix="hb-matrix-tput-")
    world = World(tmp)
    try:
        world.setup()
        world.bot.stop()  # the session's bot has no part here
        lines = [baseline(world, [world.alice, world.bob])]
        for n in args.connections:
            lines += throughput_run(world, [world.alice, world.bob], n)
        print("\n" + "\n".join(lines))
    finally:
        world.teardown()


if __name__ == "__main__":
    throughput() if args.throughput else main()

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

--throughput --encrypted compares the backlog phase in end-to-end-encrypted
rooms with the same phase in plain ones, back to back on one Synapse with
the same --rooms, --per-room and send_connections (the first of
--connections); no baseline and no live phase:

  tests/bench/matrix-e2e.sh build/bot/healthbot --throughput --encrypted \
      [--rooms 20] [--per-room 25] [--devices 4] [--encrypted-first]

  plain      the backlog above, with a bot of its own
  encrypted  a bot with "encryption": true (its own encryption_key_file)
             in --rooms encrypted direct rooms created by --devices
             patients, each one matrix-nio device with vodozemac (the
             Patient of tests/matrix/test_i_e2e.py), the rooms dealt out
             in turn; the patients send --per-room Megolm-encrypted
             questions into each while the bot is stopped; the bot is
             started and timed until every reply is accepted. The window
             holds all the encryption work: the bot's to-device room keys
             in its sync, decrypting, /keys/query and /keys/claim for the
             patients' devices, one outbound session a room shared over
             Olm, encrypting each reply (and saving the encryption state
             before it leaves)

Each line gives replies/s, Synapse's CPU (share of a core, per reply), the
bot's CPU per reply (with its start-up, and from its first reply on), the
median and p99 of its PUT /send, and the load average; the encrypted one
also counts room key shares, new outbound sessions, undecryptable and held
messages, and the size of matrix-crypto.json. The bot does not log how long
its state saves take. The answers are checked: for --sample questions of
each room (first to last) there must be exactly one reply containing the
first line of what `healthbot ask` answers the question; in the encrypted
rooms each patient syncs (the bot's room keys) and reads them through nio,
and the run fails unless they decrypt. Plain first unless
--encrypted-first (the second backlog on a Synapse can come out cheaper,
so alternate the order between runs).
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
ap.add_argument("--encrypted", action="store_true",
                help="--throughput: the backlog in end-to-end-encrypted rooms next to plain ones")
ap.add_argument("--encrypted-first", action="store_true",
                help="--encrypted: the encrypted backlog before the plain one")
ap.add_argument("--devices", type=int, default=4,
                help="--encrypted: patients (one nio device each) holding the rooms")
ap.add_argument("--sample", type=int, default=3,
                help="--encrypted: questions a room whose replies are checked")
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


def backlog(world, bot, label, fill):
    """The backlog phase: the bot is stopped, fill() sends --per-room
    messages into each of --rooms rooms (returning what it asked, a list of
    (room, event id, text)), then the bot is started and timed until every
    reply is accepted. Returns the line and what was asked."""
    s = world.synapse
    bot.stop()
    total = args.rooms * args.per_room
    asked = fill()
    assert len(asked) == total, f"{len(asked)} of {total} messages sent"
    time.sleep(1)  # let Synapse finish with the senders' work
    la = loadavg()
    start = os.path.getsize(bot.logfile)
    syn0, t0 = cpu_seconds(s.proc.pid), time.monotonic()
    bot.start()

    first = []  # the bot's CPU and the replies accepted when the first was seen

    def answered():
        if bot.proc.poll() is not None:
            raise AssertionError(f"the bot exited ({bot.proc.returncode}); see {bot.logfile}")
        n = len(log_times(bot, start))
        if n and not first:
            first.extend((cpu_seconds(bot.proc.pid), n))
        return n >= total
    wait_until(answered, 900, 0.05, "the backlog answered")
    wall = time.monotonic() - t0
    syn = cpu_seconds(s.proc.pid) - syn0
    botcpu = cpu_seconds(bot.proc.pid)
    steady = (botcpu - first[0]) / max(1, total - first[1])
    ts = log_times(bot, start)
    span = ts[-1] - ts[0]
    with open(bot.logfile, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        log = f.read()
    put = [int(m.group(1)) for m in
           re.finditer(r"event=matrix_sent ok=yes .*?\bms=(\d+) ", log)]
    line = (f"{label}, backlog: {total} replies in {args.rooms} rooms, first to "
            f"last accepted {span:.2f} s: {(total - 1) / span:.1f} replies/s; "
            f"{wall:.2f} s from the bot's start ({1000 * wall / total:.1f} ms a "
            f"reply); Synapse CPU {syn:.2f} s ({100 * syn / wall:.0f} % of a core, "
            f"{1000 * syn / total:.0f} ms a reply), bot CPU {botcpu:.2f} s "
            f"({100 * botcpu / wall:.0f} %, {1000 * botcpu / total:.1f} ms a reply, "
            f"start-up included; {1000 * steady:.1f} ms a reply from its first reply "
            f"on); the bot's PUT /send median {pct(put, 0.5)} ms, "
            f"p99 {pct(put, 0.99)} ms; load average before {la}, after {loadavg()}")
    print(line, flush=True)
    return line, asked


def expected_answers():
    """The first line of what `healthbot ask` answers each question: a
    reply must contain it to count as an answer."""
    import subprocess
    out = {}
    for q in QUESTIONS:
        r = subprocess.run([os.environ["HEALTHBOT"], "ask", q], cwd=conftest.SOURCE_ROOT,
                           capture_output=True, text=True, check=True)
        out[q] = next(line for line in r.stdout.splitlines() if line.strip())
    return out


def throughput_run(world, people, connections, live=True):
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
    def fill_room(i):
        sent = []
        for k in range(args.per_room):
            text = QUESTIONS[(i + k) % len(QUESTIONS)]
            sent.append((i, people[i % 2].send(rooms[i], {"msgtype": "m.text",
                                                          "body": text}), text))
        return sent

    def fill():
        with ThreadPoolExecutor(8) as pool:
            return [a for sent in pool.map(fill_room, range(args.rooms)) for a in sent]
    line, asked = backlog(world, bot, f"plain, send_connections {connections}", fill)
    out.append(line)
    if not live:
        # the same check as the encrypted rooms get, so both are answers
        want = expected_answers()
        checked = 0
        for i, room in enumerate(rooms):
            got = {}
            for ev in people[i % 2].events(room, limit=4 * args.per_room + 20):
                rel = ev.get("content", {}).get("m.relates_to", {})
                target = rel.get("m.in_reply_to", {}).get("event_id")
                if ev.get("sender") == bot.user_id and target:
                    got.setdefault(target, []).append(ev)
            for _, ev_id, text in sample([a for a in asked if a[0] == i]):
                replies = got.get(ev_id, [])
                assert len(replies) == 1, f"room {i}: {len(replies)} replies to a question"
                body = replies[0]["content"].get("body", "")
                assert want[text] in body, f"room {i}: the reply does not answer " \
                    f"the question ({text!r} -> {body[:80]!r})"
                checked += 1
        out[-1] += f"; {checked} sampled replies checked"
        print(f"plain: {checked} sampled replies answer their questions", flush=True)
        assert bot.stop() == 0, "the bot did not stop cleanly"
        return out

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


def sample(asked):
    """--sample of one room's questions, spread over it from the first to
    the last."""
    n = min(args.sample, len(asked))
    if n <= 1:
        return asked[-n:] if n else []
    return [asked[round(j * (len(asked) - 1) / (n - 1))] for j in range(n)]


def encrypted_run(world, connections):
    """--encrypted: a bot with encryption on, in --rooms encrypted direct
    rooms made by --devices patients (matrix-nio with vodozemac, the
    end-to-end tests' Patient, one device each, the rooms dealt out in
    turn), and the backlog phase over them. At the end every patient
    decrypts the bot's replies to a --sample of each of its rooms'
    questions and checks that they answer them. Returns the line."""
    import asyncio
    import secrets
    from nio import RoomSendResponse
    from test_i_e2e import Patient  # needs matrix-nio[e2e], as the tests do
    s = world.synapse
    name = f"e2etput{connections}"
    user = s.register(name, displayname="Secret Throughput Bot")
    world.unlimit(user)
    keyfile = os.path.join(world.tmp, name + ".key")
    with open(keyfile, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    os.chmod(keyfile, 0o600)
    extra = {"send_connections": connections, "encryption": True,
             "encryption_key_file": keyfile}
    if args.bare:
        extra.update(read_receipts=False, typing_notifications=False)
    users = []
    for j in range(args.devices):
        u = s.register(f"epat{j}", displayname=f"Patient {j}")
        world.unlimit(u)
        users.append(u)
    bot = Bot(world.tmp, s, user, name,
              allowed_inviters=[u.user_id for u in users], extra=extra)
    bot.start().wait_synced()
    loop = asyncio.new_event_loop()
    patients = [Patient(world, u, f"EPAT{j}DEV") for j, u in enumerate(users)]

    async def setup():
        for p in patients:
            await p.login()
        return [await patients[i % len(patients)].encrypted_dm(bot.user_id)
                for i in range(args.rooms)]
    rooms = loop.run_until_complete(setup())

    async def fill_patient(j, p):
        await p.sync()  # the bot's device, its one-time keys to claim
        sent = []
        for i in range(j, args.rooms, len(patients)):
            for k in range(args.per_room):
                text = QUESTIONS[(i + k) % len(QUESTIONS)]
                r = await p.nio.room_send(rooms[i], "m.room.message",
                                          {"msgtype": "m.text", "body": text},
                                          ignore_unverified_devices=True)
                assert isinstance(r, RoomSendResponse), r
                sent.append((i, r.event_id, text))
        return sent

    async def fill_all():
        done = await asyncio.gather(*(fill_patient(j, p) for j, p in enumerate(patients)))
        return [a for sent in done for a in sent]
    try:
        line, asked = backlog(world, bot, f"encrypted, send_connections {connections}, "
                              f"{len(patients)} patient devices",
                              lambda: loop.run_until_complete(fill_all()))
        log = bot.log()
        state = os.path.join(bot.dir, "state", "matrix-crypto.json")
        size = os.path.getsize(state) if os.path.exists(state) else 0
        line += (f"; room keys shared {log.count('event=matrix_e2e_share devices=')} "
                 f"times, outbound sessions made "
                 f"{log.count('event=matrix_e2e_session action=new')}, undecryptable "
                 f"{log.count('reason=undecryptable')}, held for a key "
                 f"{log.count('event=matrix_e2e_held reason=')}; matrix-crypto.json "
                 f"{size / 1024:.0f} KiB")
        want = expected_answers()

        async def check(j, p):
            mine = [a for a in asked if a[0] % len(patients) == j]
            deadline = time.monotonic() + 60
            while True:
                await p.sync()  # the bot's room keys come to-device
                bad, checked = [], 0
                for i in range(j, args.rooms, len(patients)):
                    r = await p.nio.room_messages(rooms[i], limit=4 * args.per_room + 20)
                    got = {}
                    for ev in r.chunk:
                        rel = ev.source.get("content", {}).get("m.relates_to", {})
                        target = rel.get("m.in_reply_to", {}).get("event_id")
                        if ev.sender == bot.user_id and target:
                            got.setdefault(target, []).append(ev)
                    for _, ev_id, text in sample([a for a in mine if a[0] == i]):
                        replies = got.get(ev_id, [])
                        if len(replies) != 1:
                            bad.append(f"room {i}: {len(replies)} replies to a question")
                        elif not getattr(replies[0], "decrypted", False):
                            bad.append(f"room {i}: a reply does not decrypt "
                                       f"({type(replies[0]).__name__})")
                        elif want[text] not in getattr(replies[0], "body", ""):
                            bad.append(f"room {i}: the reply does not answer the "
                                       f"question ({text!r} -> "
                                       f"{getattr(replies[0], 'body', '')[:80]!r})")
                        else:
                            checked += 1
                if not bad:
                    return checked
                if time.monotonic() > deadline:
                    raise AssertionError("encrypted replies: " + "; ".join(bad[:10]))
                await asyncio.sleep(1)

        async def check_all():
            return sum(await asyncio.gather(*(check(j, p) for j, p in enumerate(patients))))
        checked = loop.run_until_complete(check_all())
        line += f"; {checked} sampled replies decrypted and checked"
        print(f"encrypted: {checked} sampled replies decrypt and answer their questions",
              flush=True)
        assert bot.stop() == 0, "the bot did not stop cleanly"
    finally:
        async def close():
            for p in patients:
                await p.close()
        loop.run_until_complete(close())
        loop.close()
    return line


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
        people = [world.alice, world.bob]
        if args.encrypted:
            # the backlog only, plain and encrypted back to back on the
            # same Synapse with the same numbers
            n = args.connections[0]
            if args.encrypted_first:
                lines = [encrypted_run(world, n)] + throughput_run(world, people, n, live=False)
            else:
                lines = throughput_run(world, people, n, live=False) + [encrypted_run(world, n)]
        else:
            lines = [baseline(world, people)]
            for n in args.connections:
                lines += throughput_run(world, people, n)
        print("\n" + "\n".join(lines))
    finally:
        world.teardown()


if __name__ == "__main__":
    throughput() if args.throughput else main()

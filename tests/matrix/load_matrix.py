"""Matrix load and faults (issue 6), against the session's real Synapse.

1,000 messages (HB_MATRIX_LOAD_MESSAGES) from five patients across ten
rooms (seven direct rooms, three group rooms where the bot is addressed by
the command prefix, its display name or a mention, plus unaddressed chatter
it must leave alone), sent at a steady pace while:

- the bot is SIGKILLed three times at random points and restarted each
  time: once from outside at a random moment, once by itself right after
  the homeserver accepted its N-th reply and before it saved anything
  (HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND, N random: the worst moment), and
  once more from outside;
- Synapse is stopped and started again;
- the third kill keeps the bot down while about 15 messages per room
  arrive, more than one sync's timeline (TIMELINE_LIMIT) holds, so the
  restarted bot has to back-fill every run.

Then every room's timeline is read back: every addressed message has
exactly one reply from the bot (m.in_reply_to), chatter has none, and the
bot never replied to anything else. The seed (HB_MATRIX_LOAD_SEED) is
printed so a failing run can be repeated.

Not collected by the default `matrix` suite (the file name does not start
with test_): `meson test --suite matrix-load` runs it in a Synapse of its
own.
"""
import os
import random
import re
import signal
import threading
import time
import uuid

import requests

from conftest import BOT_NAME, SOURCE_ROOT, Bot, Client, wait_until

MESSAGES = int(os.environ.get("HB_MATRIX_LOAD_MESSAGES", "1000"))
RATE = float(os.environ.get("HB_MATRIX_LOAD_RATE", "20"))  # messages/s, all rooms
SEED = int(os.environ.get("HB_MATRIX_LOAD_SEED", str(int(time.time()) % 100000)))
CHATTER = 0.1  # share of unaddressed messages in group rooms, on top
TIMELINE_LIMIT = 10


def say(*a):
    print("[load]", *a, flush=True)


def utterances():
    kinds = {"answer": [], "escalation": [], "fallback": [], "smalltalk": []}
    with open(os.path.join(SOURCE_ROOT, "tests", "utterances.tsv"), encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[0] in kinds and parts[2]:
                kinds[parts[0]].append(parts[2])
    return kinds


FOLLOW_UPS = ["how do I prevent them?", "what causes it?", "when should I see a doctor?",
              "and how is it treated?"]


def pick_text(rnd, u):
    x = rnd.random()
    if x < 0.6:
        return rnd.choice(u["answer"])
    if x < 0.72:
        return rnd.choice(FOLLOW_UPS)
    if x < 0.82:
        return rnd.choice(u["smalltalk"])
    if x < 0.9:
        return rnd.choice(u["fallback"])
    return rnd.choice(u["escalation"])


def patient_call(client, method, path, body, deadline_s=180):
    """One request, retried through a homeserver restart with the same
    transaction id (so a send that got through but whose answer was lost is
    not posted twice)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            r = client.http.request(method, client.base + path, json=body, timeout=30,
                                    headers={"Authorization": "Bearer " + client.token})
            if r.status_code == 200:
                return r.json()
            if r.status_code == 429:
                time.sleep(min(r.json().get("retry_after_ms", 1000) / 1000.0, 5))
                continue
            if r.status_code < 500:
                raise AssertionError(f"{method} -> {r.status_code} {r.text[:300]}")
        except requests.RequestException:
            pass
        if time.monotonic() > end:
            raise AssertionError(f"{method}: homeserver away for {deadline_s}s")
        time.sleep(0.3)


def timeline(client, room):
    """Every event of the room, oldest first (paginated)."""
    out, token = [], None
    while True:
        params = {"dir": "b", "limit": "500"}
        if token:
            params["from"] = token
        r = client.call("GET", f"/_matrix/client/v3/rooms/{Client.q(room)}/messages",
                        params=params)
        out.extend(r.get("chunk", []))
        token = r.get("end")
        if not r.get("chunk") or not token:
            return list(reversed(out))


def bot_replies(client, room, bot_id):
    """in_reply_to event id -> number of bot replies to it."""
    counts = {}
    for ev in timeline(client, room):
        if ev.get("sender") != bot_id or ev.get("type") != "m.room.message":
            continue
        target = ev.get("content", {}).get("m.relates_to", {}) \
            .get("m.in_reply_to", {}).get("event_id")
        counts[target] = counts.get(target, 0) + 1
    return counts


class Run:
    """The rooms, the senders and what they sent."""

    def __init__(self, world):
        self.world = world
        self.rnd = random.Random(SEED)
        s = world.synapse
        stamp = uuid.uuid4().hex[:6]
        self.patients = []
        for i in range(5):
            p = s.register(f"patient{i}-{stamp}", displayname=f"Patient {i}")
            world.unlimit(p)
            self.patients.append(p)
        self.botuser = s.register(f"loadbot-{stamp}", displayname=BOT_NAME)
        world.unlimit(self.botuser)
        # a small timeline per sync, so that the third kill's longer
        # outage leaves more in each room than one sync holds
        self.bot = Bot(world.tmp, s, self.botuser, "load-" + stamp,
                       allowed_inviters=[p.user_id for p in self.patients],
                       extra={"timeline_limit": TIMELINE_LIMIT})
        self.bot_id = self.botuser.user_id
        self.sent = []       # (room index, event id, addressed, monotonic time)
        self.lock = threading.Lock()
        self.errors = []
        self.n_sent = 0      # addressed messages sent so far

    def make_rooms(self):
        p = self.patients
        rooms = []
        # seven direct rooms: every patient, two of them twice
        for who in (0, 1, 2, 3, 4, 0, 1):
            room = p[who].create_room(invite=[self.bot_id], direct=True)
            rooms.append({"room": room, "members": [p[who]], "group": False})
        # three group rooms with two patients each
        for a, b in ((0, 2), (1, 3), (4, 2)):
            room = p[a].create_room(invite=[p[b].user_id, self.bot_id],
                                    name=f"Ward {a}{b}")
            p[b].join(room)
            rooms.append({"room": room, "members": [p[a], p[b]], "group": True})
        for r in rooms:
            wait_until(lambda r=r: r["members"][0].membership(r["room"], self.bot_id) == "join",
                       60, what="the bot to join")
        self.rooms = rooms

    def plan(self):
        """Per room: a list of (delay before sending, sender, text, addressed)."""
        u = utterances()
        per_room = [MESSAGES // len(self.rooms)] * len(self.rooms)
        for i in range(MESSAGES - sum(per_room)):
            per_room[i] += 1
        plans = []
        room_rate = RATE / len(self.rooms)
        for i, r in enumerate(self.rooms):
            rnd = random.Random(SEED * 100 + i)
            items = []
            for _ in range(per_room[i]):
                sender = rnd.choice(r["members"])
                text = pick_text(rnd, u)
                content = {"msgtype": "m.text", "body": text}
                if r["group"]:
                    way = rnd.random()
                    if way < 0.5:
                        content["body"] = "!health " + text
                    elif way < 0.8:
                        content["body"] = f"{BOT_NAME}: {text}"
                    else:
                        content["m.mentions"] = {"user_ids": [self.bot_id]}
                        content["body"] = f"{BOT_NAME} {text}"
                        content["format"] = "org.matrix.custom.html"
                        content["formatted_body"] = (
                            f'<a href="https://matrix.to/#/{self.bot_id}">{BOT_NAME}</a> '
                            + text.replace("&", "&amp;").replace("<", "&lt;"))
                    if rnd.random() < CHATTER:
                        items.append((rnd.expovariate(room_rate), rnd.choice(r["members"]),
                                      {"msgtype": "m.text",
                                       "body": rnd.choice(["see you at lunch",
                                                           "the ward round is at ten",
                                                           "did anyone take the charts?"])},
                                      False))
                items.append((rnd.expovariate(room_rate), sender, content, True))
            plans.append(items)
        return plans

    def sender(self, i, items):
        room = self.rooms[i]["room"]
        try:
            for delay, who, content, addressed in items:
                time.sleep(delay)
                txn = uuid.uuid4().hex
                t = time.monotonic()
                ev = patient_call(who, "PUT",
                                  f"/_matrix/client/v3/rooms/{Client.q(room)}/send/"
                                  f"m.room.message/{txn}", content)["event_id"]
                with self.lock:
                    self.sent.append((i, ev, addressed, t))
                    if addressed:
                        self.n_sent += 1
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.errors.append(f"room {i}: {e!r}")

    def answered(self):
        """Addressed messages with at least one reply, by reading every room."""
        reader = {}
        n = 0
        with self.lock:
            sent = list(self.sent)
        counts = [bot_replies(r["members"][0], r["room"], self.bot_id) for r in self.rooms]
        for i, ev, addressed, _ in sent:
            if addressed and counts[i].get(ev, 0) >= 1:
                n += 1
        reader["counts"] = counts
        return n, reader


def restart_synapse(world, rnd):
    s = world.synapse
    t0 = time.monotonic()
    s.stop()
    time.sleep(rnd.uniform(0.5, 3))
    s.start()
    return time.monotonic() - t0


def test_thousand_messages_exactly_once_through_kills_and_restart(world):
    say(f"seed {SEED}: {MESSAGES} messages at {RATE}/s (HB_MATRIX_LOAD_SEED to repeat)")
    run = Run(world)
    bot = run.bot
    bot.start().wait_synced(60)
    run.make_rooms()
    plans = run.plan()
    rnd = run.rnd
    t_start = time.monotonic()
    threads = [threading.Thread(target=run.sender, args=(i, items), daemon=True)
               for i, items in enumerate(plans)]
    for t in threads:
        t.start()

    def after(fraction, jitter):
        target = int(MESSAGES * (fraction + rnd.uniform(0, jitter)))
        wait_until(lambda: run.n_sent >= target or run.errors or
                   not any(t.is_alive() for t in threads), 600, 0.05,
                   f"{target} messages sent")
        assert not run.errors, run.errors
        return run.n_sent

    faults = []
    # 1: SIGKILL from outside, at a random moment
    n = after(0.12, 0.1)
    time.sleep(rnd.uniform(0, 1.5))
    bot.stop(signal.SIGKILL)
    faults.append(f"SIGKILL after {n} sent")
    # within what is left to answer, however few messages the run has
    kill_after = min(rnd.randint(10, 40), max(1, (MESSAGES - run.n_sent) // 4))
    time.sleep(rnd.uniform(0, 1))
    # 2: it kills itself right after its N-th accepted reply, nothing saved
    bot.start(env={"HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND": str(kill_after)})
    rc = bot.wait_exit(300)
    assert rc == -signal.SIGKILL, f"exit {rc}:\n{bot.log()[-3000:]}"
    faults.append(f"self-SIGKILL after its {kill_after}th reply at {run.n_sent} sent")
    bot.start()
    # Synapse restart
    n = after(0.5, 0.1)
    took = restart_synapse(world, rnd)
    faults.append(f"Synapse restarted after {n} sent ({took:.1f} s away)")
    # 3: SIGKILL from outside again
    n = after(0.7, 0.15)
    time.sleep(rnd.uniform(0, 1.5))
    bot.stop(signal.SIGKILL)
    # down for longer this time (a service manager's restart delay): about
    # 15 messages per room arrive, more than one sync's timeline holds
    down = min(15 * len(run.rooms), (MESSAGES - run.n_sent) // 2)
    n = run.n_sent
    t_down = time.monotonic()
    wait_until(lambda: run.n_sent >= n + down or run.errors or
               not any(t.is_alive() for t in threads), 120, 0.05, "the outage")
    faults.append(f"SIGKILL after {n} sent, down for {down} messages "
                  f"({time.monotonic() - t_down:.1f} s)")
    bot.start()
    say("faults:", "; ".join(faults))

    for t in threads:
        t.join(600)
    assert not run.errors, run.errors
    t_sent = time.monotonic()
    say(f"all {run.n_sent} sent in {t_sent - t_start:.0f} s "
        f"(+ {len(run.sent) - run.n_sent} unaddressed)")

    # every addressed message answered; then a moment for duplicates
    last = [0, time.monotonic()]

    def all_answered():
        n, _ = run.answered()
        if n != last[0]:
            last[:] = [n, time.monotonic()]
        # give up early when nothing moves for a long time
        assert time.monotonic() - last[1] < 180, \
            f"stuck at {n}/{MESSAGES} answered:\n{bot.log()[-3000:]}"
        return n >= MESSAGES
    wait_until(all_answered, 600, 2, "every message to be answered")
    t_done = time.monotonic()
    time.sleep(3)
    _, reader = run.answered()
    counts = reader["counts"]
    sent_ids = {ev for _, ev, _, _ in run.sent}
    problems = []
    for i, ev, addressed, _ in run.sent:
        n = counts[i].get(ev, 0)
        if n != (1 if addressed else 0):
            problems.append(f"room {i}: {'addressed' if addressed else 'chatter'} "
                            f"message answered {n} times")
    for i, c in enumerate(counts):
        for target in c:
            if target not in sent_ids:
                problems.append(f"room {i}: a reply to {target!r}, not a test message")
    log = bot.log(since_start=False)
    starts = log.count("event=matrix_ready")
    say(f"answered all {MESSAGES} in {t_done - t_start:.0f} s "
        f"({t_done - t_sent:.0f} s after the last send); bot runs: {starts}; "
        f"replayed after a crash and skipped as already answered: "
        f"{log.count('reason=already-answered')}; back-filled gaps: "
        f"{log.count('event=matrix_backfill')}")
    assert not problems, "\n".join(problems[:30]) + f"\n({len(problems)} in all)"
    if MESSAGES >= 500:
        # the long outage cut timelines short: the gaps were fetched
        assert "event=matrix_backfill" in log

    # what the bot logged in all this names no one and quotes nothing
    ids = re.compile(r"@[a-z0-9._=-]+:|![A-Za-z0-9]+:|\$[A-Za-z0-9_-]{20,}")
    found = ids.search(log)
    assert not found, found.group(0)
    assert run.botuser.token not in log
    assert bot.stop() == 0

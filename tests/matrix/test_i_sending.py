"""Sending, checked where test_g_sending.py cannot tell: with one
connection (so only the queues' priority decides what goes next) an
escalation goes ahead of the routine replies in its own room's queue and
in every other room's, and ahead of a routine reply refused with 429;
with several connections, replies really are sent at once (counted by a
proxy between the bot and Synapse), never more than send_connections,
never two for one room."""
import http.client
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from conftest import Bot
from test_b_restarts import answered_once
from test_g_sending import bot_events, limited_bot, reply_to

EMERGENCY = "my chest hurts and my left arm is numb"


def test_escalations_go_first_in_every_queue(world):
    """Room A: six routine questions, then an emergency. Room B: six
    routine questions. Room C: an emergency only. One connection, one
    reply a second: A's escalation jumps A's own queue, and C's goes
    before the routine replies waiting in A and B although they are
    older."""
    alice, bob = world.alice, world.bob
    bot = limited_bot(world, "everyq", extra={"send_connections": 1})
    room_a = world.dm(alice, bot)
    room_b = world.dm(bob, bot)
    room_c = world.dm(alice, bot)
    warm = alice.send_text(room_a, "hello")
    alice.wait_reply(room_a, warm, bot.user_id, 30)
    routine_a, routine_b = [], []
    for i in range(6):
        routine_a.append(alice.send_text(room_a, f"what causes night leg cramps? (a{i})"))
        routine_b.append(bob.send_text(room_b, f"how can I prevent night leg cramps? (b{i})"))
    urgent_a = alice.send_text(room_a, EMERGENCY)
    urgent_c = alice.send_text(room_c, EMERGENCY)
    esc_a = alice.wait_reply(room_a, urgent_a, bot.user_id, 90)
    esc_c = alice.wait_reply(room_c, urgent_c, bot.user_id, 90)
    for esc in (esc_a, esc_c):
        assert esc["content"]["msgtype"] == "m.text"
        assert esc["content"]["body"].startswith("This could be an emergency")
    answered_once(alice, room_a, routine_a, bot.user_id, timeout=120)
    answered_once(bob, room_b, routine_b, bot.user_id, timeout=120)
    ts = {}  # the question answered -> when its reply was accepted
    for who, room in ((alice, room_a), (bob, room_b), (alice, room_c)):
        evs = bot_events(who, room, bot.user_id)
        order = [reply_to(ev) for ev in evs]
        asked = routine_a if room == room_a else routine_b if room == room_b else []
        assert [e for e in order if e in asked] == asked, "routine replies out of order"
        ts.update((reply_to(ev), ev["origin_server_ts"]) for ev in evs)
    # a reply or two may have gone out before the emergencies were in
    # the queues; at least four of each room's six routine replies
    # follow each escalation
    for urgent in (urgent_a, urgent_c):
        later_a = [q for q in routine_a if ts[q] > ts[urgent]]
        later_b = [q for q in routine_b if ts[q] > ts[urgent]]
        name = "room A's" if urgent == urgent_a else "room C's"
        assert len(later_a) >= 4 and len(later_b) >= 4, \
            f"{name} escalation went after {6 - len(later_a)} of A's and " \
            f"{6 - len(later_b)} of B's routine replies"
    assert "event=matrix_rate_limited" in bot.log()
    assert bot.stop() == 0


class SendWatch:
    """A loopback HTTP proxy between a bot and Synapse. It holds every
    PUT .../send/... for `delay` seconds before passing it on, so sends
    overlap when the bot makes them at once, and records for each the
    room and when it was in flight. A send refused with 429 sets
    `refused` and its answer is held back `hold_429` seconds."""

    def __init__(self, upstream, delay, hold_429=0):
        up = urlsplit(upstream)
        self.host, self.port = up.hostname, up.port
        self.delay = delay
        self.hold_429 = hold_429
        self.refused = threading.Event()  # a send was answered 429
        self.lock = threading.Lock()
        self.sends = []  # (room, start, end)
        watch = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def relay(self):
                watch.relay(self)
            do_GET = do_PUT = do_POST = do_DELETE = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def relay(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        m = re.search(r"/rooms/([^/]+)/send/", h.path)
        send = h.command == "PUT" and m
        start = time.monotonic()
        if send:
            time.sleep(self.delay)
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() in ("authorization", "content-type")}
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(h.command, h.path, body, headers)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if send and r.status == 429:
            self.refused.set()
            time.sleep(self.hold_429)
        if send:
            with self.lock:
                self.sends.append((unquote(m.group(1)), start, time.monotonic()))
        h.send_response(r.status)
        for k in ("Content-Type", "Retry-After"):
            if r.getheader(k):
                h.send_header(k, r.getheader(k))
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def most_at_once(self):
        marks = sorted([(s, 1) for _, s, _ in self.sends] +
                       [(e, -1) for _, _, e in self.sends])
        now = best = 0
        for _, d in marks:  # an end sorts before a start at the same time
            now += d
            best = max(best, now)
        return best

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_sends_run_in_parallel_up_to_send_connections(world):
    alice, bob = world.alice, world.bob
    s = world.synapse
    watch = SendWatch(s.base, 0.4)
    try:
        user = s.register("wide", displayname="Wide Bot")
        world.unlimit(user)
        bot = Bot(world.tmp, s, user, "wide",
                  allowed_inviters=[alice.user_id, bob.user_id],
                  homeserver=watch.base, extra={"send_connections": 3})
        bot.start().wait_synced()
        rooms = [world.dm(alice if i % 2 == 0 else bob, bot) for i in range(6)]

        def burst(i):
            who = alice if i % 2 == 0 else bob
            return [who.send_text(rooms[i], f"what causes night leg cramps? [{i}.{k}]")
                    for k in range(4)]
        with ThreadPoolExecutor(6) as pool:
            asked = list(pool.map(burst, range(6)))
        for i, qs in enumerate(asked):
            who = alice if i % 2 == 0 else bob
            answered_once(who, rooms[i], qs, user.user_id, timeout=90)
            order = [reply_to(ev) for ev in bot_events(who, rooms[i], user.user_id)]
            assert order == qs, f"room {i}: replies out of order"
        assert bot.stop() == 0
        sends = list(watch.sends)
        assert len(sends) >= 24
        # three rooms' replies in flight together, never a fourth
        assert watch.most_at_once() == 3, f"{watch.most_at_once()} sends at once"
        # never two at once for one room: that is what keeps its order
        for room in set(r for r, _, _ in sends):
            spans = sorted((a, b) for r, a, b in sends if r == room)
            for (_, end), (start, _) in zip(spans, spans[1:]):
                assert start >= end, "two sends for one room at once"
    finally:
        watch.close()


def test_escalations_go_before_a_reply_refused_with_429(world):
    """Emergencies that arrive while a routine reply is on its way go
    before it when it comes back refused (429): in its own room and in
    another. Synapse's default limit (0.2 a second after a burst of 10),
    one connection so that the queues alone decide the order, and a proxy
    that holds the 429 answer back for 4 s so that the emergencies are
    queued while the refused reply is still in flight."""
    alice, bob = world.alice, world.bob
    s = world.synapse
    watch = SendWatch(s.base, 0, hold_429=4)
    try:
        user = s.register("holdprio", displayname="Hold Bot")  # not exempted
        bot = Bot(world.tmp, s, user, "holdprio",
                  allowed_inviters=[alice.user_id, bob.user_id],
                  homeserver=watch.base, extra={"send_connections": 1})
        bot.start().wait_synced()
        room_b = world.dm(bob, bot)
        room_c = world.dm(alice, bot)
        # routine questions until a reply is refused
        asked = []
        while not watch.refused.is_set():
            assert len(asked) < 25, "never rate limited"
            asked.append(bob.send_text(room_b, "hello"))
            time.sleep(0.1)
        urgent_b = bob.send_text(room_b, EMERGENCY)
        urgent_c = alice.send_text(room_c, EMERGENCY)
        # one connection: every reply accepted before the refusal was in
        # before the refused one was sent
        out = {reply_to(ev) for ev in bot_events(bob, room_b, user.user_id)}
        waiting = [q for q in asked if q not in out]
        assert waiting, "the refused reply is not waiting"
        esc_b = bob.wait_reply(room_b, urgent_b, user.user_id, 120)
        esc_c = alice.wait_reply(room_c, urgent_c, user.user_id, 120)
        answered_once(bob, room_b, asked, user.user_id, timeout=180)
        first = min(bob.replies(room_b, q, user.user_id)[0]["origin_server_ts"]
                    for q in waiting)
        for esc, where in ((esc_b, "its own room"), (esc_c, "another room")):
            assert esc["content"]["body"].startswith("This could be an emergency")
            assert esc["origin_server_ts"] < first, \
                f"the routine reply refused with 429 went before the escalation in {where}"
        assert "event=matrix_rate_limited" in bot.log()
        assert bot.stop() == 0
    finally:
        watch.close()

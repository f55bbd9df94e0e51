"""Restarts, crashes, outages and rate limits: every message is answered
exactly once, and old history never."""
import json
import os
import signal
import time

import requests

from conftest import Bot, wait_until


def answered_once(client, room, events, bot_id, timeout=60):
    for ev in events:
        client.wait_reply(room, ev, bot_id, timeout)
    # a duplicate would arrive right behind the first answer
    time.sleep(1.5)
    for ev in events:
        n = len(client.replies(room, ev, bot_id))
        assert n == 1, f"{n} replies to one message"


def test_no_backlog_on_first_start(world):
    s, alice, bob = world.synapse, world.alice, world.bob
    hist = s.register("histbot", displayname="History Bot")
    world.unlimit(hist)
    room = alice.create_room(invite=[hist.user_id], direct=True)
    hist.join(room)  # joined before the bot ever ran
    old = [alice.send_text(room, "what causes night leg cramps?"),
           alice.send_text(room, "how can I prevent night leg cramps?")]
    pending = bob.create_room(invite=[hist.user_id], direct=True)
    # by name, not address: the resolver thread's path
    bot = Bot(world.tmp, s, hist, "hist", allowed_inviters=["*:localhost"],
              homeserver=f"http://localhost:{s.port}")
    bot.start().wait_synced()
    # an invite waiting from before the first start is still taken
    # (bob is allowed through "*:localhost")
    wait_until(lambda: bob.membership(pending, hist.user_id) == "join", 30,
               what="the pending invite to be taken")
    new = alice.send_text(room, "what helps with night leg cramps")
    alice.wait_reply(room, new, hist.user_id)
    for ev in old:
        assert alice.replies(room, ev, hist.user_id) == []
    assert bot.stop() == 0  # a clean exit (and no leaks under ASan)


def crash_bot(world):
    if not hasattr(world, "crash"):
        user = world.synapse.register("crashbot", displayname="Crash Bot")
        world.unlimit(user)
        world.crash = Bot(world.tmp, world.synapse, user, "crash",
                          allowed_inviters=[world.alice.user_id])
        world.crash.start().wait_synced()
        world.crash_room = world.dm(world.alice, world.crash)
    return world.crash, world.crash_room


def test_killed_after_sending_before_saving(world):
    """SIGKILL between the homeserver accepting a reply and the bot saving
    anything: the restarted bot sends the reply again with the same
    transaction id, and the homeserver keeps one copy."""
    alice = world.alice
    bot, room = crash_bot(world)
    bot.stop()
    bot.start(env={"HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND": "1"}).wait_synced()
    q1 = alice.send_text(room, "what causes night leg cramps?")
    assert bot.wait_exit(30) == -signal.SIGKILL
    alice.wait_reply(room, q1, bot.user_id)  # it did go out
    # sent while the bot is down
    q2 = alice.send_text(room, "how can I prevent night leg cramps?")
    q3 = alice.send_text(room, "what helps with night leg cramps")
    bot.start().wait_log(r"event=matrix_ready")
    answered_once(alice, room, [q1, q2, q3], bot.user_id)
    assert "event=matrix_sent" in bot.log()  # q1 was resent, deduplicated


def test_killed_during_a_burst(world):
    alice = world.alice
    bot, room = crash_bot(world)
    qs = [alice.send_text(room, f"what causes night leg cramps? ({i})")
          for i in range(8)]
    alice.wait_reply(room, qs[0], bot.user_id)
    bot.stop(signal.SIGKILL)
    more = alice.send_text(room, "how can I prevent night leg cramps?")
    bot.start()
    answered_once(alice, room, qs + [more], bot.user_id)
    bot.stop()


def test_unusable_sync_token_starts_afresh(world):
    """A saved token the homeserver refuses (say its database was restored)
    must not wedge the bot: after a few refusals it starts as on a first
    run, answering nothing old."""
    alice = world.alice
    bot, room = crash_bot(world)
    bot.stop()
    state = os.path.join(bot.dir, "state", "matrix-state.json")
    with open(state) as f:
        saved = json.load(f)
    saved["next_batch"] = "s_not_a_token"
    with open(state, "w") as f:
        json.dump(saved, f)
    old = alice.send_text(room, "what causes night leg cramps?")
    bot.start().wait_log(r"sync token refused", 60)
    bot.wait_log(r"event=matrix_sync first=yes", 30)
    new = alice.send_text(room, "how can I prevent night leg cramps?")
    alice.wait_reply(room, new, bot.user_id)
    assert alice.replies(room, old, bot.user_id) == []


def test_recovers_after_homeserver_outage(world):
    s, alice, bot = world.synapse, world.alice, world.bot
    room = world.dm(alice)
    before = len([l for l in bot.log().splitlines() if "event=matrix_retry" in l])
    s.stop()
    # the widget in the same process keeps answering meanwhile
    slowest = 0.0
    end = time.monotonic() + 10
    while time.monotonic() < end:
        t0 = time.monotonic()
        r = requests.get(f"http://127.0.0.1:{world.widget_port}/healthz", timeout=5)
        slowest = max(slowest, time.monotonic() - t0)
        assert r.status_code == 200
        time.sleep(0.2)
    assert slowest < 1.0, f"the widget stalled for {slowest:.2f}s"
    s.start()
    q = alice.send_text(room, "what causes night leg cramps?")
    alice.wait_reply(room, q, bot.user_id, timeout=90)
    retries = [l for l in bot.log().splitlines() if "event=matrix_retry" in l][before:]
    # backoff, not a hot loop: a handful of tries over the outage
    assert 1 <= len(retries) <= 12, retries
    assert bot.proc.poll() is None


def test_rate_limited_burst_gets_every_reply(world):
    """Synapse's default rc_message (0.2/s, burst 10) for this bot: the
    replies past the burst get 429 and go out after Retry-After."""
    s = world.synapse
    busy = s.register("busybot", displayname="Busy Bot")  # not exempted
    carol = s.register("carol", displayname="Carol")
    world.unlimit(carol)
    bot = Bot(world.tmp, s, busy, "busy", allowed_inviters=[carol.user_id])
    bot.start().wait_synced()
    room = world.dm(carol, bot)
    qs = [carol.send_text(room, f"what causes night leg cramps? #{i}")
          for i in range(13)]
    answered_once(carol, room, qs, busy.user_id, timeout=120)
    assert "event=matrix_rate_limited" in bot.log()
    assert bot.stop() == 0

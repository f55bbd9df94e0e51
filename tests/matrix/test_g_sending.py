"""Sending: emergencies first when the homeserver rate-limits the bot,
several rooms answered at once with each room's replies in order, and
exactly once across SIGKILL with sends in flight."""
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import Bot, Client, wait_until
from test_b_restarts import answered_once

EMERGENCY = "my chest hurts and my left arm is numb"


def limited_bot(world, name, per_second=1, burst=1, extra=None):
    """A bot whose account Synapse rate-limits hard: rc_message for this
    user lowered through the admin API (the same limiter as the
    homeserver's rc_message, for this account only)."""
    s = world.synapse
    user = s.register(name, displayname="Busy " + name)
    world.admin.call("POST", "/_synapse/admin/v1/users/"
                     f"{Client.q(user.user_id)}/override_ratelimit",
                     {"messages_per_second": per_second, "burst_count": burst})
    bot = Bot(world.tmp, s, user, name,
              allowed_inviters=[world.alice.user_id, world.bob.user_id],
              extra=extra)
    bot.start().wait_synced()
    return bot


def bot_events(client, room, bot_id):
    return [ev for ev in client.events(room, 300)
            if ev.get("sender") == bot_id and ev.get("type") == "m.room.message"]


def reply_to(ev):
    return ev["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")


def test_emergency_jumps_the_rate_limited_queue(world):
    alice, bob = world.alice, world.bob
    bot = limited_bot(world, "prio")
    room_a = world.dm(alice, bot)
    room_b = world.dm(bob, bot)
    # use up the account's burst so that every reply below queues
    warm = alice.send_text(room_a, "what causes night leg cramps?")
    alice.wait_reply(room_a, warm, bot.user_id, 30)
    routine = [alice.send_text(room_a, f"what causes night leg cramps? ({i})")
               for i in range(8)]
    urgent = alice.send_text(room_a, EMERGENCY)
    # someone else's emergency in another room, a moment later
    time.sleep(0.5)
    other = bob.send_text(room_b, EMERGENCY)
    t_other = time.monotonic()
    esc_a = alice.wait_reply(room_a, urgent, bot.user_id, 60)
    esc_b = bob.wait_reply(room_b, other, bot.user_id, 60)
    waited_b = time.monotonic() - t_other
    assert esc_a["content"]["msgtype"] == "m.text"
    assert esc_a["content"]["body"].startswith("This could be an emergency")
    assert esc_b["content"]["body"].startswith("This could be an emergency")
    # every routine reply still comes, once, in the order asked
    answered_once(alice, room_a, routine, bot.user_id, timeout=90)
    evs = bot_events(alice, room_a, bot.user_id)
    order = [reply_to(ev) for ev in evs]
    routine_order = [e for e in order if e in routine]
    assert routine_order == routine, "routine replies out of order"
    # the escalation went before most of the routine replies queued
    # ahead of it (at most a couple were already on their way)
    after = order[order.index(urgent) + 1:]
    assert len([e for e in after if e in routine]) >= 5, order
    # the other room's emergency did not wait for room A's queue: it
    # went out before room A's routine replies were through
    last_routine_ts = max(ev["origin_server_ts"] for ev in evs
                          if reply_to(ev) in routine)
    assert esc_b["origin_server_ts"] < last_routine_ts
    assert waited_b < 6, f"the other room's emergency waited {waited_b:.1f}s"
    assert "event=matrix_rate_limited" in bot.log()
    assert bot.stop() == 0


def test_parallel_rooms_keep_their_order(world):
    alice, bob = world.alice, world.bob
    s = world.synapse
    user = s.register("fanout", displayname="Fan Out")
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, "fanout",
              allowed_inviters=[alice.user_id, bob.user_id],
              extra={"send_connections": 3})
    bot.start().wait_synced()
    rooms = [world.dm(alice if i % 2 == 0 else bob, bot) for i in range(6)]

    def burst(i):
        who = alice if i % 2 == 0 else bob
        return [who.send_text(rooms[i], f"what causes night leg cramps? <{i}.{k}>")
                for k in range(5)]
    with ThreadPoolExecutor(6) as pool:
        asked = list(pool.map(burst, range(6)))
    for i, qs in enumerate(asked):
        who = alice if i % 2 == 0 else bob
        answered_once(who, rooms[i], qs, user.user_id, timeout=90)
        order = [reply_to(ev) for ev in bot_events(who, rooms[i], user.user_id)]
        assert order == qs, f"room {i}: replies out of order"
    assert bot.stop() == 0


def test_killed_with_sends_in_flight_in_several_rooms(world):
    """SIGKILL right after a reply is accepted while other rooms' sends are
    in flight: after the restart every message is answered exactly once."""
    alice = world.alice
    s = world.synapse
    user = s.register("fankill", displayname="Fan Kill")
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, "fankill", allowed_inviters=[alice.user_id],
              extra={"send_connections": 4})
    bot.start().wait_synced()
    rooms = [world.dm(alice, bot) for _ in range(4)]
    bot.stop()
    bot.start(env={"HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND": "6"}).wait_synced()
    with ThreadPoolExecutor(4) as pool:
        asked = list(pool.map(lambda i: [alice.send_text(
            rooms[i], f"how can I prevent night leg cramps? [{i}.{k}]")
            for k in range(4)], range(4)))
    assert bot.wait_exit(60) == -signal.SIGKILL
    bot.start().wait_log(r"event=matrix_ready")
    for i, qs in enumerate(asked):
        answered_once(alice, rooms[i], qs, user.user_id, timeout=90)
    assert bot.stop() == 0

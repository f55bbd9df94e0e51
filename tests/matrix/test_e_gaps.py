"""More messages in a room between two syncs than the sync's timeline limit:
the homeserver sends only the newest (a "limited" timeline); the bot must
fetch the rest, so that none is silently left unanswered."""
import signal
from concurrent.futures import ThreadPoolExecutor

from conftest import Bot, wait_until
from test_b_restarts import answered_once


def gap_bot(world, name, limit):
    s = world.synapse
    user = s.register(name, displayname="Gap Bot " + name)
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, name, allowed_inviters=[world.alice.user_id],
              extra={"timeline_limit": limit})
    bot.start().wait_synced()
    return bot, world.dm(world.alice, bot)


def test_more_than_timeline_limit_while_down(world):
    alice = world.alice
    bot, room = gap_bot(world, "gapdown", 4)
    first = alice.send_text(room, "what causes night leg cramps?")
    alice.wait_reply(room, first, bot.user_id)
    bot.stop(signal.SIGKILL)
    qs = [alice.send_text(room, f"how can I prevent night leg cramps? ({i})")
          for i in range(15)]
    bot.start()
    answered_once(alice, room, [first] + qs, bot.user_id, timeout=60)
    assert "event=matrix_backfill" in bot.log()
    bot.stop()


def test_more_than_timeline_limit_while_busy(world):
    """A burst faster than the bot answers: while it works through one
    batch, more than the limit arrive for the next sync."""
    alice = world.alice
    bot, room = gap_bot(world, "gapbusy", 3)
    with ThreadPoolExecutor(6) as pool:
        qs = list(pool.map(lambda i: alice.send_text(
            room, f"what causes night leg cramps? [{i}]"), range(30)))
    answered_once(alice, room, qs, bot.user_id, timeout=90)
    bot.stop()

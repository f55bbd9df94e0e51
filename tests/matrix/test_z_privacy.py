"""Last: nothing any bot logged in this session names a person, a room, an
event or what was said."""
import re

from conftest import ALL_BOTS, SENT_TEXTS


def test_logs_hold_no_ids_or_message_text(world):
    assert ALL_BOTS
    ids = re.compile(r"@[a-z0-9._=-]+:|![A-Za-z0-9]+:|\$[A-Za-z0-9_-]{20,}")
    tokens = [b.client.token for b in ALL_BOTS if b.client]
    for bot in ALL_BOTS:
        try:
            log = bot.log(since_start=False)
        except FileNotFoundError:
            continue
        found = ids.search(log)
        assert not found, f"{bot.logfile}: {found.group(0)}"
        for text in set(SENT_TEXTS):
            assert text not in log, f"{bot.logfile} holds a message text"
        for token in tokens:
            assert token not in log, f"{bot.logfile} holds an access token"
        for name in ("alice", "bob", "carol", "mallory"):
            assert name not in log.lower(), f"{bot.logfile} names {name}"

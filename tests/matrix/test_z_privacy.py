"""Last: nothing any bot logged in this session names a person, a room, an
event or what was said; conversations appear only as salted hashes, and
escalations have their audit line."""
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
        for name in ("alice", "bob", "carol", "mallory", "dorothea", "ermengarde"):
            assert name not in log.lower(), f"{bot.logfile} names {name}"
        # no two words of a message in a row (single words such as
        # "causes" are also intent ids)
        lower = log.lower()
        for text in set(SENT_TEXTS):
            words = re.findall(r"[a-z']+", text.lower())
            for pair in zip(words, words[1:]):
                assert " ".join(pair) not in lower, \
                    f"{bot.logfile} holds the words {' '.join(pair)!r}"
        # conversations by a hash salted per run, never the stable hash
        # of a room (which would tie runs, and rooms, together)
        assert not re.search(r"\b[0-9a-f]{64}\b", log), bot.logfile
        for line in log.splitlines():
            if "event=reply " in line or "event=escalation_audit" in line:
                assert re.search(r" conv=[0-9a-f]{16} ", line), line


def test_escalations_have_an_audit_line(world):
    log = world.bot.log(since_start=False)
    audits = [l for l in log.splitlines() if "event=escalation_audit" in l]
    escalations = [l for l in log.splitlines()
                   if "event=reply " in l and "kind=escalation" in l]
    assert escalations and len(audits) == len(escalations)
    for line in audits:
        assert re.search(r"level=audit event=escalation_audit channel=matrix "
                         r"conv=[0-9a-f]{16} rule=\"[^\"]+\" category=\"[a-z-]+\" "
                         r"severity=(emergency|crisis|urgent)$", line), line

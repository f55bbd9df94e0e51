"""End-to-end encrypted rooms with "encryption": true, against the
patient's side written with another implementation (matrix-nio, whose
e2e extra is vodozemac): the patient's questions are encrypted, the bot
decrypts them, answers through the same path as plain messages and
encrypts its answers, which the patient's devices decrypt."""
import asyncio
import json
import os
import secrets
import signal
import time

import vodozemac
from nio import (AsyncClient, AsyncClientConfig, MegolmEvent, RoomCreateResponse,
                 RoomSendResponse)

from conftest import SENT_TEXTS, SOURCE_ROOT, Bot, wait_until

MEGOLM = "m.megolm.v1.aes-sha2"
KEYS = []  # every pickle key used, for the log check


def wording(key):
    with open(os.path.join(SOURCE_ROOT, "intents", "smalltalk.json"),
              encoding="utf-8") as f:
        return json.load(f)["replies"][key]


def e2e_bot(world, name, extra=None):
    user = world.synapse.register(name, displayname="Secret Bot")
    world.unlimit(user)
    key = secrets.token_hex(32)
    KEYS.append(key)
    keyfile = os.path.join(world.tmp, name + ".key")
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    os.chmod(keyfile, 0o600)
    cfg = {"encryption": True, "encryption_key_file": keyfile}
    cfg.update(extra or {})
    bot = Bot(world.tmp, world.synapse, user, name, extra=cfg,
              allowed_inviters=["*:localhost"])
    bot.start().wait_synced()
    return bot


class Patient:
    """One device of a patient, through matrix-nio with encryption."""

    def __init__(self, world, user, device):
        self.user = user
        store = os.path.join(world.tmp, "nio", user.user_id.strip("@").split(":")[0],
                             device)
        os.makedirs(store, exist_ok=True)
        self.nio = AsyncClient(world.synapse.base, user.user_id, device_id=device,
                               store_path=store,
                               config=AsyncClientConfig(encryption_enabled=True,
                                                        store_sync_tokens=True))
        self.seen = []  # decrypted events, in order

    async def login(self):
        r = await self.nio.login(self.user.password, device_name="patient")
        assert self.nio.access_token, r
        await self.keys()
        await self.sync()

    async def keys(self):
        if self.nio.should_upload_keys:
            await self.nio.keys_upload()
        if self.nio.should_query_keys:
            await self.nio.keys_query()

    async def sync(self, timeout=0):
        r = await self.nio.sync(timeout=timeout * 1000, full_state=False)
        for room_id, room in getattr(r, "rooms", None).join.items():
            for ev in room.timeline.events:
                self.seen.append((room_id, ev))
        await self.keys()
        return r

    async def encrypted_dm(self, bot_user_id, **settings):
        r = await self.nio.room_create(
            is_direct=True, invite=[bot_user_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": dict(algorithm=MEGOLM, **settings)}])
        assert isinstance(r, RoomCreateResponse), r
        room = r.room_id

        async def joined():
            await self.sync()
            members = self.nio.rooms[room].users if room in self.nio.rooms else {}
            return bot_user_id in members and \
                self.nio.rooms[room].users[bot_user_id].invited is False
        await until(joined, 30, "the bot to join")
        return room

    async def ask(self, room, text):
        SENT_TEXTS.append(text)
        await self.sync()
        r = await self.nio.room_send(room, "m.room.message",
                                     {"msgtype": "m.text", "body": text},
                                     ignore_unverified_devices=True)
        assert isinstance(r, RoomSendResponse), r
        return r.event_id

    def replies(self, room, event_id, sender):
        out = []
        for rid, ev in self.seen:
            rel = ev.source.get("content", {}).get("m.relates_to", {})
            if rid == room and ev.sender == sender and not isinstance(ev, MegolmEvent) \
                    and rel.get("m.in_reply_to", {}).get("event_id") == event_id:
                out.append(ev)
        return out

    def undecrypted(self, room, sender):
        return [ev for rid, ev in self.seen
                if rid == room and ev.sender == sender and isinstance(ev, MegolmEvent)]

    async def reply(self, room, event_id, sender, timeout=40):
        async def got():
            await self.sync(timeout=1)
            return self.replies(room, event_id, sender)
        return (await until(got, timeout, "the bot's decrypted reply"))[0]

    async def close(self):
        await self.nio.close()


async def until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)


def raw_replies(client, room, event_id, sender):
    """The bot's events answering event_id as the homeserver holds them:
    the relation travels in clear beside the ciphertext."""
    return [ev for ev in client.events(room)
            if ev.get("sender") == sender
            and ev["content"].get("m.relates_to", {}).get("m.in_reply_to", {})
            .get("event_id") == event_id]


def patient_user(world, name):
    user = world.synapse.register(name, displayname=name.capitalize())
    world.unlimit(user)
    return user


def test_encrypted_dm_answered_and_emergency_escalated(world):
    bot = e2e_bot(world, "e2eanswer")
    user = patient_user(world, "pat1")

    async def main():
        p = Patient(world, user, "PAT1DEV1")
        await p.login()
        # the room's own rotation period: a new session every 2 messages
        room = await p.encrypted_dm(bot.user_id, rotation_period_msgs=2)
        q = await p.ask(room, "what causes night leg cramps?")
        r = await p.reply(room, q, bot.user_id)
        assert r.source["content"]["msgtype"] == "m.notice"
        assert "Source:" in r.body and "Night leg cramps" in r.body
        assert "hb-source" in r.source["content"]["formatted_body"]
        # nothing of it went in clear: the homeserver has ciphertext only
        raw = raw_replies(user, room, q, bot.user_id)
        assert len(raw) == 1 and raw[0]["type"] == "m.room.encrypted"
        assert raw[0]["content"]["algorithm"] == MEGOLM
        assert "Source" not in json.dumps(raw[0])
        # red flags first, encrypted as any answer
        e = await p.ask(room, "I have crushing chest pain and can't breathe")
        r = await p.reply(room, e, bot.user_id)
        assert r.source["content"]["msgtype"] == "m.text"
        assert r.body.startswith("This could be an emergency")
        assert r.source["content"]["m.mentions"] == {"user_ids": [user.user_id]}
        assert not [ev for ev in user.messages_from(room, bot.user_id)
                    if ev["type"] == "m.room.message"], "a reply went in clear"
        # the third answer comes from a new session, still readable
        q = await p.ask(room, "how can I prevent night leg cramps?")
        r = await p.reply(room, q, bot.user_id)
        assert "prevent" in r.body
        sessions = {ev["content"]["session_id"]
                    for ev in user.events(room) if ev["sender"] == bot.user_id
                    and ev["type"] == "m.room.encrypted"}
        assert len(sessions) == 2
        await p.close()
    asyncio.run(main())
    assert "event=escalation_audit" in bot.log()
    assert "event=matrix_e2e_session action=new why=messages" in bot.log()
    assert bot.stop() == 0


def test_new_device_reads_replies_sent_after_it_came(world):
    bot = e2e_bot(world, "e2edevices")
    user = patient_user(world, "pat2")

    async def main():
        p1 = Patient(world, user, "PAT2DEV1")
        await p1.login()
        room = await p1.encrypted_dm(bot.user_id)
        q1 = await p1.ask(room, "what causes night leg cramps?")
        await p1.reply(room, q1, bot.user_id)
        # a second device logs in (a phone next to the laptop); the bot
        # learns of it from its sync's device_lists
        seen = bot.log().count("event=matrix_e2e_devices changed=")
        p2 = Patient(world, user, "PAT2DEV2")
        await p2.login()
        await p1.sync()
        wait_until(lambda: bot.log().count("event=matrix_e2e_devices changed=")
                   > seen, 30, what="the bot to see the new device")
        q2 = await p1.ask(room, "how can I prevent night leg cramps?")
        r1 = await p1.reply(room, q2, bot.user_id)
        r2 = await p2.reply(room, q2, bot.user_id)
        assert "prevent" in r2.body and r2.body == r1.body
        await p1.close()
        await p2.close()
    asyncio.run(main())
    assert bot.stop() == 0


def test_restart_and_kill_keep_answering_exactly_once(world):
    bot = e2e_bot(world, "e2ecrash")
    user = patient_user(world, "pat3")

    async def main():
        p = Patient(world, user, "PAT3DEV1")
        await p.login()
        room = await p.encrypted_dm(bot.user_id)
        asked = [await p.ask(room, "what causes night leg cramps?")]
        await p.reply(room, asked[0], bot.user_id)
        # a clean restart: the pickled sessions come back
        assert bot.stop() == 0
        bot.start().wait_synced()
        asked.append(await p.ask(room, "how can I prevent night leg cramps?"))
        await p.reply(room, asked[-1], bot.user_id)
        # killed right after the homeserver took a reply, before anything
        # was saved: the restarted bot replays the batch, decrypts again,
        # and its resend is the same event
        bot.stop()
        bot.start(env={"HEALTHBOT_MATRIX_TEST_KILL_AFTER_SEND": "1"}).wait_synced()
        asked.append(await p.ask(room, "what helps with night leg cramps"))
        assert bot.wait_exit(30) == -signal.SIGKILL
        # sent while it is down
        asked.append(await p.ask(room, "are night leg cramps serious?"))
        bot.start().wait_synced()
        for q in asked:
            await p.reply(room, q, bot.user_id, timeout=60)
        # and SIGKILL from outside, mid-conversation
        asked.append(await p.ask(room, "what causes night leg cramps? (again)"))
        bot.stop(signal.SIGKILL)
        bot.start().wait_synced()
        asked.append(await p.ask(room, "how do I stretch for night leg cramps?"))
        for q in asked[-2:]:
            await p.reply(room, q, bot.user_id, timeout=60)
        time.sleep(2)
        await p.sync()
        for q in asked:
            assert len(raw_replies(user, room, q, bot.user_id)) == 1, q
            assert len(p.replies(room, q, bot.user_id)) == 1, q
        assert not p.undecrypted(room, bot.user_id)
        await p.close()
    asyncio.run(main())
    assert bot.stop() == 0


def test_member_leaving_gets_no_later_keys(world):
    """In a group room every member's devices get the bot's room key; when
    one leaves, the next answer comes from a new session they never got."""
    bot = e2e_bot(world, "e2egroup")
    ua, ub = patient_user(world, "pat6a"), patient_user(world, "pat6b")

    async def main():
        a, b = Patient(world, ua, "PAT6ADEV"), Patient(world, ub, "PAT6BDEV")
        await a.login()
        await b.login()
        r = await a.nio.room_create(
            invite=[bot.user_id, ub.user_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": MEGOLM}}])
        room = r.room_id
        await b.nio.join(room)

        async def all_joined():
            await a.sync()
            users = a.nio.rooms[room].users if room in a.nio.rooms else {}
            return all(u in users and not users[u].invited
                       for u in (bot.user_id, ub.user_id))
        await until(all_joined, 30, "everyone to join")
        await b.sync()
        q1 = await a.ask(room, "!health what causes night leg cramps?")
        await a.reply(room, q1, bot.user_id)
        r1 = await b.reply(room, q1, bot.user_id)  # b reads it too
        assert "Source:" in r1.body
        await b.nio.room_leave(room)
        await b.close()
        await a.sync()
        q2 = await a.ask(room, "!health how can I prevent night leg cramps?")
        r2 = await a.reply(room, q2, bot.user_id)
        assert "prevent" in r2.body
        raw = {q: raw_replies(ua, room, q, bot.user_id)[0]["content"]["session_id"]
               for q in (q1, q2)}
        assert raw[q1] != raw[q2]
        await a.close()
    asyncio.run(main())
    assert "event=matrix_e2e_session action=new why=member-left" in bot.log()
    assert bot.stop() == 0


class LateKey:
    """A new outbound session of the patient's whose key (from message 0)
    the bot is not given yet, as when the to-device message is late;
    deliver() shares it from its start."""

    PICKLE_KEY = b"k" * 32

    def __init__(self, patient, room):
        self.p, self.room = patient, room
        patient.nio.olm.create_outbound_group_session(room)
        self.session = patient.nio.olm.outbound_group_sessions[room]
        self.at_start = self.session._session.pickle(self.PICKLE_KEY)
        self.session.shared = True

    async def deliver(self):
        s = self.session
        s._session = vodozemac.GroupSession.from_pickle(self.at_start, self.PICKLE_KEY)
        s.shared = False
        await self.p.nio.share_group_session(self.room, ignore_unverified_devices=True)


def test_message_held_until_its_key_comes(world):
    """The room key travels apart from the message (to-device): a message
    whose key comes later is answered then, and only then."""
    bot = e2e_bot(world, "e2elate")
    user = patient_user(world, "pat5")

    async def main():
        p = Patient(world, user, "PAT5DEV1")
        await p.login()
        room = await p.encrypted_dm(bot.user_id)
        q1 = await p.ask(room, "what causes night leg cramps?")
        await p.reply(room, q1, bot.user_id)
        late = LateKey(p, room)
        q2 = await p.ask(room, "how can I prevent night leg cramps?")
        bot.wait_log(r"event=matrix_e2e_held reason=no-room-key")
        time.sleep(1)
        assert not raw_replies(user, room, q2, bot.user_id)
        # now the key: the held message is answered
        await late.deliver()
        r = await p.reply(room, q2, bot.user_id)
        assert "prevent" in r.body
        await p.close()
    asyncio.run(main())
    assert "outcome=decrypted" in bot.log()
    assert bot.stop() == 0


def test_encrypted_event_inside_encrypted_one_not_answered(world):
    """What a held message decrypts to is read as it is, never decrypted
    again: an encrypted event wrapped in another (nothing a client sends
    to be read) is not answered, not held a second time and gets no resend
    notice, while the real question held beside it is answered."""
    bot = e2e_bot(world, "e2enest", extra={"undecryptable_timeout": 3})
    user = patient_user(world, "pat8")

    async def main():
        p = Patient(world, user, "PAT8DEV1")
        await p.login()
        room = await p.encrypted_dm(bot.user_id)
        q1 = await p.ask(room, "what causes night leg cramps?")
        await p.reply(room, q1, bot.user_id)
        late = LateKey(p, room)
        r = await p.nio.room_send(room, "m.room.encrypted", {
            "algorithm": MEGOLM, "sender_key": "x" * 43, "device_id": "PAT8DEV1",
            "session_id": "s" * 43, "ciphertext": "AwgAEnB" + "a" * 80},
            ignore_unverified_devices=True)
        assert isinstance(r, RoomSendResponse), r
        nested = r.event_id
        q2 = await p.ask(room, "how can I prevent night leg cramps?")
        wait_until(lambda: bot.log().count("event=matrix_e2e_held reason=no-room-key") >= 2,
                   30, what="both messages held")
        await late.deliver()
        r2 = await p.reply(room, q2, bot.user_id)
        assert "prevent" in r2.body
        await p.close()
        return room, nested
    room, nested = asyncio.run(main())
    wait_until(lambda: bot.log().count("outcome=decrypted") >= 2, 30,
               what="both held messages decrypted")
    # past the undecryptable timeout: a second hold would have run out
    time.sleep(5)
    assert not raw_replies(user, room, nested, bot.user_id)
    log = bot.log()
    assert log.count("event=matrix_e2e_held reason=no-room-key") == 2
    assert "outcome=timeout" not in log
    assert bot.stop() == 0


def test_undecryptable_message_gets_resend_notice(world):
    """A message whose room key never comes: after the timeout one plain
    notice asks for a resend; nothing else is said about it."""
    bot = e2e_bot(world, "e2eheld", extra={"undecryptable_timeout": 3})
    user = patient_user(world, "pat4")

    async def main():
        p = Patient(world, user, "PAT4DEV1")
        await p.login()
        room = await p.encrypted_dm(bot.user_id)
        await p.close()
        return room
    room = asyncio.run(main())
    lost = user.send(room, {
        "algorithm": MEGOLM, "sender_key": "x" * 43, "device_id": "PAT4DEV1",
        "session_id": "s" * 43, "ciphertext": "AwgAEnB" + "a" * 80},
        event_type="m.room.encrypted")
    said = wait_until(lambda: raw_replies(user, room, lost, bot.user_id), 45,
                      what="the resend notice")
    assert said[0]["type"] == "m.room.message"
    assert said[0]["content"]["msgtype"] == "m.notice"
    assert said[0]["content"]["body"] == wording("matrix_undecryptable")
    # once, also across a restart
    assert bot.stop() == 0
    bot.start().wait_synced()
    time.sleep(2)
    assert len(raw_replies(user, room, lost, bot.user_id)) == 1
    assert bot.stop() == 0


def test_replayed_copy_of_encrypted_message_not_answered(world):
    """The raw m.room.encrypted content of an answered question (the same
    ciphertext, session and message index) sent again as a new event is
    a replay: the bot reads it, refuses it and says nothing, also after
    it was killed and restarted; the patient's new questions are still
    answered."""
    bot = e2e_bot(world, "e2ereplay")
    user = patient_user(world, "pat7")

    def replays():
        return bot.log().count("event=matrix_e2e_replay action=refused")

    async def main():
        p = Patient(world, user, "PAT7DEV1")
        await p.login()
        room = await p.encrypted_dm(bot.user_id)
        q = await p.ask(room, "what causes night leg cramps?")
        await p.reply(room, q, bot.user_id)
        original = [ev for ev in user.events(room) if ev["event_id"] == q][0]
        assert original["type"] == "m.room.encrypted"
        assert {"ciphertext", "session_id", "sender_key", "device_id"} \
            <= original["content"].keys()

        async def replayed(before):
            # the same content under a new event id, through the plain
            # client-server API, as the homeserver or a stolen token could
            copy = user.send(room, original["content"],
                             event_type="m.room.encrypted")
            assert copy != q
            wait_until(lambda: replays() > before, 30,
                       what="the bot to refuse the copy")
            # a question after it is answered: the copy, read before it,
            # got nothing, neither an answer nor a resend notice
            fresh = await p.ask(room, "how can I prevent night leg cramps?")
            r = await p.reply(room, fresh, bot.user_id)
            assert "prevent" in r.body
            assert not raw_replies(user, room, copy, bot.user_id)
            assert len(raw_replies(user, room, q, bot.user_id)) == 1
            return fresh

        f1 = await replayed(0)
        # killed, so nothing is saved on the way out: what it read is on
        # disk already, and a new copy is still a copy
        bot.stop(signal.SIGKILL)
        bot.start().wait_synced()
        f2 = await replayed(0)
        assert replays() == 1  # a replayed sync batch is no copy
        for ev in (q, f1, f2):
            assert len(raw_replies(user, room, ev, bot.user_id)) == 1, ev
        await p.close()
    asyncio.run(main())
    log = bot.log(since_start=False)
    assert "reason=undecryptable" not in log
    assert "event=matrix_e2e_held" not in log
    assert bot.stop() == 0


def test_keys_stay_out_of_logs(world):
    for b in [b for b in __import__("conftest").ALL_BOTS
              if "encryption" in b.config_data["matrix"]]:
        log = b.log(since_start=False)
        for key in KEYS:
            assert key not in log
        assert "PAT" not in log  # device ids

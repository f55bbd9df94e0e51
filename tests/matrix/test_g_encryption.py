"""End-to-end encrypted rooms. Without encryption the bot tells an
encrypted room once, in plain text, that it cannot read encrypted
messages: once per room, also across restarts and crashes."""
import json
import os
import shutil
import signal

from conftest import SOURCE_ROOT, Bot, wait_until

MEGOLM = "m.megolm.v1.aes-sha2"


def wording(path, key="matrix_encrypted"):
    with open(os.path.join(SOURCE_ROOT, "intents", path), encoding="utf-8") as f:
        return json.load(f)["replies"][key]


def encrypted_room(patient, bot_user_id):
    """A direct room encrypted from its creation (as Element makes them),
    joined by the bot."""
    body = {"preset": "trusted_private_chat", "is_direct": True,
            "invite": [bot_user_id],
            "initial_state": [{"type": "m.room.encryption", "state_key": "",
                               "content": {"algorithm": MEGOLM}}]}
    room = patient.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"]
    wait_until(lambda: patient.membership(room, bot_user_id) == "join", 30,
               what="the bot to join")
    return room


def send_encrypted(patient, room):
    """An m.room.encrypted event as a client sends it (its ciphertext is
    opaque to the homeserver and to a bot without keys)."""
    return patient.send(room, {
        "algorithm": MEGOLM, "sender_key": "x" * 43, "device_id": "PATIENT1",
        "session_id": "s" * 43, "ciphertext": "AwgAEnB" + "a" * 80},
        event_type="m.room.encrypted")


def notices(client, room, bot_id):
    return [ev for ev in client.messages_from(room, bot_id)
            if ev["content"].get("msgtype") == "m.notice"
            and "m.relates_to" not in ev["content"]]


def e2e_bot(world, name, top=None):
    user = world.synapse.register(name, displayname="E2E Bot")
    world.unlimit(user)
    bot = Bot(world.tmp, world.synapse, user, name,
              allowed_inviters=[world.alice.user_id], top=top)
    bot.start().wait_synced()
    return bot


def test_encrypted_room_told_once_across_restarts(world):
    alice = world.alice
    bot = e2e_bot(world, "e2ebot")
    room = encrypted_room(alice, bot.user_id)
    said = wait_until(lambda: notices(alice, room, bot.user_id), 30,
                      what="the notice")
    assert said[0]["content"]["body"] == wording("smalltalk.json")
    # not a reply, mentions nobody: it is the room's, not a message's
    assert said[0]["content"]["m.mentions"] == {}
    # encrypted messages later get nothing more; a plain message (clients
    # may still send one) is answered, and its answer shows the bot has
    # read what came before it
    def exchange(n):
        send_encrypted(alice, room)
        send_encrypted(alice, room)
        q = alice.send_text(room, f"what causes night leg cramps? ({n})")
        alice.wait_reply(room, q, bot.user_id, timeout=60)
        assert len(notices(alice, room, bot.user_id)) == 1
    exchange(1)
    # nor after a clean restart, nor after a crash
    assert bot.stop() == 0
    send_encrypted(alice, room)
    bot.start()
    exchange(2)
    bot.stop(signal.SIGKILL)
    send_encrypted(alice, room)
    bot.start()
    exchange(3)
    assert bot.stop() == 0


def test_room_encrypted_later_told_once_in_its_locale(world, tmp_path):
    """A room that turns encryption on after the bot joined is told when
    the m.room.encryption state arrives, in the words of the library's
    locale file (service wording is data)."""
    alice = world.alice
    intents = tmp_path / "intents"
    shutil.copytree(os.path.join(SOURCE_ROOT, "intents"), intents)
    locale = intents / "locales" / "en-GB.json"
    data = json.loads(locale.read_text(encoding="utf-8"))
    data["replies"]["matrix_encrypted"] = ("This chat is encrypted and I "
                                           "cannot read it (en-GB wording).")
    locale.write_text(json.dumps(data), encoding="utf-8")
    bot = e2e_bot(world, "e2ebotgb", top={"locale": "en-GB",
                                          "intents_dir": str(intents)})
    room = world.dm(alice, bot)
    q = alice.send_text(room, "what causes night leg cramps?")
    alice.wait_reply(room, q, bot.user_id)
    assert notices(alice, room, bot.user_id) == []
    alice.call("PUT", f"/_matrix/client/v3/rooms/{alice.q(room)}/state/"
               "m.room.encryption/", {"algorithm": MEGOLM})
    said = wait_until(lambda: notices(alice, room, bot.user_id), 30,
                      what="the notice")
    assert said[0]["content"]["body"] == data["replies"]["matrix_encrypted"]
    send_encrypted(alice, room)
    q = alice.send_text(room, "how can I prevent night leg cramps?")
    alice.wait_reply(room, q, bot.user_id)
    assert len(notices(alice, room, bot.user_id)) == 1
    assert bot.stop() == 0


def test_encryption_key_file_is_required(world, tmp_path):
    """"encryption": true without a key file is a config error naming the
    key (the key is never taken from argv or the environment)."""
    user = world.synapse.register("e2ebotcfg")
    bot = Bot(world.tmp, world.synapse, user, "e2ebotcfg",
              extra={"encryption": True})
    bot.start()
    assert bot.wait_exit(30) != 0
    assert "matrix.encryption_key_file" in bot.log()

"""Behaviour in rooms: direct and group rooms, threads, escalations, staff
commands, invites, and what the bot must never answer."""
import time

from conftest import BOT_NAME, wait_until


def test_dm_question_gets_reply_with_source(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    q = alice.send_text(room, "what causes night leg cramps?")
    r = alice.wait_reply(room, q, bot.user_id)
    c = r["content"]
    assert c["msgtype"] == "m.notice"
    assert c["m.relates_to"]["m.in_reply_to"]["event_id"] == q
    assert "Source:" in c["body"]
    assert c["format"] == "org.matrix.custom.html"
    assert "hb-source" in c["formatted_body"] and "Source:" in c["formatted_body"]
    assert c.get("m.mentions") == {}
    # a read receipt for the message handled
    def receipt():
        s = alice.call("GET", "/_matrix/client/v3/sync", params={"timeout": "0"})
        for ev in s["rooms"]["join"][room].get("ephemeral", {}).get("events", []):
            if ev["type"] == "m.receipt":
                for eid, kinds in ev["content"].items():
                    if bot.user_id in kinds.get("m.read", {}):
                        return eid
        return None
    assert wait_until(receipt, 10, what="the bot's read receipt")


def test_thread_message_answered_in_thread(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    root = alice.send_text(room, "hello there")
    alice.wait_reply(room, root, bot.user_id)
    q = alice.send_text(room, "how can I prevent night leg cramps?", **{
        "m.relates_to": {"rel_type": "m.thread", "event_id": root,
                         "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root}}})
    r = alice.wait_reply(room, q, bot.user_id)
    rel = r["content"]["m.relates_to"]
    assert rel["rel_type"] == "m.thread"
    assert rel["event_id"] == root
    assert rel["m.in_reply_to"]["event_id"] == q
    assert "prevent" in r["content"]["body"]


def test_red_flag_escalates_as_text(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    q = alice.send_text(room, "I have crushing chest pain and can't breathe")
    r = alice.wait_reply(room, q, bot.user_id)
    c = r["content"]
    assert c["msgtype"] == "m.text"  # so it notifies
    assert c["body"].startswith("This could be an emergency")
    assert c["formatted_body"].startswith("<p><strong>This could be an emergency")
    assert c["m.mentions"] == {"user_ids": [alice.user_id]}


def test_reply_fallback_is_not_read_as_the_question(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    q1 = alice.send_text(room, "what causes night leg cramps?")
    a1 = alice.wait_reply(room, q1, bot.user_id)
    quoted = "\n".join("> " + line if i else f"> <{bot.user_id}> {line}"
                       for i, line in enumerate(a1["content"]["body"].splitlines()))
    q2 = alice.send_text(
        room, quoted + "\n\nhow can I prevent them?",
        format="org.matrix.custom.html",
        formatted_body="<mx-reply><blockquote>" + a1["content"]["formatted_body"] +
        "</blockquote></mx-reply>how can I prevent them?",
        **{"m.relates_to": {"m.in_reply_to": {"event_id": a1["event_id"]}}})
    r = alice.wait_reply(room, q2, bot.user_id)
    assert "To help prevent" in r["content"]["body"]


def group_room(world):
    alice, bob = world.alice, world.bob
    room = alice.create_room(invite=[bob.user_id], name="Ward 7")
    bob.join(room)
    alice.invite(room, world.botuser.user_id)
    wait_until(lambda: alice.membership(room, world.botuser.user_id) == "join", 30,
               what="the bot to join")
    return room


def test_group_room_needs_mention_or_prefix(world):
    alice, bob, bot = world.alice, world.bob, world.botuser
    room = group_room(world)
    plain = alice.send_text(room, "what causes night leg cramps?")
    by_pill = bob.send_text(room, "what helps with night leg cramps",
                            **{"m.mentions": {"user_ids": [bot.user_id]}})
    by_name = alice.send_text(room, BOT_NAME + ", how can I prevent night leg cramps?")
    by_id = bob.send_text(room, bot.user_id + " what causes night leg cramps?")
    by_prefix = alice.send_text(room, "!health what helps with night leg cramps")
    for ev in (by_pill, by_name, by_id, by_prefix):
        r = alice.wait_reply(room, ev, bot.user_id)
        assert r["content"]["msgtype"] == "m.notice"
        assert "Source:" in r["content"]["body"]
    # answers come in order: the unaddressed message came first
    assert alice.replies(room, plain, bot.user_id) == []
    assert len(alice.messages_from(room, bot.user_id)) == 4


def test_staff_commands(world):
    alice, bot = world.alice, world.botuser
    room = group_room(world)
    topics = alice.send_text(room, "!health topics")
    section = alice.send_text(room, "!health cramps self-care")
    helpq = alice.send_text(room, "!health help")
    t = alice.wait_reply(room, topics, bot.user_id)["content"]
    assert "Night leg cramps" in t["body"] and "night-leg-cramps" in t["body"]
    s = alice.wait_reply(room, section, bot.user_id)["content"]
    assert s["body"].startswith("Night leg cramps: Self-care")
    assert "Source:" in s["body"]
    h = alice.wait_reply(room, helpq, bot.user_id)["content"]
    assert "!health topics" in h["body"] and "<topic> <section>" in h["body"]
    assert all(x["msgtype"] == "m.notice" for x in (t, s, h))


def test_never_answers_notices_edits_or_own_events(world):
    other, bot = world.otherbot, world.botuser
    room = world.dm(other)
    notice = other.send(room, {"msgtype": "m.notice",
                               "body": "what causes night leg cramps?"})
    edit = other.send(room, {
        "msgtype": "m.text", "body": "* what causes night leg cramps at night?",
        "m.new_content": {"msgtype": "m.text",
                          "body": "what causes night leg cramps at night?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": notice}})
    emote = other.send(room, {"msgtype": "m.emote", "body": "waves"})
    q = other.send_text(room, "what causes night leg cramps?")
    other.wait_reply(room, q, bot.user_id)
    for ev in (notice, edit, emote):
        assert other.replies(room, ev, bot.user_id) == []
    # and its own notice did not make it answer itself
    time.sleep(1)
    assert len(other.messages_from(room, bot.user_id)) == 1


def test_invites_only_from_allowed_users(world):
    alice, mallory, bot = world.alice, world.mallory, world.botuser
    bad = mallory.create_room(invite=[bot.user_id], direct=True)
    good = alice.create_room(invite=[bot.user_id], direct=True)
    wait_until(lambda: alice.membership(good, bot.user_id) == "join", 30,
               what="the bot to join the allowed invite")
    # invites are handled in order: by now the other one was seen too
    wait_until(lambda: mallory.membership(bad, bot.user_id) == "leave", 10,
               what="the bot to decline")
    assert mallory.membership(bad, bot.user_id) != "join"


def test_history_before_joining_is_not_answered(world):
    alice, bob, bot = world.alice, world.bob, world.botuser
    room = alice.create_room(invite=[bob.user_id])
    bob.join(room)
    old = [alice.send_text(room, "!health what causes night leg cramps?"),
           bob.send_text(room, "!health topics")]
    alice.invite(room, bot.user_id)
    wait_until(lambda: alice.membership(room, bot.user_id) == "join", 30,
               what="the bot to join")
    new = alice.send_text(room, "!health help")
    alice.wait_reply(room, new, bot.user_id)
    for ev in old:
        assert alice.replies(room, ev, bot.user_id) == []

"""Who the bot answers: replies to its own messages, edits, HTML-only
messages, and emergencies nobody addressed to it (escalate_unaddressed)."""
import time

from conftest import Bot, wait_until
from test_a_rooms import group_room

EMERGENCY = "my chest hurts and my left arm is numb"


def settle(client, room, bot_id):
    """An addressed question answered: everything sent before it was
    considered (the bot handles a room's messages in order)."""
    q = client.send_text(room, "!health help")
    client.wait_reply(room, q, bot_id)


def test_reply_to_the_bots_message_addresses_it(world):
    alice, bob, bot = world.alice, world.bob, world.botuser
    room = group_room(world)
    q = alice.send_text(room, "!health what causes night leg cramps?")
    a = alice.wait_reply(room, q, bot.user_id)
    # a client that sets no m.mentions and quotes nothing (reply
    # fallbacks are gone from newer clients)
    follow = bob.send_text(room, "how can I prevent night leg cramps?", **{
        "m.relates_to": {"m.in_reply_to": {"event_id": a["event_id"]}}})
    r = bob.wait_reply(room, follow, bot.user_id)
    assert "prevent" in r["content"]["body"]
    # a reply to someone else's message is not addressed to the bot
    aside = bob.send_text(room, "what causes night leg cramps?", **{
        "m.relates_to": {"m.in_reply_to": {"event_id": q}}})
    settle(alice, room, bot.user_id)
    assert alice.replies(room, aside, bot.user_id) == []


def test_edit_of_an_answered_message_gets_one_new_answer(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    q = alice.send_text(room, "what causes night leg cramps?")
    first = alice.wait_reply(room, q, bot.user_id)
    edit = alice.send(room, {
        "msgtype": "m.text", "body": "* how can I prevent night leg cramps?",
        "m.new_content": {"msgtype": "m.text",
                          "body": "how can I prevent night leg cramps?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": q}})
    got = wait_until(lambda: len(alice.replies(room, q, bot.user_id)) >= 2, 30,
                     what="an answer to the edit")
    assert got
    time.sleep(1.5)
    answers = alice.replies(room, q, bot.user_id)
    assert len(answers) == 2, "one new answer per edit"
    assert answers[0]["event_id"] == first["event_id"]
    assert "prevent" in answers[1]["content"]["body"]
    assert alice.replies(room, edit, bot.user_id) == []


def test_edit_in_a_thread_is_answered_in_the_thread(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    root = alice.send_text(room, "hello there")
    alice.wait_reply(room, root, bot.user_id)
    q = alice.send_text(room, "what causes night leg cramps?", **{
        "m.relates_to": {"rel_type": "m.thread", "event_id": root,
                         "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root}}})
    alice.wait_reply(room, q, bot.user_id)
    alice.send(room, {
        "msgtype": "m.text", "body": "* how can I prevent night leg cramps?",
        "m.new_content": {"msgtype": "m.text",
                          "body": "how can I prevent night leg cramps?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": q}})
    wait_until(lambda: len(alice.replies(room, q, bot.user_id)) >= 2, 30,
               what="an answer to the edit")
    second = alice.replies(room, q, bot.user_id)[1]["content"]
    assert second["m.relates_to"]["rel_type"] == "m.thread"
    assert second["m.relates_to"]["event_id"] == root


def test_edit_of_an_unanswered_message_is_a_new_message(world):
    alice, bot = world.alice, world.botuser
    room = group_room(world)
    q = alice.send_text(room, "what causes night leg cramps?")  # not addressed
    settle(alice, room, bot.user_id)
    assert alice.replies(room, q, bot.user_id) == []
    # edited to address the bot: now it is a question for the bot
    alice.send(room, {
        "msgtype": "m.text", "body": "* !health what causes night leg cramps?",
        "m.new_content": {"msgtype": "m.text",
                          "body": "!health what causes night leg cramps?"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": q}})
    r = alice.wait_reply(room, q, bot.user_id)
    assert "Source:" in r["content"]["body"]
    # an edit that still does not address it stays unanswered
    q2 = alice.send_text(room, "what helps with night leg cramps")
    alice.send(room, {
        "msgtype": "m.text", "body": "* what helps with leg cramps at night",
        "m.new_content": {"msgtype": "m.text",
                          "body": "what helps with leg cramps at night"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": q2}})
    settle(alice, room, bot.user_id)
    assert alice.replies(room, q2, bot.user_id) == []


def test_html_only_message_is_read(world):
    alice, bot = world.alice, world.botuser
    room = world.dm(alice)
    q = alice.send(room, {
        "msgtype": "m.text", "body": "", "format": "org.matrix.custom.html",
        "formatted_body": "<p>what causes <em>night leg cramps</em>&#63;</p>"})
    r = alice.wait_reply(room, q, bot.user_id)
    assert "Please type a question" not in r["content"]["body"]
    assert "Source:" in r["content"]["body"]


def test_unaddressed_emergency_in_a_group_room_is_answered(world):
    """escalate_unaddressed defaults to true."""
    alice, bob, bot = world.alice, world.bob, world.botuser
    room = group_room(world)
    routine = bob.send_text(room, "what causes night leg cramps?")
    urgent = bob.send_text(room, EMERGENCY)
    r = bob.wait_reply(room, urgent, bot.user_id)
    assert r["content"]["msgtype"] == "m.text"
    assert r["content"]["body"].startswith("This could be an emergency")
    assert r["content"]["m.mentions"] == {"user_ids": [bob.user_id]}
    settle(alice, room, bot.user_id)
    assert alice.replies(room, routine, bot.user_id) == []


def test_unaddressed_emergency_ignored_when_switched_off(world):
    alice, bob = world.alice, world.bob
    s = world.synapse
    user = s.register("quietbot", displayname="Quiet Bot")
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, "quiet", allowed_inviters=[alice.user_id],
              extra={"escalate_unaddressed": False})
    bot.start().wait_synced()
    room = alice.create_room(invite=[bob.user_id], name="Ward 8")
    bob.join(room)
    alice.invite(room, user.user_id)
    wait_until(lambda: alice.membership(room, user.user_id) == "join", 30,
               what="the bot to join")
    urgent = bob.send_text(room, EMERGENCY)
    addressed = bob.send_text(room, "!health " + EMERGENCY)
    r = bob.wait_reply(room, addressed, user.user_id)
    assert r["content"]["body"].startswith("This could be an emergency")
    time.sleep(1)
    assert bob.replies(room, urgent, user.user_id) == []
    assert bot.stop() == 0

"""Addressing by reply, as older clients send it: no m.mentions, and the
reply fallback (which quotes the bot's answer and names the bot) in both
body and formatted_body. The fallback is removed before anything is
read, so the reply addresses the bot through m.in_reply_to alone, and
the question is the new text, not the quote."""
from test_a_rooms import group_room


def test_reply_with_a_fallback_and_no_mentions_addresses_the_bot(world):
    alice, bob, bot = world.alice, world.bob, world.botuser
    room = group_room(world)
    q = alice.send_text(room, "!health what causes night leg cramps?")
    a = alice.wait_reply(room, q, bot.user_id)
    # the quote (words other tests send too: the privacy test looks for
    # every sent text's word pairs in the logs)
    quoted = "Night leg cramps"
    link = f"https://matrix.to/#/{room}/{a['event_id']}"
    follow = bob.send_text(
        room, f"> <{bot.user_id}> {quoted}\n\nhello",
        format="org.matrix.custom.html",
        formatted_body=(f'<mx-reply><blockquote><a href="{link}">In reply to</a> '
                        f'<a href="https://matrix.to/#/{bot.user_id}">{bot.user_id}</a>'
                        f"<br>{quoted}</blockquote></mx-reply>hello"),
        **{"m.relates_to": {"m.in_reply_to": {"event_id": a["event_id"]}}})
    r = bob.wait_reply(room, follow, bot.user_id)
    # the answer is to "hello", not to the quoted passage
    assert "Source:" not in r["content"]["body"], r["content"]["body"]
    assert r["content"]["msgtype"] == "m.notice"

"""The hostile-input catalogue (tests/hostile/catalogue.jsonl) through the
Matrix entry point: every `message` case, as an m.text in a direct room
with the main bot, against the session's real Synapse.

Matrix event bodies are JSON strings, so a message must be Unicode: the
case's bytes are decoded as UTF-8 with errors="replace". Invalid UTF-8
cannot travel through Matrix at all (a client cannot send it, Synapse
would refuse it); those cases arrive as U+FFFD and the rest of the text.
NUL bytes do travel (as \\u0000, accepted by Synapse on SQLite) and are
sent as they are; the bot reads each as a space (bot/matrix/sync.c), as the
engine does. The HTML cases also carry the input as formatted_body.

Synapse refuses events over 65,536 bytes (413 M_TOO_LARGE), below the
bot's own cap (64 KiB of body, bot/matrix/event.c): the megabyte cases
never reach the bot. Should a homeserver take one, the bot must ignore it
(no reply), never answer it partly.

Each message that gets through must be answered exactly once: an m.notice,
or an m.text for an escalation (checked against `expect_kind`); its
formatted_body holds no `<script`, no markup from the input, and no tag
the engine does not write. Afterwards the bot still answers a plain
question, once. A raw hostile /sync (malformed events and JSON) is the
fuzz target's job (tests/fuzz), not this test's.

The reply's red-flag category (`expect_category`) is not in a Matrix
event; the CLI and engine runners check it.
"""
import base64
import json
import os
import re
import time
import uuid

from conftest import Client

CATALOGUE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "hostile", "catalogue.jsonl")
# Synapse's limit on a whole event (canonical JSON): larger bodies are
# refused at send time
SYNAPSE_MAX_EVENT = 65536
# the markup the bot writes: the engine's tags (tests/hostile/run_cli.py)
TAGS = re.compile(
    r'<(?:/?(?:p|strong|ul|li)|p class="hb-(?:heading|source|disclaimer)")>')
INPUT_TAG = re.compile(r"<[A-Za-z/!][^<>]*>?")
# per message: the reply, or a 429 wait, through Synapse
REPLY_TIMEOUT = 20


def body(case):
    if "text" in case:
        return case["text"].encode()
    if "b64" in case:
        return base64.b64decode(case["b64"])
    return b"".join(body(p) * p.get("repeat", 1) for p in case.get("parts", []))


def message_cases():
    with open(CATALOGUE, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases if c["entry"] == "message"]


def all_events(client, room):
    """Every event of the room, oldest first (paged: the catalogue and its
    replies are more than one page)."""
    out, token = [], None
    while True:
        params = {"dir": "b", "limit": "500"}
        if token:
            params["from"] = token
        r = client.call("GET", f"/_matrix/client/v3/rooms/{Client.q(room)}/messages",
                        params=params)
        out.extend(r.get("chunk", []))
        token = r.get("end")
        if not r.get("chunk") or not token:
            return list(reversed(out))


def send(client, room, text, html=None):
    """Sends text as m.text (and html as its formatted_body); returns the
    event id, or None when Synapse refuses the event as too large."""
    content = {"msgtype": "m.text", "body": text}
    if html is not None:
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = html
    txn = uuid.uuid4().hex
    r = client.call("PUT", f"/_matrix/client/v3/rooms/{Client.q(room)}/send/"
                    f"m.room.message/{txn}", content, expect=(200, 413))
    if "event_id" not in r:
        assert r.get("errcode") == "M_TOO_LARGE", r
        return None
    return r["event_id"]


def reply_problem(content, case, text):
    kinds = case.get("expect_kind")
    want = None
    if kinds == ["escalation"]:
        want = "m.text"
    elif kinds and "escalation" not in kinds:
        want = "m.notice"
    msgtype = content.get("msgtype")
    if msgtype not in ("m.notice", "m.text"):
        return f"msgtype {msgtype!r}"
    if want and msgtype != want:
        return f"{msgtype}, want {want} (expect_kind {kinds}): {content.get('body', '')[:80]!r}"
    html = content.get("formatted_body")
    if not isinstance(html, str) or not isinstance(content.get("body"), str):
        return "no body or formatted_body"
    # the kind, as far as a Matrix event shows it: an answer quotes a
    # passage with its source line; a fallback or small talk does not
    sourced = "Source:" in content["body"]
    if kinds == ["answer"] and not sourced:
        return f"no answer (no source line): {content['body'][:80]!r}"
    if kinds and not {"answer", "escalation"} & set(kinds) and sourced:
        return f"a quoted passage, want {'/'.join(kinds)}: {content['body'][:80]!r}"
    if content.get("format") != "org.matrix.custom.html":
        return f"format {content.get('format')!r}"
    if "<script" in html.lower():
        return "<script in formatted_body"
    for tag in INPUT_TAG.findall(text):
        if len(tag) > 3 and tag in html:
            return f"the input's markup {tag[:40]!r} in formatted_body"
    stray = [m for m in re.finditer("<", html) if not TAGS.match(html, m.start())]
    if stray:
        return "markup the bot does not write: " + html[stray[0].start():][:40]
    return None


def test_hostile_catalogue(world):
    alice, bot = world.alice, world.botuser
    start = time.monotonic()
    room = world.dm(alice)
    sent = []        # (case, event id, text)
    refused = []     # case ids Synapse would not take
    problems = []
    for case in message_cases():
        raw = body(case)
        text = raw.decode("utf-8", errors="replace")
        html = text if case["id"].startswith("html-") else None
        eid = send(alice, room, text, html)
        if eid is None:
            # only what cannot fit in an event may be refused
            assert len(raw) > SYNAPSE_MAX_EVENT - 2048, \
                f"{case['id']}: {len(raw)} bytes refused as too large"
            refused.append(case["id"])
            continue
        sent.append((case, eid, text))
        # one at a time: the reply to this one before the next is sent
        # (a pace the homeserver and the bot keep up with, and a hang or a
        # crash shows on the case that caused it)
        too_big = len(text.encode()) > 64 * 1024
        if too_big:
            continue  # must be ignored: checked below
        try:
            r = alice.wait_reply(room, eid, bot.user_id, timeout=REPLY_TIMEOUT)
        except AssertionError:
            assert world.bot.proc.poll() is None, \
                f"{case['id']}: the bot exited ({world.bot.proc.returncode})"
            problems.append(f"{case['id']}: no reply in {REPLY_TIMEOUT}s")
            continue
        problem = reply_problem(r["content"], case, text)
        if problem:
            problems.append(f"{case['id']}: {problem}")
    # every case that cannot fit in an event was refused (the megabyte
    # ones, 100 KB bombs), and there are such cases
    too_large = [c["id"] for c in message_cases()
                 if len(body(c).decode("utf-8", errors="replace").encode())
                 > SYNAPSE_MAX_EVENT]
    assert too_large and set(too_large) <= set(refused), (too_large, refused)

    # still alive, and answers a plain question once
    assert world.bot.proc.poll() is None
    q = alice.send_text(room, "what causes night leg cramps?")
    r = alice.wait_reply(room, q, bot.user_id, timeout=REPLY_TIMEOUT)
    assert r["content"]["msgtype"] == "m.notice"
    assert "Source:" in r["content"]["body"]
    time.sleep(1.5)  # room for a stray second reply to show up

    # no message answered twice; ignored ones not at all; nothing unasked
    events = all_events(alice, room)
    counts = {}
    for ev in events:
        rel = ev.get("content", {}).get("m.relates_to", {})
        if ev.get("sender") == bot.user_id and ev.get("type") == "m.room.message":
            target = rel.get("m.in_reply_to", {}).get("event_id")
            counts[target] = counts.get(target, 0) + 1
    for case, eid, text in sent:
        want = 0 if len(text.encode()) > 64 * 1024 else 1
        if counts.get(eid, 0) != want:
            problems.append(f"{case['id']}: {counts.get(eid, 0)} replies, want {want}")
    assert counts.get(q) == 1
    answered = {eid for _, eid, _ in sent} | {q}
    unasked = [t for t in counts if t not in answered]
    assert not unasked, f"replies to events not sent here: {unasked}"
    assert not problems, "\n".join(problems)

    # nothing said here is in the log. Not through test_z_privacy's list:
    # its any-two-words check reads "%s %n" or "a a a" as words, which
    # single letters in any log match by chance. Here: whole texts, and
    # pairs of words of three letters or more.
    log = world.bot.log(since_start=False)
    lower = log.lower()
    for case, _, text in sent:
        if len(text.strip()) >= 8:
            assert text not in log, f"the log holds the text of {case['id']}"
        words = re.findall(r"[a-z']{3,}", text.lower())
        for pair in set(zip(words, words[1:])):
            assert " ".join(pair) not in lower, \
                f"the log holds the words {' '.join(pair)!r} of {case['id']}"
    assert time.monotonic() - start < 180, "the catalogue took over 3 minutes"

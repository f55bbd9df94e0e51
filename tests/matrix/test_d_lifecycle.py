"""Running it in production, through Matrix: /readyz waits for the first
sync, /metrics counts Matrix answers and syncs, SIGHUP reloads without
missing a message, and SIGTERM finishes the replies in flight and saves the
sync token, so a restart answers nothing twice."""
import os
import re
import signal
import time

import requests

from conftest import Bot, free_port, wait_until
from test_b_restarts import answered_once

CRAMPS = "what causes night leg cramps?"


def get(port, path):
    s = requests.Session()
    s.trust_env = False  # loopback only, never a proxy
    return s.get(f"http://127.0.0.1:{port}{path}", timeout=10)


def metric(text, name, **labels):
    """The sum of the series of name with these labels (and any others) in
    Prometheus text, or None when there is none."""
    total = None
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total = (total or 0) + float(m.group(3))
    return total


def test_ready_and_metrics_count_matrix(world):
    bot, alice = world.bot, world.alice
    r = get(world.widget_port, "/readyz")
    assert (r.status_code, r.text) == (200, "ready\n")
    room = world.dm(alice)
    q = alice.send_text(room, CRAMPS)
    e = alice.send_text(room, "my husband collapsed and he is not breathing")
    alice.wait_reply(room, q, bot.user_id)
    alice.wait_reply(room, e, bot.user_id)
    # the reply duration is observed once the homeserver has the reply
    wait_until(lambda: metric(get(world.widget_port, "/metrics").text,
                              "healthbot_reply_duration_seconds_count",
                              channel="matrix") >= 2, 10, what="the latency")
    m = get(world.widget_port, "/metrics").text
    assert metric(m, "healthbot_messages_total", channel="matrix", kind="answer") >= 1
    assert metric(m, "healthbot_escalations_total", channel="matrix",
                  severity="emergency") >= 1
    assert metric(m, "healthbot_answers_total", intent="causes") >= 1
    assert time.time() - metric(m, "healthbot_matrix_last_sync_timestamp_seconds") < 120
    assert metric(m, "healthbot_matrix_sync_errors_total") is not None
    log = bot.log()
    assert re.search(r"level=audit event=escalation_audit channel=matrix "
                     r"conv=[0-9a-f]{16} rule=\"[^\"]+\" category=\"[a-z-]+\" "
                     r"severity=emergency", log), log[-2000:]
    assert re.search(r"event=reply channel=matrix conv=[0-9a-f]{16} kind=answer ", log)


def test_not_ready_until_the_first_sync(world):
    """A homeserver that does not answer: the process is live, not ready;
    SIGTERM does not wait for it."""
    widget = free_port()
    dead = free_port()
    bot = Bot(world.tmp, world.synapse, None, "unready", token="syt_unused",
              homeserver=f"http://127.0.0.1:{dead}", widget_port=widget)
    bot.start()
    wait_until(lambda: _answers(widget, "/healthz"), 30, what="the widget")
    assert get(widget, "/healthz").status_code == 200
    r = get(widget, "/readyz")
    assert (r.status_code, r.text) == (503, "starting\n")
    started = time.monotonic()
    assert bot.stop() == 0
    assert time.monotonic() - started < 3
    assert "event=drained" in bot.log()


def _answers(port, path):
    try:
        return get(port, path).status_code
    except requests.RequestException:
        return None


def test_sighup_reloads_while_matrix_runs(world):
    """Under Matrix too: the library is reloaded, a changed matrix section
    is left for the restart (and said so), nothing is missed."""
    s, alice = world.synapse, world.alice
    user = s.register("reloadbot")
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, "reload", allowed_inviters=[alice.user_id])
    bot.start().wait_synced()
    room = world.dm(alice, bot)
    before = alice.send_text(room, CRAMPS)
    alice.wait_reply(room, before, user.user_id)
    cfg = dict(bot.config_data)
    cfg["matrix"] = dict(cfg["matrix"], timeline_limit=20)
    cfg["emergency_number"] = "999"
    bot.write_config(cfg)
    bot.proc.send_signal(signal.SIGHUP)
    bot.wait_log(r"level=info event=reload articles=\d+")
    bot.wait_log(r"event=reload_restart_needed section=matrix ")
    e = alice.send_text(room, "she collapsed and is not breathing")
    reply = alice.wait_reply(room, e, user.user_id)
    assert "999" in reply["content"]["body"]
    assert bot.stop() == 0


def test_sigterm_sends_replies_in_flight_and_saves_the_token(world):
    """Synapse's default rc_message (0.2/s, burst 10) for this bot: replies
    past the burst wait seconds for Retry-After. SIGTERM meanwhile: every
    reply still goes out, the token is saved after the batch, and the
    restarted bot replays nothing."""
    s = world.synapse
    user = s.register("drainbot", displayname="Drain Bot")  # not exempted
    dora = s.register("dorothea", displayname="Dorothea")
    world.unlimit(dora)
    bot = Bot(world.tmp, s, user, "drain", allowed_inviters=[dora.user_id],
              top={"drain_timeout": 40})
    bot.start().wait_synced()
    room = world.dm(dora, bot)
    qs = [dora.send_text(room, f"what causes night leg cramps? #{i}")
          for i in range(13)]
    bot.wait_log(r"event=matrix_rate_limited", 60)
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.wait_exit(60) == 0
    log = bot.log()
    # messages not yet handled, and replies composed but not yet out
    # (they queue as soon as the message is handled)
    m = re.search(r"event=matrix_drain tasks_left=(\d+) replies_queued=(\d+)", log)
    left = int(m.group(1)) + int(m.group(2))
    assert left > 0, "replies were in flight at SIGTERM"
    assert "event=drained" in log and "event=drain_timeout" not in log
    # every reply of the batch in hand when the signal came went out
    # (messages the bot had not synced yet wait for the restart)
    after_signal = log[log.index("event=matrix_drain"):]
    assert after_signal.count("event=matrix_sent ok=yes") == left
    sent = log.count("event=matrix_sent ok=yes")
    answered = [q for q in qs if dora.replies(room, q, user.user_id)]
    assert len(answered) == sent, (len(answered), sent)
    assert all(len(dora.replies(room, q, user.user_id)) == 1 for q in answered)

    # the batch's token was saved: nothing is replayed, nothing answered
    # twice, and the next message is answered once
    bot.start()
    bot.wait_log(r"event=matrix_synced first=no")
    after = dora.send_text(room, "how can I prevent night leg cramps?")
    answered_once(dora, room, qs + [after], user.user_id, timeout=60)
    assert "already-answered" not in bot.log(), "the batch was replayed"
    assert bot.stop() == 0


def test_sigterm_past_the_deadline_loses_nothing(world):
    """A drain cut short by drain_timeout: exit 0 at once; the restarted
    bot answers the rest, and what was answered, not again."""
    s = world.synapse
    user = s.register("hastybot", displayname="Hasty Bot")  # not exempted
    erin = s.register("ermengarde", displayname="Ermengarde")
    world.unlimit(erin)
    bot = Bot(world.tmp, s, user, "hasty", allowed_inviters=[erin.user_id],
              top={"drain_timeout": 1})
    bot.start().wait_synced()
    room = world.dm(erin, bot)
    qs = [erin.send_text(room, f"how can I prevent night leg cramps? #{i}")
          for i in range(13)]
    bot.wait_log(r"event=matrix_rate_limited", 60)
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    assert bot.wait_exit(30) == 0
    assert time.monotonic() - started < 5
    assert "event=matrix_drain_left" in bot.log()
    bot.start()
    answered_once(erin, room, qs, user.user_id, timeout=120)
    assert bot.stop() == 0

"""Start-up errors an operator can act on, and no retry loop on a rejected
token."""
import http.server
import json
import os
import subprocess
import threading

from conftest import HEALTHBOT, SOURCE_ROOT, Bot


def test_rejected_token_stops_with_clear_error(world):
    bot = Bot(world.tmp, world.synapse, None, "badtoken", token="syt_not_a_real_token")
    bot.start()
    rc = bot.wait_exit(30)
    log = bot.log()
    assert rc == 78, log  # EX_CONFIG: RestartPreventExitStatus=78
    assert "M_UNKNOWN_TOKEN" in log and "access_token_file" in log
    assert "event=matrix_retry" not in log


def test_token_revoked_while_running(world):
    s = world.synapse
    user = s.register("shortlived")
    bot = Bot(world.tmp, s, user, "revoked")
    bot.start().wait_synced()
    user.call("POST", "/_matrix/client/v3/logout", {})
    rc = bot.wait_exit(60)
    assert rc == 78
    assert "M_UNKNOWN_TOKEN" in bot.log()


def run_with(tmp, matrix, name):
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    cfg = os.path.join(d, "config.json")
    with open(cfg, "w") as f:
        json.dump({"content_dir": os.path.join(SOURCE_ROOT, "content"),
                   "intents_dir": os.path.join(SOURCE_ROOT, "intents"),
                   "widget": {"enabled": False}, "matrix": matrix}, f)
    p = subprocess.run([HEALTHBOT, "run", "--config", cfg], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, p.stderr


def base_matrix(tmp, world):
    token = os.path.join(tmp, "some-token")
    with open(token, "w") as f:
        f.write(world.botuser.token + "\n")
    return {"homeserver": world.synapse.base, "allow_plain_http": True,
            "user_id": world.botuser.user_id, "access_token_file": token,
            "state_dir": os.path.join(tmp, "unused-state")}


def test_config_errors_name_the_key(world, tmp_path):
    tmp = str(tmp_path)
    m = base_matrix(tmp, world)
    rc, err = run_with(tmp, dict(m, access_token_file=os.path.join(tmp, "nope")), "a")
    assert rc != 0 and "access token file" in err and "nope" in err
    rc, err = run_with(tmp, {k: v for k, v in m.items() if k != "allow_plain_http"}, "b")
    assert rc != 0 and "matrix.homeserver" in err and "allow_plain_http" in err
    rc, err = run_with(tmp, dict(m, homeserver="matrix.example.org"), "c")
    assert rc != 0 and "matrix.homeserver" in err and "https://" in err
    rc, err = run_with(tmp, dict(m, user_id="healthbot"), "d")
    assert rc != 0 and "matrix.user_id" in err
    rc, err = run_with(tmp, dict(m, allowed_inviters=["alice"]), "e")
    assert rc != 0 and "matrix.allowed_inviters" in err
    rc, err = run_with(tmp, dict(m, tls_whatever=True), "f")
    assert rc != 0 and "matrix.tls_whatever" in err and "unknown key" in err
    rc, err = run_with(tmp, dict(m, device_id="NOTTHISDEVICE"), "g")
    assert rc != 0 and "device" in err


class NotMatrix(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>hello</html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_wrong_homeserver_url_is_reported(world, tmp_path):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotMatrix)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        tmp = str(tmp_path)
        m = base_matrix(tmp, world)
        m["homeserver"] = f"http://127.0.0.1:{srv.server_address[1]}"
        rc, err = run_with(tmp, m, "wrong")
        assert rc != 0
        assert "does not answer like a Matrix homeserver" in err
        assert "matrix.homeserver" in err
    finally:
        srv.shutdown()


def test_tls_with_custom_ca(world):
    """https with the homeserver's certificate verified against ca_file."""
    s, alice = world.synapse, world.alice
    user = s.register("tlsbot", displayname="TLS Bot")
    world.unlimit(user)
    bot = Bot(world.tmp, s, user, "tls", allowed_inviters=[alice.user_id],
              homeserver=f"https://localhost:{s.tls_port}",
              extra={"allow_plain_http": False, "ca_file": s.tls["ca.pem"]})
    bot.start().wait_synced()
    room = world.dm(alice, bot)
    q = alice.send_text(room, "what causes night leg cramps?")
    alice.wait_reply(room, q, user.user_id)
    assert bot.stop() == 0


def test_tls_refuses_unknown_ca_and_wrong_name(world):
    s = world.synapse
    user = s.register("tlsbad")
    for name, homeserver, extra in (
            ("tls-noca", f"https://localhost:{s.tls_port}", {}),
            ("tls-name", f"https://127.0.0.1:{s.tls_port}", {"ca_file": s.tls["ca.pem"]})):
        extra["allow_plain_http"] = False
        bot = Bot(world.tmp, s, user, name, homeserver=homeserver, extra=extra)
        bot.start().wait_log(r"TLS with the homeserver failed", 30)
        assert "event=matrix_login" not in bot.log()
        assert bot.proc.poll() is None  # keeps trying, with backoff
        assert bot.stop() == 0

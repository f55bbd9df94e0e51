"""A real Synapse on 127.0.0.1 and healthbot processes talking to it.

One homeserver serves the whole session (starting one costs seconds). It
keeps Synapse's default message rate limit (0.2/s, burst 10) so the 429
test is real; every other user, the main bot included, is exempted through
the admin API. Everything listens on and connects to 127.0.0.1 only, and
federation and key servers are off.
"""
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

HEALTHBOT = os.environ.get("HEALTHBOT")
SOURCE_ROOT = os.environ.get(
    "HB_SOURCE_ROOT",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SHARED_SECRET = "healthbot-test-" + uuid.uuid4().hex
SERVER = "localhost"
BOT_NAME = "Health Bot"

# Every bot started in the session and every text sent to one, for the log
# privacy check at the end.
ALL_BOTS = []
SENT_TEXTS = []


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Client:
    """A Matrix user, through plain client-server API calls."""

    def __init__(self, base, user_id, token, device_id=None):
        self.base = base
        self.user_id = user_id
        self.token = token
        self.device_id = device_id
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only, never a proxy

    def call(self, method, path, body=None, params=None, expect=(200,)):
        for attempt in range(50):
            try:
                r = self.http.request(
                    method, self.base + path, params=params,
                    json=body if body is not None else ({} if method in ("POST", "PUT") else None),
                    headers={"Authorization": "Bearer " + self.token}, timeout=30)
            except requests.ConnectionError:
                # a pooled connection to a Synapse that restarted
                if attempt > 3:
                    raise
                time.sleep(0.5)
                continue
            if r.status_code == 429:
                wait = r.json().get("retry_after_ms", 1000) / 1000.0
                time.sleep(min(wait, 10) + 0.05)
                continue
            if r.status_code not in expect:
                raise AssertionError(f"{method} {path} -> {r.status_code} {r.text[:300]}")
            return r.json() if r.content else {}
        raise AssertionError(f"{method} {path}: still rate limited")

    @staticmethod
    def q(s):
        return requests.utils.quote(s, safe="")

    def create_room(self, invite=(), direct=False, name=None):
        body = {"preset": "trusted_private_chat" if direct else "private_chat",
                "invite": list(invite), "is_direct": direct}
        if name:
            body["name"] = name
        return self.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"]

    def invite(self, room, user_id):
        self.call("POST", f"/_matrix/client/v3/rooms/{self.q(room)}/invite",
                  {"user_id": user_id})

    def join(self, room):
        self.call("POST", f"/_matrix/client/v3/join/{self.q(room)}", {})

    def send(self, room, content, event_type="m.room.message"):
        txn = uuid.uuid4().hex
        return self.call(
            "PUT", f"/_matrix/client/v3/rooms/{self.q(room)}/send/{event_type}/{txn}",
            content)["event_id"]

    def send_text(self, room, body, **extra):
        SENT_TEXTS.append(body)
        content = {"msgtype": "m.text", "body": body}
        content.update(extra)
        return self.send(room, content)

    def set_displayname(self, name):
        self.call("PUT", f"/_matrix/client/v3/profile/{self.q(self.user_id)}/displayname",
                  {"displayname": name})

    def membership(self, room, user_id):
        r = self.http.get(
            self.base + f"/_matrix/client/v3/rooms/{self.q(room)}/state/m.room.member/{self.q(user_id)}",
            headers={"Authorization": "Bearer " + self.token}, timeout=30)
        return r.json().get("membership") if r.status_code == 200 else None

    def events(self, room, limit=200):
        """The room's recent timeline, oldest first."""
        r = self.call("GET", f"/_matrix/client/v3/rooms/{self.q(room)}/messages",
                      params={"dir": "b", "limit": str(limit)})
        return list(reversed(r.get("chunk", [])))

    def replies(self, room, event_id, sender):
        out = []
        for ev in self.events(room):
            c = ev.get("content", {})
            rel = c.get("m.relates_to", {})
            if (ev.get("sender") == sender and ev.get("type") == "m.room.message"
                    and rel.get("m.in_reply_to", {}).get("event_id") == event_id):
                out.append(ev)
        return out

    def wait_reply(self, room, event_id, sender, timeout=30):
        return wait_until(lambda: self.replies(room, event_id, sender), timeout,
                          what="the bot's reply")[0]

    def messages_from(self, room, sender):
        return [ev for ev in self.events(room)
                if ev.get("sender") == sender and ev.get("type") == "m.room.message"]


def make_tls(workdir):
    """A test CA and a server certificate for the name "localhost" only (no
    IP address), so https://127.0.0.1 fails the host name check."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "healthbot test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(
              digital_signature=True, content_commitment=False, key_encipherment=False,
              data_encipherment=False, key_agreement=False, key_cert_sign=True,
              crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: os.path.join(workdir, n) for n in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    return paths


class Synapse:
    def __init__(self, workdir):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tls = make_tls(workdir)
        self.proc = None
        self.log = open(os.path.join(workdir, "synapse.out"), "ab")
        self.config = os.path.join(workdir, "homeserver.yaml")
        self.overlay = os.path.join(workdir, "overlay.yaml")
        subprocess.run(
            [sys.executable, "-m", "synapse.app.homeserver", "--server-name", SERVER,
             "--config-path", self.config, "--generate-config", "--report-stats=no",
             "--data-directory", workdir],
            check=True, cwd=workdir, stdout=self.log, stderr=self.log)
        high = {"per_second": 1000, "burst_count": 1000}
        overlay = {
            "listeners": [{
                "port": self.port, "bind_addresses": ["127.0.0.1"], "type": "http",
                "tls": False, "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }, {
                "port": self.tls_port, "bind_addresses": ["127.0.0.1"], "type": "http",
                "tls": True, "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }],
            "tls_certificate_path": self.tls["server.pem"],
            "tls_private_key_path": self.tls["server.key"],
            "registration_shared_secret": SHARED_SECRET,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "report_stats": False,
            "enable_metrics": False,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            # rc_message stays at Synapse's default: the 429 test needs it
            "rc_registration": high,
            "rc_login": {"address": high, "account": high, "failed_attempts": high},
            "rc_joins": {"local": high, "remote": high},
            "rc_invites": {"per_room": high, "per_user": high, "per_issuer": high},
            "rc_3pid_validation": high,
        }
        # JSON is YAML
        with open(self.overlay, "w") as f:
            json.dump(overlay, f, indent=1)

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver",
             "-c", self.config, "-c", self.overlay],
            cwd=self.dir, stdout=self.log, stderr=self.log)

        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError("Synapse exited; see " + self.log.name)
            try:
                return requests.get(self.base + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_until(healthy, 90, 0.3, "Synapse to start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def register(self, name, admin=False, displayname=None):
        password = "pw-" + uuid.uuid4().hex
        nonce = requests.get(self.base + "/_synapse/admin/v1/register",
                             timeout=10).json()["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        for part in (nonce, name, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        r = requests.post(self.base + "/_synapse/admin/v1/register", json={
            "nonce": nonce, "username": name, "password": password,
            "admin": admin, "mac": mac.hexdigest()}, timeout=30)
        assert r.status_code == 200, r.text
        d = r.json()
        c = Client(self.base, d["user_id"], d["access_token"], d.get("device_id"))
        c.password = password  # for clients that log in themselves (nio)
        if displayname:
            c.set_displayname(displayname)
        return c


class Bot:
    """A `healthbot run` process with its own config, token and state."""

    def __init__(self, tmp, synapse, client, name, allowed_inviters=(), extra=None,
                 token=None, homeserver=None, widget_port=None, top=None):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.client = client
        self.user_id = client.user_id if client else "@nobody:" + SERVER
        self.token_file = os.path.join(self.dir, "token")
        with open(self.token_file, "w") as f:
            f.write((token if token is not None else client.token) + "\n")
        matrix = {
            "homeserver": homeserver or synapse.base,
            "allow_plain_http": True,
            "user_id": self.user_id,
            "access_token_file": self.token_file,
            "state_dir": os.path.join(self.dir, "state"),
            "allowed_inviters": list(allowed_inviters),
        }
        if client and client.device_id:
            matrix["device_id"] = client.device_id
        matrix.update(extra or {})
        config = {
            "content_dir": os.path.join(SOURCE_ROOT, "content"),
            "intents_dir": os.path.join(SOURCE_ROOT, "intents"),
            "widget": ({"port": widget_port, "bind": "127.0.0.1"}
                       if widget_port else {"enabled": False}),
            "matrix": matrix,
        }
        config.update(top or {})
        self.config = os.path.join(self.dir, "config.json")
        self.write_config(config)
        self.logfile = os.path.join(self.dir, "healthbot.log")
        self.proc = None
        self.starts = []  # log offsets where each run began
        ALL_BOTS.append(self)

    def write_config(self, config):
        self.config_data = config
        with open(self.config, "w") as f:
            json.dump(config, f, indent=1)

    def start(self, env=None):
        offset = os.path.getsize(self.logfile) if os.path.exists(self.logfile) else 0
        self.starts.append(offset)
        log = open(self.logfile, "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([HEALTHBOT, "run", "--config", self.config],
                                     stdout=log, stderr=log, env=e,
                                     stdin=subprocess.DEVNULL)
        log.close()
        return self

    def log(self, since_start=True):
        with open(self.logfile, encoding="utf-8", errors="replace") as f:
            if since_start and self.starts:
                f.seek(self.starts[-1])
            return f.read()

    def wait_log(self, pattern, timeout=30):
        rx = re.compile(pattern)

        def found():
            if self.proc and self.proc.poll() is not None and not rx.search(self.log()):
                raise AssertionError(f"healthbot exited ({self.proc.returncode}):\n{self.log()}")
            return rx.search(self.log())
        return wait_until(found, timeout, 0.1, f"log line /{pattern}/")

    def wait_synced(self, timeout=30):
        """Started and past its first sync, so new messages are new."""
        self.wait_log(r"event=matrix_(sync first=yes|ready)", timeout)
        if "event=matrix_sync first=yes" not in self.log():
            # resumed from saved state: the long-poll is up once ready
            time.sleep(0.5)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def wait_exit(self, timeout=30):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("healthbot did not exit:\n" + self.log())


class World:
    """The session's homeserver, users and main bot."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.synapse = Synapse(os.path.join(tmp, "synapse"))

    def setup(self):
        s = self.synapse
        s.start()
        self.admin = s.register("admin", admin=True)
        self.botuser = s.register("healthbot", displayname=BOT_NAME)
        self.alice = s.register("alice", displayname="Alice")
        self.bob = s.register("bob", displayname="Bob")
        self.mallory = s.register("mallory", displayname="Mallory")
        self.otherbot = s.register("otherbot", displayname="Other Bot")
        for c in (self.botuser, self.alice, self.bob, self.mallory, self.otherbot):
            self.unlimit(c)
        # the main bot also serves the widget: it must stay responsive
        # while the homeserver is away
        self.widget_port = free_port()
        self.bot = Bot(self.tmp, s, self.botuser, "main",
                       allowed_inviters=[self.alice.user_id, self.bob.user_id,
                                         self.otherbot.user_id],
                       widget_port=self.widget_port)
        self.bot.start().wait_synced()

    def unlimit(self, client):
        self.admin.call("POST", "/_synapse/admin/v1/users/"
                        f"{Client.q(client.user_id)}/override_ratelimit",
                        {"messages_per_second": 0, "burst_count": 0})

    def dm(self, patient, bot=None):
        """A direct room between patient and the bot, joined by the bot."""
        bot = bot or self.bot
        room = patient.create_room(invite=[bot.user_id], direct=True)
        wait_until(lambda: patient.membership(room, bot.user_id) == "join", 30,
                   what="the bot to join")
        return room

    def teardown(self):
        for b in ALL_BOTS:
            b.stop()
        self.synapse.stop()


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    if not HEALTHBOT:
        pytest.skip("HEALTHBOT (path to the binary) is not set")
    w = World(str(tmp_path_factory.mktemp("matrix")))
    try:
        w.setup()
        yield w
    finally:
        w.teardown()

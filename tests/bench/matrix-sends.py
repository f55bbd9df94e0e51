"""The bot's own send capacity (a benchmark, not a test): how many replies a
second it gets out across many rooms when the homeserver answers every
request after a fixed delay and costs nothing else.

Against Synapse on this machine (tests/bench/matrix-e2e.py --throughput)
the homeserver's CPU sets the pace long before the bot's sending does, so
that run cannot show what send_connections buys. Here a stand-in on
127.0.0.1 plays the homeserver for the few endpoints the bot uses with
encryption off (whoami, displayname, filter, sync, send, receipt,
typing): its first sync after the bot's initial one hands over a backlog
of --per-room messages in each of --rooms direct rooms, and every request
is answered --latency milliseconds after it arrived, as a homeserver that
is busy elsewhere but not saturated would. The stand-in is an instrument,
not a homeserver: it checks nothing the bot sends beyond counting the
replies per room and checking their order (each reply's m.in_reply_to
must name the room's next unanswered message).

  python3 tests/bench/matrix-sends.py --healthbot build-bench/bot/healthbot \\
      [--latency 20,50] [--connections 1,4,8] [--rooms 20] [--per-room 50]

For each latency and connection count one bot is started on a fresh state
directory; replies/s is first to last reply accepted by the stand-in, with
the bot's CPU time per reply over that window.
"""
import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
USER = "@standin-bot:bench.invalid"
PATIENT = "@patient:bench.invalid"
QUESTIONS = ["what causes night leg cramps?", "how can I prevent night leg cramps?",
             "hello", "when should I see a doctor about leg cramps?",
             "is there a medicine for night leg cramps", "thanks"]

ap = argparse.ArgumentParser()
ap.add_argument("--healthbot", default=os.environ.get("HEALTHBOT", "build/bot/healthbot"))
ap.add_argument("--latency", type=lambda v: [float(x) for x in v.split(",")],
                default=[20.0, 50.0], help="ms before each answer; a list runs each")
ap.add_argument("--connections", type=lambda v: [int(x) for x in v.split(",")],
                default=[1, 4, 8], help="send_connections; a list runs each")
ap.add_argument("--rooms", type=int, default=20)
ap.add_argument("--per-room", type=int, default=50)
args = ap.parse_args()


class StandIn:
    """The homeserver stand-in: an asyncio HTTP/1.1 server (keep-alive,
    Content-Length bodies) in a thread of its own."""

    def __init__(self, latency_ms, rooms, per_room):
        self.latency = latency_ms / 1000.0
        self.rooms = [f"!room{i:03d}:bench.invalid" for i in range(rooms)]
        self.per_room = per_room
        self.syncs = 0
        self.sent = []             # monotonic time of each reply accepted
        self.next = {r: 0 for r in self.rooms}  # next message to answer
        self.out_of_order = 0
        self.unknown = set()
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._conn, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _shutdown(self):
        self.server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def event_id(self, room, k):
        return f"$m{room[5:8]}-{k:05d}"

    def backlog(self):
        rooms = {}
        for room in self.rooms:
            events = [{
                "type": "m.room.message", "sender": PATIENT,
                "event_id": self.event_id(room, k),
                "origin_server_ts": int(time.time() * 1000),
                "content": {"msgtype": "m.text",
                            "body": QUESTIONS[k % len(QUESTIONS)]},
            } for k in range(self.per_room)]
            rooms[room] = {"summary": {"m.joined_member_count": 2},
                           "timeline": {"events": events, "limited": False}}
        return rooms

    async def answer(self, method, path, body):
        """(status, JSON) for one request."""
        await asyncio.sleep(self.latency)
        p = path.split("?", 1)[0]
        if p.endswith("/account/whoami"):
            return 200, {"user_id": USER, "device_id": "STANDIN"}
        if "/profile/" in p:
            return 200, {"displayname": "Health Bot"}
        if p.endswith("/filter") and method == "POST":
            return 200, {"filter_id": "1"}
        if p.endswith("/sync"):
            self.syncs += 1
            if self.syncs == 1:  # the initial sync: history, not answered
                return 200, {"next_batch": "s1", "rooms": {"join": {
                    r: {"summary": {"m.joined_member_count": 2},
                        "timeline": {"events": []}} for r in self.rooms}}}
            if self.syncs == 2:
                return 200, {"next_batch": "s2", "rooms": {"join": self.backlog()}}
            await asyncio.sleep(1.0)  # a long-poll with nothing new
            return 200, {"next_batch": "s2"}
        if "/send/m.room.message/" in p and method == "PUT":
            room = p.split("/rooms/", 1)[1].split("/", 1)[0]
            room = urllib.parse.unquote(room)
            c = json.loads(body or b"{}")
            target = (c.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
            with self.lock:
                if room in self.next:
                    want = self.event_id(room, self.next[room])
                    if target != want:
                        self.out_of_order += 1
                    self.next[room] += 1
                self.sent.append(time.monotonic())
                n = len(self.sent)
            return 200, {"event_id": f"$reply{n}"}
        if "/receipt/" in p or "/typing/" in p:
            return 200, {}
        self.unknown.add(f"{method} {p}")
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "not in the stand-in"}

    async def _conn(self, reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = h.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                status, obj = await self.answer(method, target, body)
                data = json.dumps(obj).encode()
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % (
                                 status, b"OK" if status == 200 else b"Not Found",
                                 len(data)) + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError,
                asyncio.CancelledError):
            pass  # the bot went away, or the stand-in is shutting down
        finally:
            writer.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(latency, connections):
    hs = StandIn(latency, args.rooms, args.per_room)
    tmp = tempfile.mkdtemp(prefix="hb-matrix-sends-")
    total = args.rooms * args.per_room
    try:
        with open(os.path.join(tmp, "token"), "w") as f:
            f.write("standin-token\n")
        config = {
            "content_dir": os.path.join(ROOT, "content"),
            "intents_dir": os.path.join(ROOT, "intents"),
            "widget": {"enabled": False},
            "matrix": {
                "homeserver": f"http://127.0.0.1:{hs.port}",
                "allow_plain_http": True,
                "user_id": USER, "device_id": "STANDIN",
                "access_token_file": os.path.join(tmp, "token"),
                "state_dir": os.path.join(tmp, "state"),
                "encryption": False,
                "send_connections": connections,
            },
        }
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config, f)
        log = open(os.path.join(tmp, "healthbot.log"), "wb")
        bot = subprocess.Popen([os.path.abspath(args.healthbot), "run", "--config",
                                os.path.join(tmp, "config.json")],
                               stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        cpu0 = None
        while len(hs.sent) < total:
            if bot.poll() is not None:
                raise SystemExit("healthbot exited; see " + log.name)
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(hs.sent)} of {total} replies in 300 s; "
                                 f"unknown requests: {sorted(hs.unknown)}")
            if cpu0 is None and hs.sent:
                cpu0 = cpu_seconds(bot.pid)
            time.sleep(0.01)
        cpu = cpu_seconds(bot.pid) - (cpu0 or 0)
        bot.send_signal(signal.SIGTERM)
        bot.wait(20)
        span = hs.sent[-1] - hs.sent[0]
        line = (f"| {latency:g} ms | {connections} | {(total - 1) / span:.0f} | "
                f"{args.rooms} rooms x {args.per_room}, {span:.2f} s | "
                f"{1000 * cpu / total:.2f} ms ({100 * cpu / span:.0f} % of a core) | "
                f"{hs.out_of_order} |")
        print(line, flush=True)
        if hs.unknown:
            print("  requests the stand-in did not know:", sorted(hs.unknown))
        return line
    finally:
        hs.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    print("| answer delay | send_connections | replies/s | backlog, first to last "
          "reply | the bot's CPU a reply | replies out of room order |")
    print("| --- | --- | --- | --- | --- | --- |")
    for latency in args.latency:
        for n in args.connections:
            run(latency, n)
    print("load average " + " ".join("%.2f" % x for x in os.getloadavg()))


if __name__ == "__main__":
    sys.exit(main())

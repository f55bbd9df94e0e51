'use strict';
/*
 * Shared parts of the widget load test (load-widget.test.js) and the widget
 * end-to-end benchmark (tests/bench/widget-e2e.js): the server with raised
 * limits, realistic scripted conversations and their reference answers,
 * many connections with in-order checking, latency statistics, RSS/CPU from
 * /proc. Loopback only.
 */
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = process.env.HB_SOURCE_ROOT || path.resolve(__dirname, '..', '..');
let WebSocket;
try {
	WebSocket = require('ws');
} catch (e) {
	WebSocket = require(path.join(ROOT, 'tests', 'widget', 'node_modules', 'ws'));
}
const HEALTHBOT = process.env.HEALTHBOT ||
	path.join(ROOT, 'build', 'bot', 'healthbot');
const DATA_ARGS = ['--content', path.join(ROOT, 'content'),
	'--intents', path.join(ROOT, 'intents'),
	/* synthetic articles, so that follow-ups have more than one topic */
	'--extra-content', path.join(ROOT, 'tests', 'fixtures', 'content')];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

/* Soft and hard RLIMIT_NOFILE of this process ("unlimited" as Infinity). */
function fdLimits() {
	const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n')
		.find((l) => l.startsWith('Max open files'));
	const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/)
		.map((v) => (v === 'unlimited' ? Infinity : Number(v)));
	return { soft, hard };
}

function procStatus(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (key) => Number((status.match(new RegExp(key + ':\\s+(\\d+)')) ||
		[])[1]);
	return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/* user + system CPU seconds of a process */
function cpuOf(pid) {
	const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(f[11]) + Number(f[12])) / 100; /* USER_HZ */
}

function fdsOf(pid) {
	try {
		return fs.readdirSync(`/proc/${pid}/fd`).length;
	} catch (e) {
		return NaN;
	}
}

/*
 * Starts `healthbot serve` on a free loopback port with a config that lets
 * `connections` clients in and takes their traffic (the per-connection rate
 * limit is for people typing; a load test measures the server). The child
 * gets an fd soft limit big enough for the connections (raised up to the
 * hard limit; `needFds` says how many). Resolves once it listens.
 */
async function startServer({ connections, widget = {}, logLevel = 'warn',
	logFile = null, healthbot = HEALTHBOT } = {}) {
	const port = await freePort();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-load-'));
	const config = path.join(dir, 'config.json');
	fs.writeFileSync(config, JSON.stringify({ log_level: logLevel, widget: {
		max_connections: connections + 50, rate_burst: 10000,
		rate_per_minute: 1000000,
		/* every client is on 127.0.0.1: one source to the bot */
		max_connections_per_source: connections + 50,
		source_rate_burst: 10000000, source_rate_per_minute: 10000000,
		...widget } }));
	const needFds = connections + 200;
	const lim = fdLimits();
	if (lim.hard < needFds)
		return { skip: `fd hard limit ${lim.hard} < ${needFds} needed` };
	const args = ['serve', '--port', String(port), '--config', config, ...DATA_ARGS];
	/* node raises its own soft limit to the hard one at start-up and its
	 * children inherit that; raise it explicitly in case it did not */
	const raised = lim.soft < needFds;
	const child = raised ?
		spawn('/bin/sh', ['-c', `ulimit -n ${Math.min(lim.hard, 65536)} && ` +
			'exec "$0" "$@"', healthbot, ...args],
			{ stdio: ['ignore', 'pipe', 'pipe'] }) :
		spawn(healthbot, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	const log = logFile ? fs.createWriteStream(logFile) : null;
	const srv = { child, port, dir, err: '', exited: null,
		url: `ws://127.0.0.1:${port}/chat`, origin: `http://127.0.0.1:${port}`,
		fdSoftLimit: raised ? Math.min(lim.hard, 65536) : lim.soft };
	child.stderr.on('data', (d) => {
		srv.err = (srv.err + d).slice(-20000);
		if (log)
			log.write(d);
	});
	const exited = new Promise((r) => child.on('exit', (code, signal) => {
		srv.exited = { code, signal };
		if (log)
			log.end();
		r(srv.exited);
	}));
	srv.stop = async () => {
		if (!srv.exited)
			child.kill('SIGTERM');
		const res = await Promise.race([exited, sleep(15000).then(() => null)]);
		if (!res) {
			child.kill('SIGKILL');
			await exited;
		}
		fs.rmSync(dir, { recursive: true, force: true });
		return srv.exited;
	};
	srv.status = () => procStatus(child.pid);
	srv.cpu = () => cpuOf(child.pid);
	srv.fds = () => fdsOf(child.pid);
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('healthbot not ready: ' +
			srv.err)), 30000);
		let out = '';
		child.stdout.on('data', (d) => {
			out += d;
			if (/chat widget at http/.test(out)) {
				clearTimeout(timer);
				resolve();
			}
		});
		exited.then((e) => {
			clearTimeout(timer);
			reject(new Error(`healthbot exited ${e.code}/${e.signal}: ${srv.err}`));
		});
	});
	return srv;
}

/* A small seeded PRNG (mulberry32), so scripts are the same every run. */
function prng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6D2B79F5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/* Messages as patients type them, from the utterance set, by kind. */
function utterances() {
	const byKind = { answer: [], escalation: [], fallback: [], smalltalk: [] };
	const file = path.join(ROOT, 'tests', 'utterances.tsv');
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		if (!line || line.startsWith('#'))
			continue;
		const [kind, , text] = line.split('\t');
		if (byKind[kind] && text)
			byKind[kind].push(text);
	}
	return byKind;
}

/* Topic openers and follow-ups that only make sense with the previous
 * question's topic (two synthetic fixture articles besides the real one). */
const OPENERS = ['what causes night leg cramps?', 'what causes alpha syndrome?',
	'tell me about beta condition', 'my calves cramp up at night',
	'what is alpha syndrome'];
const FOLLOW_UPS = ['how do I prevent them?', 'what causes it?',
	'when should I see a doctor?', 'how is it treated?', 'and prevention?'];

/*
 * `count` deterministic scripts of `length` messages: mostly questions the
 * library answers, some small talk, questions it cannot answer and
 * emergencies, and topic openers each followed by 1-3 follow-ups.
 */
function makeScripts(count, length) {
	const u = utterances();
	const scripts = [];
	for (let s = 0; s < count; s++) {
		const rnd = prng(0x5eed + s);
		const pick = (a) => a[Math.floor(rnd() * a.length)];
		const msgs = [];
		while (msgs.length < length) {
			const x = rnd();
			if (x < 0.25) {
				msgs.push(pick(OPENERS));
				const n = 1 + Math.floor(rnd() * 3);
				for (let i = 0; i < n; i++)
					msgs.push(pick(FOLLOW_UPS));
			} else if (x < 0.75) {
				msgs.push(pick(u.answer));
			} else if (x < 0.85) {
				msgs.push(pick(u.smalltalk));
			} else if (x < 0.92) {
				msgs.push(pick(u.fallback));
			} else {
				msgs.push(pick(u.escalation));
			}
		}
		scripts.push(msgs.slice(0, length));
	}
	return scripts;
}

/* What a reply must be: the same as on an idle server, one at a time. */
function replyKey(f) {
	return f.type === 'reply' ? `${f.kind}|${f.severity}|` +
		crypto.createHash('sha1').update(f.text || '').digest('base64') :
		`${f.type}|${f.code || ''}`;
}

function describe(f) {
	return f.type === 'reply' ? `${f.kind}/${f.severity} ` +
		JSON.stringify((f.text || '').slice(0, 60)) :
		`${f.type} ${f.code || ''} ${f.message || ''}`;
}

/* One connection, messages one at a time: the reference answers. */
async function referenceAnswers(srv, scripts) {
	const out = [];
	for (const script of scripts) {
		const ws = new WebSocket(srv.url, { origin: srv.origin,
			perMessageDeflate: false });
		const frames = [];
		let wake = null;
		ws.on('message', (d) => {
			frames.push(JSON.parse(d.toString()));
			if (wake)
				wake();
		});
		await new Promise((res, rej) => {
			ws.on('open', res);
			ws.on('error', rej);
		});
		const keys = [], texts = [];
		for (let i = 0; i < script.length; i++) {
			ws.send(JSON.stringify({ type: 'message', id: 'r' + i, text: script[i] }));
			const end = Date.now() + 20000;
			for (;;) {
				const k = frames.findIndex((f) => (f.type === 'reply' ||
					f.type === 'error') && f.in_reply_to === 'r' + i);
				if (k >= 0) {
					keys.push(replyKey(frames[k]));
					texts.push(describe(frames[k]));
					frames.length = 0;
					break;
				}
				if (Date.now() > end)
					throw new Error('reference run: no reply to ' + script[i]);
				await new Promise((r) => {
					wake = r;
					setTimeout(r, 100);
				});
			}
		}
		ws.close();
		out.push({ keys, texts });
	}
	return out;
}

/*
 * Opens n connections (in batches, so the listen backlog is not the test),
 * each with a handler for its frames. Every connection's frames are checked
 * against its script's reference as they arrive: replies in order, typing
 * before each reply, the reference answer, no error frames.
 */
async function openConnections(srv, n, { scripts, reference, batch = 100,
	onReply = () => {} }) {
	const conns = [];
	const stats = { errors: [], closes: 0, replies: 0, typing: 0,
		mismatches: [], greetings: 0 };
	const failOnce = (list, what) => {
		if (list.length < 20)
			list.push(what);
		else
			list.length++;
	};
	for (let start = 0; start < n; start += batch) {
		const opened = [];
		for (let i = start; i < Math.min(n, start + batch); i++) {
			opened.push(new Promise((resolve, reject) => {
				const ws = new WebSocket(srv.url, { origin: srv.origin,
					perMessageDeflate: false, handshakeTimeout: 60000 });
				const c = { i, ws, script: scripts[i % scripts.length],
					ref: reference ? reference[i % scripts.length] : null,
					sent: 0, answered: 0, sentAt: [], typingFor: -1,
					closed: false };
				ws.on('message', (data) => {
					const t = nowMs();
					let f;
					try {
						f = JSON.parse(data.toString());
					} catch (e) {
						failOnce(stats.errors, `conn ${c.i}: unparsable frame`);
						return;
					}
					if (f.type === 'greeting') {
						stats.greetings++;
						return;
					}
					if (f.type === 'typing') {
						stats.typing++;
						c.typingFor = f.in_reply_to;
						return;
					}
					if (f.type === 'error') {
						failOnce(stats.errors, `conn ${c.i}: ${f.code} ` +
							`(in_reply_to ${f.in_reply_to})`);
						return;
					}
					if (f.type !== 'reply')
						return;
					const k = c.answered;
					const want = `c${c.i}m${k}`;
					if (f.in_reply_to !== want) {
						failOnce(stats.mismatches, `conn ${c.i}: reply to ` +
							`${f.in_reply_to}, expected ${want} (out of order)`);
					} else if (c.typingFor !== want) {
						failOnce(stats.mismatches, `conn ${c.i}: no typing ` +
							`frame before the reply to ${want}`);
					} else if (c.ref && replyKey(f) !== c.ref.keys[k % c.ref.keys.length]) {
						failOnce(stats.mismatches, `conn ${c.i} message ${k} ` +
							`${JSON.stringify(c.script[k % c.script.length])}: got ` +
							`${describe(f)}, alone it was ` +
							`${c.ref.texts[k % c.ref.texts.length]}`);
					}
					c.answered++;
					stats.replies++;
					onReply(c, k, t - c.sentAt[k], t);
				});
				ws.on('close', (code) => {
					c.closed = true;
					if (!c.expectClose) {
						stats.closes++;
						failOnce(stats.errors, `conn ${c.i}: closed ${code}`);
					}
				});
				ws.on('open', () => resolve(c));
				ws.on('error', (e) => {
					failOnce(stats.errors, `conn ${c.i}: ${e.message}`);
					reject(e);
				});
			}));
		}
		conns.push(...await Promise.all(opened));
	}
	return { conns, stats };
}

/* Sends connection c's next message; returns its index. */
function sendNext(c) {
	const k = c.sent++;
	c.sentAt[k] = nowMs();
	c.ws.send(JSON.stringify({ type: 'message', id: `c${c.i}m${k}`,
		text: c.script[k % c.script.length] }));
	return k;
}

async function closeAll(conns) {
	for (const c of conns) {
		c.expectClose = true;
		c.ws.terminate();
	}
}

function percentile(sorted, p) {
	if (!sorted.length)
		return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function summary(values) {
	const s = Float64Array.from(values).sort();
	return { n: s.length, p50: percentile(s, 0.5), p90: percentile(s, 0.9),
		p99: percentile(s, 0.99), max: s.length ? s[s.length - 1] : NaN };
}

function fmtMs(x) {
	return Number.isFinite(x) ? x.toFixed(2) + ' ms' : 'n/a';
}

/* How late node's own event loop runs timers: part of every latency the
 * client measures. Call stop() for the max lag seen. */
function loopLag(everyMs = 20) {
	let worst = 0, last = nowMs();
	const t = setInterval(() => {
		const n = nowMs();
		worst = Math.max(worst, n - last - everyMs);
		last = n;
	}, everyMs);
	return { stop: () => {
		clearInterval(t);
		return worst;
	} };
}

module.exports = { WebSocket, ROOT, HEALTHBOT, DATA_ARGS, sleep, nowMs,
	freePort, fdLimits, procStatus, cpuOf, startServer, makeScripts,
	referenceAnswers, openConnections, sendNext, closeAll, summary,
	percentile, fmtMs, loopLag, replyKey };

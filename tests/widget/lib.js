'use strict';
/*
 * Helpers for the widget and relay tests: a tiny TAP runner, the healthbot
 * process, free loopback ports and a promise-based websocket client.
 * Everything listens on and connects to 127.0.0.1 only.
 */
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
let WebSocket;
try {
	WebSocket = require('ws');
} catch (e) {
	console.log('Bail out! node modules missing: run `npm ci` in tests/widget ' +
		'(meson does it into the build dir), or set NODE_PATH');
	process.exit(1);
}

const ROOT = process.env.HB_SOURCE_ROOT || path.resolve(__dirname, '..', '..');
const HEALTHBOT = process.env.HEALTHBOT ||
	path.join(ROOT, 'build', 'bot', 'healthbot');
const ARTEFACTS = process.env.HB_ARTEFACTS ||
	path.join(ROOT, 'build', 'test-artefacts', 'widget');
const DATA_ARGS = ['--content', path.join(ROOT, 'content'),
	'--intents', path.join(ROOT, 'intents')];
/* synthetic second and third articles, to tell conversations apart */
const FIXTURE_ARGS = ['--extra-content',
	path.join(ROOT, 'tests', 'fixtures', 'content')];

fs.mkdirSync(ARTEFACTS, { recursive: true });

const tests = [];
function test(name, fn) {
	tests.push({ name, fn });
}
/* A known defect: TAP "# TODO", so a fix shows up as an unexpected pass. */
test.todo = (name, why, fn) => tests.push({ name, fn, todo: why });

async function run() {
	let passed = 0, failed = 0;
	console.log('TAP version 13');
	console.log('1..' + tests.length);
	for (let i = 0; i < tests.length; i++) {
		const t = tests[i];
		const started = Date.now();
		try {
			const result = await t.fn();
			passed++;
			/* a test may return { skip: 'why' } when the machine cannot run it */
			if (result && result.skip)
				console.log(`ok ${i + 1} - ${t.name} # SKIP ${result.skip}`);
			else if (t.todo)
				console.log(`ok ${i + 1} - ${t.name} # TODO ${t.todo}`);
			else
				console.log(`ok ${i + 1} - ${t.name} # ${Date.now() - started} ms`);
		} catch (e) {
			if (t.todo) {
				console.log(`not ok ${i + 1} - ${t.name} # TODO ${t.todo}`);
				console.log('# ' + String(e && e.message || e).split('\n')[0]);
				passed++;
				continue;
			}
			failed++;
			console.log(`not ok ${i + 1} - ${t.name}`);
			for (const line of String(e && e.stack || e).split('\n'))
				console.log('# ' + line);
		}
	}
	await cleanup();
	console.log(`# ${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

const live = new Set(); /* processes and sockets to end on the way out */
async function cleanup() {
	for (const item of [...live]) {
		try {
			await item.stop();
		} catch (e) {
			/* already gone */
		}
	}
}
process.on('uncaughtException', (e) => {
	console.log('not ok - uncaught exception');
	console.log('# ' + String(e && e.stack || e).split('\n').join('\n# '));
	cleanup().finally(() => process.exit(1));
});

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(what, fn, timeoutMs = 10000, everyMs = 50) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what);
		await sleep(everyMs);
	}
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const port = s.address().port;
			s.close(() => resolve(port));
		});
	});
}

function tmpdir() {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'hb-widget-'));
}

function writeConfig(dir, obj) {
	const file = path.join(dir, 'config-' + Math.random().toString(36).slice(2) +
		'.json');
	fs.writeFileSync(file, JSON.stringify(obj, null, 2));
	return file;
}

/*
 * Starts healthbot with args; resolves once `ready` (a regexp) shows up on
 * stdout or stderr. stop() sends SIGTERM and resolves with the exit code.
 */
function startBot(args, { ready = /chat widget at http/, name = 'bot',
	timeoutMs = 15000 } = {}) {
	const child = spawn(HEALTHBOT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	const logFile = path.join(ARTEFACTS, name + '.log');
	const logStream = fs.createWriteStream(logFile);
	const bot = { child, out: '', err: '', exited: null };
	let exitResolve;
	const exited = new Promise((r) => { exitResolve = r; });
	child.stdout.on('data', (d) => { bot.out += d; logStream.write(d); });
	child.stderr.on('data', (d) => { bot.err += d; logStream.write(d); });
	child.on('exit', (code, signal) => {
		bot.exited = { code, signal };
		live.delete(bot);
		logStream.end();
		exitResolve(bot.exited);
	});
	bot.stop = async (signal = 'SIGTERM') => {
		if (!bot.exited)
			child.kill(signal);
		const result = await Promise.race([exited, sleep(10000).then(() => null)]);
		if (!result) {
			child.kill('SIGKILL');
			return exited;
		}
		return result;
	};
	bot.ready = new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(name + ' not ready: ' +
			bot.err.slice(-2000))), timeoutMs);
		const check = () => {
			if (ready.test(bot.out) || ready.test(bot.err)) {
				clearTimeout(timer);
				resolve(bot);
			}
		};
		child.stdout.on('data', check);
		child.stderr.on('data', check);
		exited.then((e) => {
			clearTimeout(timer);
			reject(new Error(`${name} exited (${e.code}/${e.signal}): ` +
				bot.err.slice(-2000)));
		});
	});
	live.add(bot);
	return bot;
}

/* Runs healthbot to completion; resolves {code, out, err}. */
function runBot(args) {
	return new Promise((resolve) => {
		const child = spawn(HEALTHBOT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '', err = '';
		child.stdout.on('data', (d) => { out += d; });
		child.stderr.on('data', (d) => { err += d; });
		child.on('exit', (code) => resolve({ code, out, err }));
	});
}

/*
 * A websocket client whose frames can be awaited in order:
 * `await c.next(f => f.type === 'reply')` skips non-matching frames.
 */
function connect(url, { origin, headers, localAddress, protocols } = {}) {
	return new Promise((resolve, reject) => {
		/* localAddress: any 127.0.0.0/8 address, to be another client */
		const opts = { origin, headers, localAddress };
		const ws = protocols ? new WebSocket(url, protocols, opts) :
			new WebSocket(url, opts);
		const c = { ws, frames: [], waiters: [], closed: null };
		ws.on('message', (data, isBinary) => {
			let f;
			try {
				f = JSON.parse(data.toString());
			} catch (e) {
				f = { type: '(unparsable)', raw: data.toString(), isBinary };
			}
			c.frames.push(f);
			pump(c);
		});
		ws.on('close', (code, reason) => {
			c.closed = { code, reason: reason.toString() };
			pump(c);
		});
		ws.on('open', () => resolve(c));
		ws.on('unexpected-response', (req, res) => {
			const e = new Error('refused with HTTP ' + res.statusCode);
			e.status = res.statusCode;
			e.reason = res.headers['x-healthbot-refused'];
			reject(e);
		});
		ws.on('error', (e) => reject(e));
		c.send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
		c.sendRaw = (buf, binary) => ws.send(buf, { binary });
		c.close = () => ws.close();
		c.next = (pred = () => true, timeoutMs = 5000) => new Promise((res, rej) => {
			const w = { pred, res, rej };
			w.timer = setTimeout(() => {
				c.waiters.splice(c.waiters.indexOf(w), 1);
				rej(new Error('no matching frame within ' + timeoutMs + ' ms; got ' +
					JSON.stringify(c.frames).slice(0, 500) +
					(c.closed ? ' closed ' + JSON.stringify(c.closed) : '')));
			}, timeoutMs);
			c.waiters.push(w);
			pump(c);
		});
		c.reply = (timeoutMs) => c.next((f) => f.type === 'reply' ||
			f.type === 'error', timeoutMs);
		c.ask = (id, text, timeoutMs) => {
			c.send({ type: 'message', id, text });
			return c.next((f) => (f.type === 'reply' || f.type === 'error') &&
				f.in_reply_to === id, timeoutMs);
		};
	});
}

/*
 * A page of an origin the bot does not serve: admitted, then closed at
 * once with 4403 "origin" (a browser cannot read a refused handshake's
 * status). Sends a message at once; resolves { code, reason, frames }.
 */
async function originRefused(url, opts) {
	const c = await connect(url, opts);
	c.send({ type: 'message', id: 'x', text: 'what causes night leg cramps?' });
	await waitFor('the close', () => c.closed, 5000);
	await sleep(100);
	return { code: c.closed.code, reason: c.closed.reason, frames: c.frames };
}

/* Asserts what originRefused() resolved: 4403, and not a frame. */
function assertOriginRefused(r, what) {
	assert.deepStrictEqual(r, { code: 4403, reason: 'origin', frames: [] }, what);
}

function pump(c) {
	for (let i = 0; i < c.waiters.length; i++) {
		const w = c.waiters[i];
		const idx = c.frames.findIndex(w.pred);
		if (idx >= 0) {
			const [f] = c.frames.splice(idx, 1);
			clearTimeout(w.timer);
			c.waiters.splice(i--, 1);
			w.res(f);
		} else if (c.closed) {
			clearTimeout(w.timer);
			c.waiters.splice(i--, 1);
			w.rej(new Error('connection closed ' + JSON.stringify(c.closed) +
				' before a matching frame; got ' +
				JSON.stringify(c.frames).slice(0, 300)));
		}
	}
}

module.exports = { assert, test, run, sleep, waitFor, freePort, tmpdir,
	writeConfig, startBot, runBot, connect, originRefused, assertOriginRefused,
	live, ROOT, HEALTHBOT, ARTEFACTS,
	DATA_ARGS, FIXTURE_ARGS };

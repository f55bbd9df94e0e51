'use strict';
/*
 * The relay client (`healthbot run` with a "relay" section) against the
 * test relay in relay.js and against hand-driven ws servers, on 127.0.0.1
 * only: authentication, conversations, reconnecting, undelivered replies,
 * TLS verification and config checks.
 */
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { WebSocketServer } = require('ws');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, runBot, connect, DATA_ARGS, FIXTURE_ARGS } = require('./lib');
const { startRelay } = require('./relay');

const CRAMPS = 'what causes night leg cramps?';
const TOKEN = 'relay-test-token-' + Math.random().toString(36).slice(2);
const dir = tmpdir();
const tokenFile = path.join(dir, 'token');
fs.writeFileSync(tokenFile, TOKEN + '\n');

function botConfig(url, extra = {}) {
	return writeConfig(dir, { widget: { enabled: false },
		relay: Object.assign({ url, token_file: tokenFile }, extra) });
}

function startRelayBot(url, extra, name) {
	return startBot(['run', '--config', botConfig(url, extra), ...DATA_ARGS,
		...FIXTURE_ARGS], { ready: /event=relay_start/, name });
}

let relayPort, relay, bot;

test('the bot dials out with the token in an Authorization header', async () => {
	relayPort = await freePort();
	relay = await startRelay({ port: relayPort, token: TOKEN });
	bot = startRelayBot(`ws://127.0.0.1:${relayPort}/bot`, {}, 'relay-main');
	await bot.ready;
	await waitFor('bot connected', () => relay.botConnected());
	const up = relay.events.find((e) => e.type === 'bot-upgrade');
	assert.strictEqual(up.authorized, true);
	assert.strictEqual(up.query, '', 'nothing in the URL');
	assert.ok(!bot.err.includes(TOKEN) && !bot.out.includes(TOKEN), 'token not logged');
});

test('conversations through the relay keep their own context', async () => {
	const origin = `http://127.0.0.1:${relayPort}`;
	const url = `ws://127.0.0.1:${relayPort}/chat`;
	const N = 30;
	const clients = await Promise.all(Array.from({ length: N },
		() => connect(url, { origin })));
	for (const c of clients)
		assert.strictEqual((await c.next()).type, 'greeting');
	const first = [CRAMPS, 'what causes alpha syndrome?', 'hello'];
	await Promise.all(clients.map((c, i) => c.ask('a' + i, first[i % 3])));
	const follow = await Promise.all(clients.map((c, i) =>
		c.ask('b' + i, 'how do I prevent them?')));
	follow.forEach((r, i) => {
		const want = ['Night leg cramps', 'Alpha syndrome', undefined][i % 3];
		assert.strictEqual(r.source ? r.source.title : undefined, want, 'conv ' + i);
	});
	const e = await clients[0].ask('e', "my chest hurts and I can't breathe");
	assert.strictEqual(e.kind, 'escalation');
	/* every frame from the bot named its conversation */
	const fromBot = relay.events.filter((x) => x.type === 'from-bot');
	assert.ok(fromBot.length >= N * 5);
	assert.ok(fromBot.every((x) => /^c\d+$/.test(x.frame.conversation)));
	clients.forEach((c) => c.close());
});

test('bad frames from the relay get error frames naming the conversation', async () => {
	const origin = `http://127.0.0.1:${relayPort}`;
	const c = await connect(`ws://127.0.0.1:${relayPort}/chat`, { origin });
	await c.next();
	/* long text is the engine's to answer ("too long"); only frames over
	 * relay.max_message_bytes are refused, and those cannot be routed */
	c.send({ type: 'message', id: 'long', text: 'x'.repeat(9000) });
	const long = await c.next((f) => f.type === 'reply' && f.in_reply_to === 'long');
	assert.strictEqual(long.type, 'reply');
	assert.strictEqual(long.kind, 'fallback');
	relay.sendToBot({ type: 'message', conversation: 'c-big', id: 'huge',
		text: 'x'.repeat(70000) });
	await waitFor('too_large for a huge frame', () => relay.events.some((x) =>
		x.type === 'from-bot' && x.frame.code === 'too_large'));
	c.send({ type: 'bogus', id: 'b1' });
	const u = await c.next((f) => f.type === 'error');
	assert.strictEqual(u.code, 'unknown_type');
	assert.strictEqual(u.in_reply_to, 'b1');
	relay.sendToBot({ type: 'message', id: 'noconv', text: CRAMPS });
	await waitFor('bad_request for a frame without conversation', () =>
		relay.events.some((x) => x.type === 'from-bot' &&
			x.frame.code === 'bad_request' && x.frame.in_reply_to === 'noconv'));
	const r = await c.ask('ok', CRAMPS);
	assert.strictEqual(r.kind, 'answer');
	c.close();
});

test('the bot reconnects after a relay restart', async () => {
	await relay.close();
	await sleep(1500);
	relay = await startRelay({ port: relayPort, token: TOKEN });
	await waitFor('bot reconnected', () => relay.botConnected(), 20000);
	const c = await connect(`ws://127.0.0.1:${relayPort}/chat`,
		{ origin: `http://127.0.0.1:${relayPort}` });
	await c.next();
	const r = await c.ask('after', CRAMPS);
	assert.strictEqual(r.kind, 'answer');
	c.close();
	assert.match(bot.err, /event=relay_connected connects=2/);
});

test('a wrong token is refused and retried with growing backoff', async () => {
	const p = await freePort();
	const other = await startRelay({ port: p, token: 'not-' + TOKEN });
	const b = startRelayBot(`ws://127.0.0.1:${p}/bot`, {}, 'relay-badtoken');
	await b.ready;
	await waitFor('four attempts', () =>
		other.events.filter((e) => e.type === 'bot-upgrade').length >= 4, 20000);
	const at = other.events.filter((e) => e.type === 'bot-upgrade').map((e) => e.at);
	assert.ok(other.events.every((e) => e.type !== 'bot-upgrade' || !e.authorized));
	const gaps = at.slice(1).map((t, i) => t - at[i]);
	/* drawn from 500-1000, 1000-2000, 2000-4000 ms */
	assert.ok(gaps[2] > gaps[0], 'backoff grows: ' + gaps.join(', '));
	assert.ok(gaps[0] >= 400, 'no hot loop: ' + gaps.join(', '));
	assert.match(b.err, /event=relay_connection_error status=401/);
	assert.strictEqual((await b.stop()).code, 0);
	await other.close();
});

test('replies queued when the connection drops are reported as undelivered', async () => {
	const p = await freePort();
	const wss = new WebSocketServer({ host: '127.0.0.1', port: p,
		handleProtocols: () => 'healthbot-relay.v1' });
	await new Promise((r) => wss.once('listening', r));
	const b = startRelayBot(`ws://127.0.0.1:${p}/bot`, {}, 'relay-undelivered');
	const first = await new Promise((r) => wss.once('connection', r));
	/* stop reading, so the bot's replies back up, and flood it */
	first._socket.pause();
	const sent = new Set();
	for (let i = 0; i < 20000; i++) {
		const conversation = 'u' + (i % 200);
		sent.add(conversation + '/m' + i);
		first.send(JSON.stringify({ type: 'message', conversation, id: 'm' + i,
			text: CRAMPS }));
	}
	await sleep(1500);
	first.terminate();
	const second = await new Promise((r) => wss.once('connection', r));
	const frames = [];
	second.on('message', (d) => frames.push(JSON.parse(d)));
	await waitFor('undelivered reports', () =>
		frames.some((f) => f.type === 'undelivered'), 10000);
	await sleep(300);
	const lost = frames.filter((f) => f.type === 'undelivered');
	assert.ok(lost.length >= 1);
	for (const f of lost)
		assert.ok(sent.has(f.conversation + '/' + f.in_reply_to),
			'names a message that was sent: ' + JSON.stringify(f));
	assert.match(b.err, /event=relay_undelivered replies=\d+/);
	assert.strictEqual((await b.stop()).code, 0);
	second.terminate();
	await new Promise((r) => wss.close(r));
});

test('TLS: verified against ca_file; refused without it', async () => {
	const tls = path.join(dir, 'tls');
	fs.mkdirSync(tls);
	const ssl = (...args) => execFileSync('openssl', args, { cwd: tls, stdio: 'pipe' });
	ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
		'-subj', '/CN=healthbot test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
	ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
		'-keyout', 'server.key', '-out', 'server.csr');
	fs.writeFileSync(path.join(tls, 'ext.cnf'),
		'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
	ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
		'-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem');
	const p = await freePort();
	const secure = await startRelay({ port: p, token: TOKEN,
		cert: path.join(tls, 'server.pem'), key: path.join(tls, 'server.key') });
	const url = `wss://localhost:${p}/bot`;
	const untrusting = startRelayBot(url, {}, 'relay-tls-untrusted');
	await untrusting.ready;
	await sleep(2500);
	assert.ok(!secure.events.some((e) => e.type === 'bot-upgrade'),
		'no upgrade without a trusted certificate');
	assert.match(untrusting.err, /event=relay_connection_error/);
	assert.strictEqual((await untrusting.stop()).code, 0);
	const trusting = startRelayBot(url, { ca_file: path.join(tls, 'ca.pem') },
		'relay-tls');
	await trusting.ready;
	await waitFor('TLS connection', () => secure.botConnected(), 10000);
	secure.sendToBot({ type: 'open', conversation: 'tls1' });
	await waitFor('greeting over TLS', () => secure.events.some((e) =>
		e.type === 'from-bot' && e.frame.type === 'greeting' &&
		e.frame.conversation === 'tls1'));
	assert.strictEqual((await trusting.stop()).code, 0);
	await secure.close();
});

test('the widget stays responsive in the same process while the relay is down', async () => {
	const closed = await freePort(); /* nothing listens here */
	const wport = await freePort();
	const b = startBot(['run', '--config', writeConfig(dir, {
		widget: { port: wport },
		relay: { url: `ws://localhost:${closed}/bot`, token_file: tokenFile },
	}), ...DATA_ARGS], { name: 'relay-and-widget' });
	await b.ready;
	const c = await connect(`ws://127.0.0.1:${wport}/chat`,
		{ origin: `http://127.0.0.1:${wport}` });
	await c.next();
	const times = [];
	for (let i = 0; i < 8; i++) {
		const t0 = Date.now();
		const r = await c.ask('w' + i, CRAMPS);
		assert.strictEqual(r.kind, 'answer');
		times.push(Date.now() - t0);
		await sleep(250);
	}
	assert.ok(Math.max(...times) < 500, 'answer times ' + times.join(', '));
	/* the name was looked up off the loop, and the dials kept failing */
	await waitFor('retries', () =>
		(b.err.match(/event=relay_connection_error/g) || []).length >= 2, 10000);
	c.close();
	assert.strictEqual((await b.stop()).code, 0);
});

test('config errors name the key path', async () => {
	const cases = [
		[{ relay: { url: 'ws://127.0.0.1:1/bot', token_file: tokenFile, bogus: 1 } },
			/relay\.bogus: unknown key/],
		[{ relay: { url: 5, token_file: tokenFile } }, /relay\.url: must be/],
		[{ relay: { url: 'http://127.0.0.1/bot', token_file: tokenFile } },
			/relay\.url: must start with ws:\/\/ or wss:\/\//],
		[{ relay: { url: 'ws://127.0.0.1:1/bot' } }, /relay\.token_file: is required/],
		[{ widget: { port: 'x' } }, /widget\.port: must be a whole number/],
		[{ widget: { allowed_origins: 'http://a' } }, /widget\.allowed_origins: must be a list/],
		[{ widget: { colour: 'blue' } }, /widget\.colour: unknown key/],
	];
	for (const [cfg, want] of cases) {
		const r = await runBot(['run', '--config', writeConfig(dir, cfg), ...DATA_ARGS]);
		assert.notStrictEqual(r.code, 0, JSON.stringify(cfg));
		assert.match(r.err, want);
	}
});

test('SIGTERM stops the relay client cleanly', async () => {
	assert.strictEqual((await bot.stop()).code, 0);
	await relay.close();
});

run();

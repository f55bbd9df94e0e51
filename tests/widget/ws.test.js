'use strict';
/*
 * Websocket- and HTTP-level tests of `healthbot serve` with node's ws
 * client, on 127.0.0.1 only: conversations, bad input, origins, limits.
 */
const fs = require('fs');
const http = require('http');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, runBot, connect, originRefused, assertOriginRefused, DATA_ARGS,
	FIXTURE_ARGS } = require('./lib');

const CRAMPS = 'what causes night leg cramps?';
const CHEST = "my chest hurts and I can't breathe";
let port, origin, url, bot;
const dir = tmpdir();

function get(path, headers = {}) {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode,
				headers: res.headers, body }));
		}).on('error', reject);
	});
}

async function serve(extraConfig, name) {
	const p = await freePort();
	const args = ['serve', '--port', String(p), ...DATA_ARGS, ...FIXTURE_ARGS];
	if (extraConfig)
		args.push('--config', writeConfig(dir, { widget: extraConfig }));
	const b = startBot(args, { name });
	await b.ready;
	return { bot: b, port: p, url: `ws://127.0.0.1:${p}/chat`,
		origin: `http://127.0.0.1:${p}` };
}

test('start healthbot serve', async () => {
	({ bot, port, url, origin } = await serve(null, 'ws-main'));
	assert.match(bot.out, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
});

/* Local addresses of the sockets listening on port, from /proc/net. */
function listeners(port) {
	const hex = port.toString(16).toUpperCase().padStart(4, '0');
	const found = [];
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
			const f = line.trim().split(/\s+/);
			if (f.length > 3 && f[3] === '0A' && f[1].endsWith(':' + hex))
				found.push(f[1].split(':')[0]);
		}
	}
	return found;
}

test('listens on 127.0.0.1 only by default; --bind takes addresses of this machine', async () => {
	assert.deepStrictEqual(listeners(port), ['0100007F']);
	const r = await runBot(['serve', '--bind', '10.255.255.1', '--port', '0',
		...DATA_ARGS]);
	assert.notStrictEqual(r.code, 0);
	assert.match(r.err, /not an IP address of this machine/);
	const named = await runBot(['serve', '--bind', 'localhost', ...DATA_ARGS]);
	assert.notStrictEqual(named.code, 0);
});

test('IPv6: --bind ::1 serves on [::1]', async () => {
	const p = await freePort();
	const b = startBot(['serve', '--bind', '::1', '--port', String(p), ...DATA_ARGS],
		{ name: 'ws-ipv6' });
	try {
		await b.ready;
	} catch (e) {
		if (/not an IP address of this machine/.test(b.err))
			return { skip: 'no ::1 on this machine' };
		throw e;
	}
	assert.deepStrictEqual(listeners(p), ['00000000000000000000000001000000']);
	const c = await connect(`ws://[::1]:${p}/chat`, { origin: `http://[::1]:${p}` });
	assert.strictEqual((await c.next()).type, 'greeting');
	c.close();
	assert.strictEqual((await b.stop()).code, 0);
});

test('HTTP: demo page, assets, /healthz and security headers', async () => {
	const page = await get('/');
	assert.strictEqual(page.status, 200);
	assert.match(page.headers['content-type'], /^text\/html/);
	assert.match(page.body, /<script src="\/healthbot-widget\.js" defer><\/script>/);
	/* external script only: no inline <script> blocks on the demo page */
	assert.doesNotMatch(page.body, /<script>|<script(?![^>]*\bsrc=)[^>]*>/);
	const csp = page.headers['content-security-policy'];
	assert.match(csp, /script-src 'self'/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
	assert.strictEqual(page.headers['x-content-type-options'], 'nosniff');
	assert.strictEqual(page.headers['set-cookie'], undefined);
	const js = await get('/healthbot-widget.js');
	assert.strictEqual(js.status, 200);
	assert.match(js.headers['content-type'], /^text\/javascript/);
	assert.strictEqual(js.headers['cross-origin-resource-policy'], 'cross-origin');
	/* no third-party requests: the script names no other host */
	assert.doesNotMatch(js.body.replace(/^\s*\*.*$/gm, ''), /https?:\/\/(?!BOT-HOST)/);
	const css = await get('/healthbot-widget.css');
	assert.strictEqual(css.status, 200);
	assert.match(css.headers['content-type'], /^text\/css/);
	const again = await get('/healthbot-widget.js', { 'if-none-match': js.headers.etag });
	assert.strictEqual(again.status, 304);
	const health = await get('/healthz');
	assert.strictEqual(health.status, 200);
	assert.strictEqual(health.body, 'ok\n');
	assert.strictEqual((await get('/nope')).status, 404);
});

test('greeting on connect says what the bot can help with', async () => {
	const c = await connect(url, { origin });
	const g = await c.next();
	assert.strictEqual(g.type, 'greeting');
	assert.ok(g.text.length > 20, 'greeting text');
	assert.ok(g.html.length > 20, 'greeting html');
	// the numbers the page makes tel: links of: the configured ones (here
	// the defaults), not digit runs it has to guess from text
	assert.deepStrictEqual(g.numbers, { emergency: '911', crisis: '988' });
	c.close();
});

test('an answer with its source, a typing frame first, an escalation', async () => {
	const c = await connect(url, { origin });
	await c.next((f) => f.type === 'greeting');
	c.send({ type: 'message', id: 'q1', text: CRAMPS });
	const typing = await c.next();
	assert.deepStrictEqual(typing, { type: 'typing', in_reply_to: 'q1' });
	const r = await c.next();
	assert.strictEqual(r.type, 'reply');
	assert.strictEqual(r.in_reply_to, 'q1');
	assert.strictEqual(r.kind, 'answer');
	assert.match(r.text, /Causes/);
	assert.match(r.html, /<p/);
	assert.strictEqual(r.source.title, 'Night leg cramps');
	assert.ok(r.source.publisher && r.source.updated, 'source publisher and date');
	const e = await c.ask('q2', CHEST);
	assert.strictEqual(e.kind, 'escalation');
	assert.strictEqual(e.severity, 'emergency');
	c.close();
});

test('many concurrent conversations keep their own context', async () => {
	const N = 60;
	/* sixty patients: sixty addresses (one source may hold 20) */
	const clients = await Promise.all(Array.from({ length: N },
		(_, i) => connect(url, { origin, localAddress: '127.0.1.' + (i + 1) })));
	/* three kinds of conversation, interleaved: the follow-up question
	 * only makes sense with each connection's own previous question */
	const first = ['what causes night leg cramps?', 'what causes alpha syndrome?',
		'hello'];
	await Promise.all(clients.map((c, i) => c.ask('a' + i, first[i % 3])));
	const follow = await Promise.all(clients.map((c, i) =>
		c.ask('b' + i, 'how do I prevent them?')));
	follow.forEach((r, i) => {
		if (i % 3 === 0) {
			assert.strictEqual(r.kind, 'answer', 'conn ' + i);
			assert.strictEqual(r.source && r.source.title, 'Night leg cramps', 'conn ' + i);
		} else if (i % 3 === 1) {
			assert.strictEqual(r.source && r.source.title, 'Alpha syndrome', 'conn ' + i);
		} else {
			assert.strictEqual(r.kind, 'fallback', 'conn ' + i + ' has no topic yet');
		}
	});
	clients.forEach((c) => c.close());
});

test('bad input gets error frames and the connection survives', async () => {
	const c = await connect(url, { origin });
	await c.next((f) => f.type === 'greeting');
	const expectError = async (code) => {
		const f = await c.next((x) => x.type === 'error');
		assert.strictEqual(f.code, code);
		assert.ok(f.message, 'a readable message');
		return f;
	};
	c.send(JSON.stringify({ type: 'message', id: 'big', text: 'x'.repeat(5000) }));
	await expectError('too_large');
	c.send('{"type": "message", "text": ');
	await expectError('invalid_json');
	c.sendRaw(Buffer.from('{"type":"message","id":"u","text":"caf\xc3\x28"}', 'latin1'),
		false);
	await expectError('invalid_utf8');
	c.send({ type: 'subscribe', id: 'x1' });
	const unknown = await expectError('unknown_type');
	assert.strictEqual(unknown.in_reply_to, 'x1');
	c.sendRaw(Buffer.from([1, 2, 3]), true);
	await expectError('binary_unsupported');
	c.send({ type: 'message', id: 'n1' });
	await expectError('bad_request');
	assert.strictEqual(c.closed, null, 'still open');
	const r = await c.ask('good', CRAMPS);
	assert.strictEqual(r.type, 'reply');
	assert.strictEqual(r.kind, 'answer');
	c.close();
});

test('a message split over many fragments is reassembled', async () => {
	const c = await connect(url, { origin });
	const text = JSON.stringify({ type: 'message', id: 'frag', text: CRAMPS });
	const sock = c.ws;
	for (let i = 0; i < text.length; i += 7)
		sock.send(text.slice(i, i + 7), { fin: i + 7 >= text.length });
	const r = await c.next((f) => f.type === 'reply');
	assert.strictEqual(r.in_reply_to, 'frag');
	c.close();
});

test('a wrong Origin (closed 4403), no Origin and a wrong path are refused', async () => {
	assertOriginRefused(await originRefused(url, { origin: 'http://evil.example' }),
		'evil.example');
	assertOriginRefused(await originRefused(url,
		{ origin: `http://127.0.0.1:${port + 1}` }), 'another port');
	/* not a browser: the status says it */
	await assert.rejects(connect(url), (e) => e.status === 403 &&
		e.reason === 'origin');
	await assert.rejects(connect(`ws://127.0.0.1:${port}/other`, { origin }),
		(e) => e.status === 404);
	/* the demo page's own origin by its other name works too */
	const c = await connect(`ws://localhost:${port}/chat`,
		{ origin: `http://localhost:${port}` }).catch(() => null);
	if (c)
		c.close();
});

test('the server keeps answering others while one client misbehaves', async () => {
	const bad = await connect(url, { origin, localAddress: '127.0.2.1' });
	/* another patient: the flood empties only its own source's bucket */
	const good = await connect(url, { origin, localAddress: '127.0.2.2' });
	let stop = false;
	const flood = (async () => {
		while (!stop && !bad.closed) {
			bad.send('{not json');
			bad.sendRaw(Buffer.alloc(6000, 0x41), false);
			bad.sendRaw(Buffer.from([0xff, 0xfe, 0xfd]), false);
			await sleep(1);
		}
	})();
	const times = [];
	/* within the default burst of 10, so only the flood is rate limited */
	for (let i = 0; i < 8; i++) {
		await sleep(50);
		const t0 = Date.now();
		const r = await good.ask('g' + i, i % 2 ? CRAMPS : 'how do I prevent them?');
		assert.strictEqual(r.type, 'reply');
		times.push(Date.now() - t0);
	}
	stop = true;
	await flood;
	times.sort((a, b) => a - b);
	assert.ok(times[times.length - 1] < 1000, 'slowest answer ' + times.slice(-1) + ' ms');
	/* the flood was slowed down, not served */
	assert.ok(bad.frames.some((f) => f.code === 'rate_limited'), 'rate limited');
	good.close();
	bad.close();
});

test('rate limit: "slow down" errors after the burst, no disconnect', async () => {
	const s = await serve({ rate_burst: 5, rate_per_minute: 120 }, 'ws-rate');
	const c = await connect(s.url, { origin: s.origin });
	for (let i = 0; i < 12; i++)
		c.send({ type: 'message', id: 'r' + i, text: CRAMPS });
	const results = [];
	for (let i = 0; i < 12; i++)
		results.push(await c.next((f) => f.type === 'reply' || f.type === 'error'));
	const answered = results.filter((f) => f.type === 'reply').length;
	const limited = results.filter((f) => f.code === 'rate_limited');
	assert.ok(answered >= 5 && answered <= 6, 'answered ' + answered);
	assert.strictEqual(limited.length, 12 - answered);
	assert.match(limited[0].message, /slow down/i);
	assert.ok(limited.every((f) => /^r\d+$/.test(f.in_reply_to)), 'names the message');
	assert.strictEqual(c.closed, null);
	await sleep(600); /* 2 per second come back */
	const r = await c.ask('later', CRAMPS);
	assert.strictEqual(r.type, 'reply');
	c.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('a client that keeps sending after "slow down" is closed with 1008', async () => {
	const s = await serve({ rate_burst: 1, rate_per_minute: 1 }, 'ws-abuse');
	const c = await connect(s.url, { origin: s.origin });
	for (let i = 0; i < 80; i++)
		c.send({ type: 'message', id: 'x' + i, text: CRAMPS });
	await waitFor('policy close', () => c.closed, 5000);
	assert.strictEqual(c.closed.code, 1008);
	const limited = c.frames.filter((f) => f.code === 'rate_limited').length;
	assert.ok(limited >= 50, 'was told to slow down first: ' + limited);
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('a client that does not read is not read either; others are served', async () => {
	const s = await serve({ rate_burst: 10000, rate_per_minute: 1000000,
		source_rate_burst: 10000000, source_rate_per_minute: 10000000 }, 'ws-backpressure');
	const greedy = await connect(s.url, { origin: s.origin });
	greedy.ws._socket.pause(); /* never reads its replies */
	for (let i = 0; i < 20000; i++)
		greedy.send({ type: 'message', id: 'g' + i, text: CRAMPS });
	await sleep(1000);
	const other = await connect(s.url, { origin: s.origin });
	await other.next();
	const t0 = Date.now();
	const r = await other.ask('o1', CRAMPS);
	assert.strictEqual(r.kind, 'answer');
	assert.ok(Date.now() - t0 < 1000, 'answered in ' + (Date.now() - t0) + ' ms');
	const status = fs.readFileSync(`/proc/${s.bot.child.pid}/status`, 'utf8');
	const rssMb = Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
	/* the replies wait in the socket buffers, not in the bot's memory
	 * (under ASan, RSS is mostly its shadow memory and quarantine) */
	if (!process.env.ASAN_OPTIONS)
		assert.ok(rssMb < 60, 'RSS ' + rssMb.toFixed(1) + ' MB');
	greedy.ws.terminate();
	other.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('idle timeout closes with code 4000; max connections refuses with 503', async () => {
	const s = await serve({ idle_timeout: 1, max_connections: 2 }, 'ws-limits');
	const a = await connect(s.url, { origin: s.origin });
	const b = await connect(s.url, { origin: s.origin });
	await assert.rejects(connect(s.url, { origin: s.origin }),
		(e) => e.status === 503 && e.reason === 'busy');
	await waitFor('idle close', () => a.closed && b.closed, 5000);
	assert.strictEqual(a.closed.code, 4000);
	assert.strictEqual(a.closed.reason, 'idle');
	const c = await connect(s.url, { origin: s.origin });
	c.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('allowed_origins admits a portal; same_origin false refuses the page', async () => {
	const s = await serve({ allowed_origins: ['https://portal.example'],
		same_origin: false }, 'ws-origins');
	const c = await connect(s.url, { origin: 'https://portal.example' });
	assert.strictEqual((await c.next()).type, 'greeting');
	c.close();
	assertOriginRefused(await originRefused(s.url, { origin: s.origin }), 'own');
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('logs carry no message text', async () => {
	assert.doesNotMatch(bot.err, /leg cramps|chest hurts|alpha syndrome/i);
	assert.match(bot.err, /event=widget_open/);
});

test('SIGTERM shuts down cleanly with open connections', async () => {
	const c = await connect(url, { origin });
	await c.next();
	const exit = await bot.stop();
	assert.strictEqual(exit.code, 0, 'exit ' + JSON.stringify(exit) + bot.err.slice(-1500));
	await waitFor('client sees the close', () => c.closed, 3000);
});

run();

'use strict';
/*
 * Per-client fairness of `healthbot serve` (issue 11): one source address
 * cannot take every slot or every answer, reconnecting does not refill its
 * message budget, a full server closes its quietest connection before it
 * refuses a patient, and a proxy's forwarding headers count only when the
 * proxy is trusted. Clients bind other loopback addresses (127.0.0.0/8 on
 * Linux) to be other sources; all traffic stays on loopback.
 */
const http = require('http');
const net = require('net');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, runBot, connect, DATA_ARGS } = require('./lib');

const CRAMPS = 'what causes night leg cramps?';
const dir = tmpdir();

async function serve(widget, name) {
	const port = await freePort();
	const bot = startBot(['serve', '--port', String(port), '--config',
		writeConfig(dir, { widget }), ...DATA_ARGS], { name });
	await bot.ready;
	return { bot, port, url: `ws://127.0.0.1:${port}/chat`,
		origin: `http://127.0.0.1:${port}` };
}

/* Opens a websocket; resolves the client or { status, reason } if refused. */
function attempt(s, localAddress, headers) {
	return connect(s.url, { origin: s.origin, localAddress, headers })
		.catch((e) => ({ status: e.status, reason: e.reason, error: e.message }));
}

test('one source holding its cap of connections and flooding does not stop a fresh client', async () => {
	const s = await serve({}, 'fair-flood');
	/* 200 attempts from one address: the default cap is 20 */
	const tries = await Promise.all(Array.from({ length: 200 },
		() => attempt(s, '127.0.0.2')));
	const open = tries.filter((t) => t.ws);
	const refused = tries.filter((t) => !t.ws);
	assert.strictEqual(open.length, 20, 'open ' + open.length);
	assert.ok(refused.every((t) => t.status === 503 && t.reason === 'source_busy'),
		JSON.stringify(refused.find((t) => t.reason !== 'source_busy')));
	/* the hostile source floods every connection it holds */
	let stop = false;
	const flood = (async () => {
		while (!stop) {
			for (const c of open) {
				if (!c.closed)
					c.send({ type: 'message', id: 'f', text: CRAMPS });
			}
			await sleep(2);
		}
	})();
	await sleep(300);
	const t0 = Date.now();
	const fresh = await connect(s.url, { origin: s.origin,
		localAddress: '127.0.0.3' });
	assert.strictEqual((await fresh.next()).type, 'greeting');
	for (let i = 0; i < 5; i++) {
		const r = await fresh.ask('q' + i, CRAMPS, 3000);
		assert.strictEqual(r.type, 'reply', JSON.stringify(r));
		assert.strictEqual(r.kind, 'answer');
	}
	const took = Date.now() - t0;
	stop = true;
	await flood;
	assert.ok(took < 3000, 'the fresh client took ' + took + ' ms');
	/* the flood was slowed to the source's rate, across its connections */
	const answered = open.reduce((n, c) =>
		n + c.frames.filter((f) => f.type === 'reply').length, 0);
	const limited = open.reduce((n, c) =>
		n + c.frames.filter((f) => f.code === 'rate_limited').length, 0);
	assert.ok(answered <= 30 + 10, 'the flood got ' + answered + ' answers');
	assert.ok(limited > 0, 'rate limited');
	/* 180 refusals, logged once; no message text in the log */
	const logged = (s.bot.err.match(/event=widget_refused/g) || []).length;
	assert.strictEqual(logged, 1, 'refusals logged ' + logged + ' times');
	assert.doesNotMatch(s.bot.err, /127\.0\.0\.2|leg cramps/);
	open.forEach((c) => c.ws.terminate());
	fresh.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('sockets that never send a request are cut short; others get in', async () => {
	const s = await serve({}, 'fair-silent');
	const socks = await Promise.all(Array.from({ length: 100 }, () =>
		new Promise((resolve, reject) => {
			const k = net.connect({ host: '127.0.0.1', port: s.port,
				localAddress: '127.0.0.12' }, () => resolve(k));
			k.closedByServer = false;
			k.answer = '';
			k.on('data', (d) => { k.answer += d; });
			k.on('close', () => { k.closedByServer = true; });
			k.on('error', () => {});
			k.once('error', reject);
		})));
	/* 20 heads in progress per address; the rest get 503 at once */
	await waitFor('80 closed', () => socks.filter((k) => k.closedByServer).length >= 80,
		3000);
	assert.strictEqual(socks.filter((k) => !k.closedByServer).length, 20);
	assert.ok(socks.filter((k) => k.closedByServer).every((k) =>
		/^HTTP\/1\.1 503 .*x-healthbot-refused: source_busy/s.test(k.answer)));
	const fresh = await connect(s.url, { origin: s.origin,
		localAddress: '127.0.0.13' });
	assert.strictEqual((await fresh.ask('s1', CRAMPS)).kind, 'answer');
	fresh.close();
	assert.strictEqual((s.bot.err.match(/event=widget_refused/g) || []).length, 1);
	socks.forEach((k) => k.destroy());
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('reconnecting from the same source does not refill its budget', async () => {
	const s = await serve({ rate_burst: 100, rate_per_minute: 6000,
		source_rate_burst: 5, source_rate_per_minute: 60 }, 'fair-reconnect');
	const t0 = Date.now();
	let answered = 0, limited = 0;
	for (let i = 0; i < 10; i++) {
		const c = await connect(s.url, { origin: s.origin,
			localAddress: '127.0.0.4' });
		for (let j = 0; j < 3; j++) {
			const r = await c.ask(`r${i}.${j}`, CRAMPS);
			if (r.type === 'reply')
				answered++;
			else if (r.code === 'rate_limited')
				limited++;
		}
		c.close();
		await waitFor('close', () => c.closed, 2000);
	}
	const seconds = (Date.now() - t0) / 1000;
	/* 5 at once, then 1 a second: not 30 */
	assert.ok(answered <= 5 + Math.ceil(seconds) + 1,
		`${answered} answers in ${seconds.toFixed(1)} s`);
	assert.strictEqual(answered + limited, 30);
	/* another source still has its whole budget */
	const other = await connect(s.url, { origin: s.origin,
		localAddress: '127.0.0.5' });
	for (let j = 0; j < 5; j++)
		assert.strictEqual((await other.ask('o' + j, CRAMPS)).type, 'reply');
	other.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('a full server closes its quietest connection (4000 idle) before refusing', async () => {
	const s = await serve({ max_connections: 3, evict_idle_after: 1 },
		'fair-evict');
	const a = await connect(s.url, { origin: s.origin, localAddress: '127.0.0.6' });
	await sleep(50);
	const b = await connect(s.url, { origin: s.origin, localAddress: '127.0.0.7' });
	const c = await connect(s.url, { origin: s.origin, localAddress: '127.0.0.8' });
	/* not idle long enough yet: refused */
	const early = await attempt(s, '127.0.0.9');
	assert.strictEqual(early.status, 503);
	assert.strictEqual(early.reason, 'busy');
	/* c keeps talking; a and b go quiet */
	const talk = setInterval(() => c.send({ type: 'message', id: 't', text: 'hello' }),
		300);
	await sleep(1300);
	const d = await connect(s.url, { origin: s.origin, localAddress: '127.0.0.9' });
	await waitFor('a closed', () => a.closed, 3000);
	assert.deepStrictEqual(a.closed, { code: 4000, reason: 'idle' });
	assert.strictEqual(b.closed, null, 'b was quiet for less time than a');
	const e = await connect(s.url, { origin: s.origin, localAddress: '127.0.0.10' });
	await waitFor('b closed', () => b.closed, 3000);
	assert.deepStrictEqual(b.closed, { code: 4000, reason: 'idle' });
	/* c talks, d and e are new: nobody to close */
	const f = await attempt(s, '127.0.0.11');
	assert.strictEqual(f.status, 503);
	assert.strictEqual(c.closed, null);
	clearInterval(talk);
	assert.strictEqual((await d.next()).type, 'greeting');
	[c, d, e].forEach((x) => x.close());
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('X-Forwarded-For and Forwarded count only from a trusted proxy', async () => {
	const s = await serve({ trusted_proxies: ['127.0.0.20'],
		max_connections_per_source: 2 }, 'fair-proxy');
	const xff = (v) => ({ 'x-forwarded-for': v });
	/* through the proxy: each patient is a source of its own */
	const p1 = await Promise.all([1, 2].map(() =>
		attempt(s, '127.0.0.20', xff('203.0.113.7'))));
	assert.ok(p1.every((t) => t.ws), JSON.stringify(p1.map((t) => t.status)));
	const third = await attempt(s, '127.0.0.20', xff('203.0.113.7'));
	assert.strictEqual(third.reason, 'source_busy');
	/* the right-most hop that is not a trusted proxy is the client */
	const spoofed = await attempt(s, '127.0.0.20', xff('203.0.113.7, 198.51.100.1'));
	assert.ok(spoofed.ws, 'a second patient behind the proxy: ' + spoofed.status);
	const hop = await attempt(s, '127.0.0.20', xff('198.51.100.2, 127.0.0.20'));
	assert.ok(hop.ws, 'proxy hops are skipped');
	const fwd = await Promise.all([1, 2, 3].map(() => attempt(s, '127.0.0.20',
		{ forwarded: 'for="[2001:db8::1]:4711";proto=https' })));
	/* which of the three is refused depends on arrival order */
	assert.deepStrictEqual(fwd.map((t) => t.ws ? 'open' : t.reason).sort(),
		['open', 'open', 'source_busy']);
	/* from anyone else the headers are ignored: the peer is the source */
	const direct = await Promise.all(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map(
		(ip) => attempt(s, '127.0.0.21', xff(ip))));
	assert.deepStrictEqual(direct.map((t) => t.ws ? 'open' : t.reason).sort(),
		['open', 'open', 'source_busy']);
	for (const t of [...p1, spoofed, hop, ...fwd, ...direct]) {
		if (t.ws)
			t.ws.terminate();
	}
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('the new keys are checked', async () => {
	for (const [widget, re] of [
		[{ trusted_proxies: ['proxy.example'] }, /trusted_proxies\[0\]/],
		[{ max_connections_per_source: 0 }, /max_connections_per_source/],
		[{ source_rate_per_minute: 'x' }, /source_rate_per_minute/],
		[{ evict_idle_after: -1 }, /evict_idle_after/],
	]) {
		const r = await runBot(['serve', '--port', '0', '--config',
			writeConfig(dir, { widget }), ...DATA_ARGS]);
		assert.notStrictEqual(r.code, 0);
		assert.match(r.err, re);
	}
	/* and /healthz still answers plain HTTP clients */
	const s = await serve({}, 'fair-http');
	const status = await new Promise((resolve, reject) => http.get(
		{ host: '127.0.0.1', port: s.port, path: '/healthz' },
		(res) => { res.resume(); resolve(res.statusCode); }).on('error', reject));
	assert.strictEqual(status, 200);
	assert.strictEqual((await s.bot.stop()).code, 0);
});

run();

'use strict';
/*
 * Running it in production, through the widget and the relay, on
 * 127.0.0.1 only: /readyz and /metrics (on the widget's port and on a
 * metrics listener), logs without words, ids or conversation names (and
 * with text only under log_text), SIGHUP reloads that keep the running
 * version when a file is broken and take effect on an open websocket when
 * it is good, and SIGTERM/SIGINT drains that deliver what is queued.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');
const { WebSocketServer } = require('ws');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, connect, ROOT, DATA_ARGS, FIXTURE_ARGS } = require('./lib');

const CRAMPS = 'what causes night leg cramps?';
const CHEST = "my chest hurts and I can't breathe";
/* Messages for the privacy checks: names nobody would log by chance */
const RED = 'my neighbour Wilhelmina Quagmire collapsed and is not breathing';
const QUESTION = 'Bartholomew Zanzibar asks: what causes night leg cramps?';
const dir = tmpdir();

function get(port, p, headers = {}) {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port, path: p, headers }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode,
				headers: res.headers, body }));
		}).on('error', reject);
	});
}

/* The value of one series in Prometheus text, or undefined. */
function metric(text, name, labels = {}) {
	for (const line of text.split('\n')) {
		const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
		if (!m || m[1] !== name)
			continue;
		const have = {};
		for (const l of (m[2] || '').match(/[a-z_]+="(?:[^"\\]|\\.)*"/g) || []) {
			const eq = l.indexOf('=');
			have[l.slice(0, eq)] = JSON.parse(l.slice(eq + 1));
		}
		if (Object.keys(labels).every((k) => have[k] === labels[k]) &&
				Object.keys(have).length === Object.keys(labels).length)
			return Number(m[3]);
	}
	return undefined;
}

function assertPrometheusText(text) {
	const lines = text.split('\n');
	assert.strictEqual(lines.pop(), '', 'ends with a newline');
	for (const line of lines) {
		assert.match(line, /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{([a-z_]+="(?:[^"\\\n]|\\.)*",?)+\})? (-?[0-9.e+]+|\+Inf|NaN))$/,
			'exposition line: ' + line);
	}
}

/* Every word of the messages a person sent, and every pair of words in a
 * row: none may be in a log. (Single common words such as "causes" are
 * also intent ids, so only the unusual ones are checked alone.) */
function assertNoText(log, messages, names) {
	for (const name of names)
		assert.ok(!log.toLowerCase().includes(name.toLowerCase()),
			'the log names ' + name);
	for (const msg of messages) {
		assert.ok(!log.includes(msg), 'the log holds a message');
		const words = msg.toLowerCase().match(/[a-z']+/g);
		for (let i = 0; i + 1 < words.length; i++) {
			const pair = words[i] + ' ' + words[i + 1];
			assert.ok(!log.toLowerCase().includes(pair),
				'the log holds the words "' + pair + '"');
		}
	}
}

async function serve(args, name, config) {
	const port = await freePort();
	const all = ['serve', '--port', String(port), ...args];
	if (config)
		all.push('--config', writeConfig(dir, config));
	const bot = startBot(all, { name });
	await bot.ready;
	return { bot, port, url: `ws://127.0.0.1:${port}/chat`,
		origin: `http://127.0.0.1:${port}` };
}

let main;

test('/readyz, /healthz and /metrics on the widget port count the answers', async () => {
	main = await serve([...DATA_ARGS, ...FIXTURE_ARGS], 'ops-main');
	const ready = await get(main.port, '/readyz');
	assert.strictEqual(ready.status, 200);
	assert.strictEqual(ready.body, 'ready\n');
	assert.strictEqual((await get(main.port, '/healthz')).status, 200);
	const c = await connect(main.url, { origin: main.origin });
	await c.next();
	assert.strictEqual((await c.ask('a', CRAMPS)).kind, 'answer');
	assert.strictEqual((await c.ask('e', CHEST)).kind, 'escalation');
	assert.strictEqual((await c.ask('f', 'xyzzy plugh frobnicate')).kind, 'fallback');
	assert.strictEqual((await c.ask('s', 'hello')).kind, 'smalltalk');
	const m = await get(main.port, '/metrics');
	assert.strictEqual(m.status, 200);
	assert.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/);
	assertPrometheusText(m.body);
	for (const kind of ['answer', 'escalation', 'fallback', 'smalltalk'])
		assert.strictEqual(metric(m.body, 'healthbot_messages_total',
			{ channel: 'widget', kind }), 1, kind);
	assert.strictEqual(metric(m.body, 'healthbot_escalations_total',
		{ channel: 'widget', category: 'chest-pain', severity: 'emergency' }), 1);
	assert.strictEqual(metric(m.body, 'healthbot_answers_total',
		{ intent: 'causes' }), 1);
	assert.strictEqual(metric(m.body, 'healthbot_fallbacks_total',
		{ rule: 'fallback:unknown-subject' }), 1);
	assert.strictEqual(metric(m.body, 'healthbot_reply_duration_seconds_count',
		{ channel: 'widget' }), 4);
	assert.strictEqual(metric(m.body, 'healthbot_widget_clients'), 1);
	assert.strictEqual(metric(m.body, 'healthbot_articles'), 3);
	assert.strictEqual(metric(m.body, 'healthbot_reloads_total', { result: 'ok' }), 0);
	c.close();
	await waitFor('the gauge to drop', async () => metric((await get(main.port,
		'/metrics')).body, 'healthbot_widget_clients') === 0);
});

test('a metrics section moves /metrics to an address of its own', async () => {
	const mport = await freePort();
	const s = await serve([...DATA_ARGS], 'ops-listener',
		{ metrics: { bind: '127.0.0.1', port: mport } });
	assert.match(s.bot.out, new RegExp(`metrics at http://127\\.0\\.0\\.1:${mport}/metrics`));
	const m = await get(mport, '/metrics');
	assert.strictEqual(m.status, 200);
	assertPrometheusText(m.body);
	assert.strictEqual(metric(m.body, 'healthbot_messages_total',
		{ channel: 'widget', kind: 'answer' }), 0);
	assert.strictEqual((await get(mport, '/readyz')).body, 'ready\n');
	assert.strictEqual((await get(mport, '/healthz')).status, 200);
	assert.strictEqual((await get(mport, '/')).status, 404, 'no widget there');
	assert.strictEqual((await get(mport, '/healthbot-widget.js')).status, 404);
	assert.strictEqual((await get(s.port, '/metrics')).status, 404,
		'not on the widget port any more');
	assert.strictEqual((await get(s.port, '/readyz')).status, 200);
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('widget logs: reply and audit lines, hashed conversations, no words or names', async () => {
	const c = await connect(main.url, { origin: main.origin });
	await c.next();
	assert.strictEqual((await c.ask('r', RED)).kind, 'escalation');
	await c.ask('q', QUESTION);
	c.close();
	await waitFor('the reply lines', () =>
		(main.bot.err.match(/event=reply channel=widget/g) || []).length >= 6);
	const log = main.bot.err;
	const audit = log.split('\n').filter((l) => l.includes('event=escalation_audit'));
	assert.ok(audit.length >= 2, 'an audit line per escalation');
	for (const line of audit) {
		assert.match(line, /level=audit event=escalation_audit channel=widget conv=[0-9a-f]{16} rule="[^"]+" category="[a-z-]+" severity=(emergency|crisis|urgent)$/);
		assert.match(line, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
	}
	for (const line of log.split('\n').filter((l) => l.includes('event=reply ')))
		assert.match(line, /channel=widget conv=[0-9a-f]{16} kind=[a-z]+ severity=[a-z]+ intent="[^"]*" article="[^"]*" rule="[^"]*" us=\d+ conn=\d+$/);
	assertNoText(log, [RED, QUESTION, CRAMPS, CHEST],
		['Wilhelmina', 'Quagmire', 'Bartholomew', 'Zanzibar']);
});

test('log_text (development only) is the one way text reaches the log', async () => {
	const s = await serve([...DATA_ARGS], 'ops-log-text', { log_text: true });
	assert.match(s.bot.err, /level=warn event=startup warning="log_text is on/);
	const c = await connect(s.url, { origin: s.origin });
	await c.next();
	await c.ask('q', QUESTION);
	await waitFor('the reply line', () => s.bot.err.includes('event=reply'));
	assert.ok(s.bot.err.includes('text="' + QUESTION + '"'), s.bot.err.slice(-500));
	c.close();
	assert.strictEqual((await s.bot.stop()).code, 0);
});

/* A relay of our own, to name conversations and to stop reading. */
async function relayServer(top = {}) {
	const port = await freePort();
	const wss = new WebSocketServer({ host: '127.0.0.1', port,
		handleProtocols: () => 'healthbot-relay.v1' });
	await new Promise((r) => wss.once('listening', r));
	const token = path.join(dir, 'relay-token');
	fs.writeFileSync(token, 'ops-relay-token\n');
	const config = writeConfig(dir, { widget: { enabled: false },
		relay: { url: `ws://127.0.0.1:${port}/bot`, token_file: token }, ...top });
	return { wss, port, config };
}

function collect(ws) {
	const frames = [];
	ws.on('message', (d) => frames.push(JSON.parse(d)));
	return frames;
}

test('relay logs: conversation names and words stay out', async () => {
	const r = await relayServer();
	const bot = startBot(['run', '--config', r.config, ...DATA_ARGS],
		{ ready: /event=relay_start/, name: 'ops-relay-privacy' });
	const ws = await new Promise((res) => r.wss.once('connection', res));
	const frames = collect(ws);
	const conv = 'portal-session-Philomena-Hackensack-77';
	ws.send(JSON.stringify({ type: 'open', conversation: conv }));
	ws.send(JSON.stringify({ type: 'message', conversation: conv, id: 'r', text: RED }));
	ws.send(JSON.stringify({ type: 'message', conversation: conv, id: 'q', text: QUESTION }));
	await waitFor('two replies', () => frames.filter((f) => f.type === 'reply').length === 2);
	const replies = frames.filter((f) => f.type === 'reply');
	assert.strictEqual(replies[0].kind, 'escalation');
	await waitFor('the reply lines', () =>
		(bot.err.match(/event=reply channel=relay/g) || []).length === 2);
	assert.match(bot.err, /level=audit event=escalation_audit channel=relay conv=[0-9a-f]{16} /);
	assertNoText(bot.err, [RED, QUESTION], ['Wilhelmina', 'Quagmire', 'Bartholomew',
		'Zanzibar', 'Philomena', 'Hackensack', conv]);
	assert.strictEqual((await bot.stop()).code, 0);
	ws.terminate();
	await new Promise((res) => r.wss.close(res));
});

/* A copy of the library to change under a running bot. */
function copyData() {
	const root = fs.mkdtempSync(path.join(dir, 'data-'));
	fs.cpSync(path.join(ROOT, 'content'), path.join(root, 'content'), { recursive: true });
	fs.cpSync(path.join(ROOT, 'intents'), path.join(root, 'intents'), { recursive: true });
	return root;
}

test('SIGHUP: a broken file keeps the running version; a good one takes effect on the open websocket', async () => {
	const data = copyData();
	const smalltalk = path.join(data, 'intents', 'smalltalk.json');
	const good = fs.readFileSync(smalltalk, 'utf8');
	const cfgFile = path.join(dir, 'reload.json');
	const cfg = { content_dir: path.join(data, 'content'),
		intents_dir: path.join(data, 'intents'), emergency_number: '911',
		widget: { rate_burst: 100 } };
	fs.writeFileSync(cfgFile, JSON.stringify(cfg));
	const port = await freePort();
	const bot = startBot(['serve', '--port', String(port), '--config', cfgFile],
		{ name: 'ops-reload' });
	await bot.ready;
	const origin = `http://127.0.0.1:${port}`;
	const c = await connect(`ws://127.0.0.1:${port}/chat`, { origin });
	await c.next();
	const hello0 = await c.ask('h0', 'hello');
	assert.match(hello0.text, /^Hello! I answer questions/);
	const alpha0 = await c.ask('a0', 'what causes alpha syndrome?');
	assert.notStrictEqual(alpha0.kind, 'answer', 'no such article yet');
	assert.match((await c.ask('e0', CHEST)).text, /\b911\b/);
	const hups = () => (bot.err.match(/event=reload_(failed|skipped)|event=reload /g) || []).length;

	/* a broken intents file: the log names it and where; nothing changes */
	fs.writeFileSync(smalltalk, good.replace('"smalltalk"', '"smalltalk" oops'));
	let before = hups();
	bot.child.kill('SIGHUP');
	await waitFor('the reload to fail', () => hups() > before);
	const failed = bot.err.split('\n').find((l) => l.includes('event=reload_failed'));
	assert.match(failed, /level=error event=reload_failed file="[^"]*\/intents\/smalltalk\.json" line=\d+ column=\d+ entry="[^"]*" error="invalid JSON" kept=running$/);
	assert.strictEqual((await c.ask('h1', 'hello')).text, hello0.text);

	/* a broken config: the same */
	fs.writeFileSync(cfgFile, '{"widget": {"rate_burst": }');
	before = hups();
	bot.child.kill('SIGHUP');
	await waitFor('the reload to fail', () => hups() > before);
	assert.match(bot.err, /event=config file="[^"]*reload\.json" line=1 column=\d+ error="invalid JSON"/);
	assert.match(bot.err, /event=reload_failed file="[^"]*reload\.json" .*error="config does not load"/);
	assert.strictEqual((await c.ask('h2', 'hello')).text, hello0.text);

	/* good files: new wording, a new article, a new number, and a channel
	 * setting that waits for a restart */
	const st = JSON.parse(good);
	st.smalltalk.find((s) => s.id === 'greeting').reply =
		'Hello again, with freshly reloaded wording. Ask me about: {topics}.';
	fs.writeFileSync(smalltalk, JSON.stringify(st));
	fs.copyFileSync(path.join(ROOT, 'tests', 'fixtures', 'content',
		'fixture-alpha-syndrome.txt'), path.join(data, 'content',
		'fixture-alpha-syndrome.txt'));
	fs.writeFileSync(cfgFile, JSON.stringify(Object.assign({}, cfg,
		{ emergency_number: '999', widget: { rate_burst: 50 } })));
	before = hups();
	bot.child.kill('SIGHUP');
	await waitFor('the reload', () => hups() > before);
	assert.match(bot.err, /level=info event=reload articles=2 ms=\d+/);
	assert.match(bot.err, /level=warn event=reload_restart_needed section=widget /);
	assert.match((await c.ask('h3', 'hello')).text, /^Hello again, with freshly reloaded wording/);
	const alpha = await c.ask('a1', 'what causes alpha syndrome?');
	assert.strictEqual(alpha.kind, 'answer');
	/* a page opened after the reload is given the new number to link */
	const c2 = await connect(`ws://127.0.0.1:${port}/chat`, { origin });
	assert.deepStrictEqual((await c2.next()).numbers, { emergency: '999', crisis: '988' });
	c2.close();
	assert.strictEqual(alpha.source.title, 'Alpha syndrome');
	const e1 = await c.ask('e1', CHEST);
	assert.match(e1.text, /\b999\b/);
	/* the page open across the reload learns the new number to link */
	assert.deepStrictEqual(e1.numbers, { emergency: '999', crisis: '988' });
	assert.strictEqual(c.closed, null, 'the websocket stayed open throughout');
	const m = (await get(port, '/metrics')).body;
	assert.strictEqual(metric(m, 'healthbot_reloads_total', { result: 'ok' }), 1);
	assert.strictEqual(metric(m, 'healthbot_reloads_total', { result: 'failed' }), 2);
	assert.strictEqual(metric(m, 'healthbot_articles'), 2);
	c.close();
	assert.strictEqual((await bot.stop()).code, 0);
});

test('SIGTERM: replies queued for a slow reader arrive, then 1001; exit 0; newcomers refused', async () => {
	const s = await serve([...DATA_ARGS], 'ops-drain',
		{ widget: { rate_burst: 10000, rate_per_minute: 1000000,
			source_rate_burst: 10000000, source_rate_per_minute: 10000000 } });
	const c = await connect(s.url, { origin: s.origin });
	await c.next();
	const replies = [];
	c.ws.on('message', (d) => {
		const f = JSON.parse(d);
		if (f.type === 'reply')
			replies.push(f.in_reply_to);
	});
	/* a reader that stops reading: the replies back up in the kernel and
	 * then in the bot's queue */
	c.ws._socket.pause();
	const N = 12000;
	for (let i = 1; i <= N; i++)
		c.send({ type: 'message', id: 'm' + i, text: CRAMPS });
	await waitFor('the bot to stop reading', async () => {
		const n = (s.bot.err.match(/event=reply /g) || []).length;
		await sleep(200);
		return n > 0 && n === (s.bot.err.match(/event=reply /g) || []).length;
	}, 15000, 0);
	const started = Date.now();
	s.bot.child.kill('SIGTERM');
	await waitFor('the drain', () => /event=widget_drain/.test(s.bot.err));
	/* draining: not ready, and no new conversations */
	const ready = await get(s.port, '/readyz');
	assert.strictEqual(ready.status, 503);
	assert.strictEqual(ready.body, 'draining\n');
	await assert.rejects(connect(s.url, { origin: s.origin }), (e) => e.status === 503);
	c.ws._socket.resume();
	/* one signal only: a second one cuts the drain short */
	const exit = await waitFor('the exit', () => s.bot.exited, 10000);
	assert.strictEqual(exit.code, 0, JSON.stringify(exit));
	assert.ok(Date.now() - started < 5000, 'within the drain timeout');
	await waitFor('the close', () => c.closed);
	assert.strictEqual(c.closed.code, 1001, JSON.stringify(c.closed));
	const queued = Number(/event=widget_drain open=1 queued=(\d+)/.exec(s.bot.err)[1]);
	assert.ok(queued > 0, 'replies were still queued in the bot at SIGTERM');
	/* every reply the bot made arrived, in order; the rest were never
	 * read (the widget sends them again after reconnecting) */
	const made = (s.bot.err.match(/event=reply /g) || []).length;
	assert.strictEqual(replies.length, made);
	replies.forEach((id, i) => assert.strictEqual(id, 'm' + (i + 1)));
	assert.match(s.bot.err, /event=drained ms=\d+/);
	assert.match(s.bot.err, /event=shutdown rc=0/);
});

test('SIGINT drains the same way', async () => {
	const s = await serve([...DATA_ARGS], 'ops-sigint');
	const c = await connect(s.url, { origin: s.origin });
	await c.next();
	assert.strictEqual((await c.ask('a', CRAMPS)).kind, 'answer');
	s.bot.child.kill('SIGINT');
	await waitFor('the close', () => c.closed);
	assert.strictEqual(c.closed.code, 1001);
	assert.strictEqual((await waitFor('the exit', () => s.bot.exited)).code, 0);
	assert.match(s.bot.err, /event=stopping drain_timeout_ms=5000/);
});

test('relay: SIGTERM sends what is queued, closes with 1001 and stays away', async () => {
	/* thousands of queued replies: on a loaded 2-core machine flushing
	 * them can take longer than the default 5 s drain, and the test is
	 * about what a drain does, not how fast */
	const r = await relayServer({ drain_timeout: 30 });
	let connections = 0;
	r.wss.on('connection', () => connections++);
	const bot = startBot(['run', '--config', r.config, ...DATA_ARGS],
		{ ready: /event=relay_start/, name: 'ops-relay-drain' });
	const ws = await new Promise((res) => r.wss.once('connection', res));
	const frames = collect(ws);
	let closed = null;
	ws.on('close', (code) => { closed = code; });
	ws._socket.pause();
	for (let i = 0; i < 20000; i++)
		ws.send(JSON.stringify({ type: 'message', conversation: 'c' + (i % 50),
			id: 'm' + i, text: CRAMPS }));
	await waitFor('the bot to stop reading', async () => {
		const n = (bot.err.match(/event=reply /g) || []).length;
		await sleep(200);
		return n > 0 && n === (bot.err.match(/event=reply /g) || []).length;
	}, 15000, 0);
	bot.child.kill('SIGTERM');
	await waitFor('the drain', () => /event=relay_drain/.test(bot.err));
	const queued = Number(/event=relay_drain connected=yes queued=(\d+)/.exec(bot.err)[1]);
	assert.ok(queued > 0, 'replies were queued at SIGTERM');
	ws._socket.resume();
	const exit = await waitFor('the exit', () => bot.exited, 40000);
	assert.strictEqual(exit.code, 0, JSON.stringify(exit));
	await waitFor('the close', () => closed !== null);
	assert.strictEqual(closed, 1001);
	const made = (bot.err.match(/event=reply /g) || []).length;
	assert.strictEqual(frames.filter((f) => f.type === 'reply').length, made);
	assert.doesNotMatch(bot.err, /relay_undelivered/);
	await sleep(1000);
	assert.strictEqual(connections, 1, 'no reconnect after the drain');
	await new Promise((res) => r.wss.close(res));
});

test('the main bot stops cleanly', async () => {
	assert.strictEqual((await main.bot.stop()).code, 0);
});

run();

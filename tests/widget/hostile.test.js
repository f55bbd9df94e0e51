'use strict';
/*
 * The hostile-input catalogue (tests/hostile/catalogue.jsonl) against the
 * widget websocket of `healthbot serve`, on 127.0.0.1 only.
 *
 * - Every `message` case is sent as {"type":"message","id","text"} with the
 *   case's bytes decoded as UTF-8 (invalid sequences become U+FFFD: a JSON
 *   string cannot carry them). A frame over max_message_bytes (JSON
 *   included) must get a `too_large` error; any other one exactly one reply
 *   (after an optional typing frame) of the kind and category the case
 *   expects, with no markup in `html` the engine does not write (so never
 *   the input's own), and the emergency number in an escalation. An escaped
 *   NUL must read as a space (not end the text), so a message blank apart
 *   from NULs is a `bad_request`, as a blank one is. Reply frames carry no
 *   red-flag category, so `expect_category` is not checked here.
 * - A case whose bytes are not valid UTF-8 is sent again raw, as a bare
 *   text frame and inside the JSON envelope: `invalid_utf8`.
 * - Every data-file case (deep JSON, huge numbers, NUL bytes, articles) is
 *   sent as a raw text frame, hostile input for the frame parser, plus deep
 *   JSON that fits under the size limit so it reaches the parser at all:
 *   an error frame, never a reply.
 * After every case the same connection must still answer the cramps
 * question (the protocol keeps it open after every error frame).
 */
const fs = require('fs');
const path = require('path');
const { assert, test, run, freePort, tmpdir, writeConfig, startBot, connect,
	ROOT, DATA_ARGS } = require('./lib');

const CATALOGUE = path.join(ROOT, 'tests', 'hostile', 'catalogue.jsonl');
const CRAMPS = 'what causes night leg cramps?';
const EMERGENCY = '5550911';
const CRISIS = '5550988';
const MAX_BYTES = 4096; /* widget.max_message_bytes, the default */
const WAIT_MS = 10000;
const KINDS = new Set(['answer', 'escalation', 'fallback', 'smalltalk']);
/* the only markup the engine writes (bot/engine/reply.c, passage.c) */
const TAGS = /^<(?:\/?(?:p|strong|ul|li)|p class="hb-(?:heading|source|disclaimer)")>/;
const ERROR_CODES = new Set(['too_large', 'invalid_utf8', 'invalid_json',
	'bad_request', 'unknown_type', 'binary_unsupported', 'rate_limited',
	'internal']);

const cases = fs.readFileSync(CATALOGUE, 'utf8').split('\n')
	.filter((l) => l.trim()).map((l) => JSON.parse(l));

function body(c) {
	if ('text' in c)
		return Buffer.from(c.text, 'utf8');
	if ('b64' in c)
		return Buffer.from(c.b64, 'base64');
	return Buffer.concat((c.parts || []).map((p) => {
		const one = body(p);
		return Buffer.alloc(one.length * (p.repeat || 1), one);
	}));
}

function validUtf8(buf) {
	try {
		new TextDecoder('utf-8', { fatal: true }).decode(buf);
		return true;
	} catch (e) {
		return false;
	}
}

function replyProblem(r, input, kinds, category) {
	if (r.type !== 'reply')
		return 'frame ' + JSON.stringify(r).slice(0, 200);
	if (!KINDS.has(r.kind))
		return 'kind ' + r.kind;
	if (typeof r.text !== 'string' || typeof r.html !== 'string')
		return 'no text or html';
	if (/<script/i.test(r.html))
		return '<script in html';
	for (let i = r.html.indexOf('<'); i >= 0; i = r.html.indexOf('<', i + 1)) {
		if (!TAGS.test(r.html.slice(i)))
			return 'markup the engine does not write: ' + r.html.slice(i, i + 40);
	}
	if (input.includes('<') && r.html.includes(input))
		return 'the input as html';
	if (r.kind === 'escalation') {
		if (!r.text.includes(EMERGENCY))
			return 'escalation without the emergency number';
		if (r.severity === 'crisis' && !r.text.includes(CRISIS))
			return 'crisis escalation without the crisis line';
	}
	if (kinds && !kinds.includes(r.kind))
		return `got ${r.kind} (${r.text.slice(0, 60)}), want ${kinds.join('/')}`;
	if (category && r.category !== undefined && r.category !== category)
		return `category ${r.category}, want ${category}`;
	return null;
}

let server, conn, seq = 0;

async function open() {
	const c = await connect(server.url, { origin: server.origin });
	const g = await c.next(() => true, WAIT_MS);
	assert.strictEqual(g.type, 'greeting');
	return c;
}

/* the next reply or error for id, with the frames before it */
async function answerTo(c, id) {
	const f = await c.next((x) => (x.type === 'reply' || x.type === 'error') &&
		x.in_reply_to === id, WAIT_MS);
	return f;
}

/* the connection still answers; a new one if it was closed (a failure) */
async function stillAnswers(what) {
	const id = 'check' + ++seq;
	let r, closed = conn.closed;
	if (!closed) {
		conn.send({ type: 'message', id, text: CRAMPS });
		try {
			r = await answerTo(conn, id);
		} catch (e) {
			closed = conn.closed || { error: e.message };
		}
	}
	if (closed) {
		conn.ws.terminate();
		conn = await open();
		throw new Error(`connection lost after ${what}: ${JSON.stringify(closed)}`);
	}
	assert.strictEqual(r.type, 'reply', 'after ' + what + ': ' + JSON.stringify(r));
	assert.strictEqual(r.kind, 'answer', 'after ' + what);
	/* nothing else left over from the case: no second reply */
	const extra = conn.frames.filter((f) => f.type !== 'typing');
	conn.frames.length = 0;
	assert.deepStrictEqual(extra, [], 'stray frames after ' + what);
}

async function expectError(c, code, what) {
	const f = await c.next((x) => x.type === 'error' || x.type === 'reply', WAIT_MS);
	assert.strictEqual(f.type, 'error', what + ': ' + JSON.stringify(f).slice(0, 300));
	assert.ok(ERROR_CODES.has(f.code), 'a protocol error code: ' + f.code);
	if (code)
		assert.ok([].concat(code).includes(f.code), `${what}: ${f.code}, want ${code}`);
	assert.ok(typeof f.message === 'string' && f.message, 'a readable message');
	return f;
}

test('start healthbot serve', async () => {
	const dir = tmpdir();
	const port = await freePort();
	const config = writeConfig(dir, { emergency_number: EMERGENCY,
		crisis_number: CRISIS,
		widget: { rate_burst: 10000, rate_per_minute: 1000000,
			source_rate_burst: 10000000, source_rate_per_minute: 10000000 } });
	const bot = startBot(['serve', '--port', String(port), '--config', config,
		...DATA_ARGS], { name: 'hostile' });
	await bot.ready;
	server = { bot, url: `ws://127.0.0.1:${port}/chat`,
		origin: `http://127.0.0.1:${port}` };
	conn = await open();
	const r = await conn.ask('hello', CRAMPS, WAIT_MS);
	assert.strictEqual(r.kind, 'answer');
	conn.frames.length = 0;
});

for (const c of cases.filter((x) => x.entry === 'message')) {
	const raw = body(c);
	const text = raw.toString('utf8');
	test('message ' + c.id, async () => {
		const id = 'h' + ++seq;
		const frame = JSON.stringify({ type: 'message', id, text });
		conn.send(frame);
		const size = Buffer.byteLength(frame);
		if (size > MAX_BYTES) {
			/* the bot drops the frame unread: it cannot name the id */
			const f = await conn.next((x) => x.type === 'error' ||
				x.type === 'reply', WAIT_MS);
			assert.strictEqual(f.type, 'error', `${size}-byte frame: ` +
				JSON.stringify(f).slice(0, 200));
			assert.strictEqual(f.code, 'too_large');
			assert.ok(f.in_reply_to === null || f.in_reply_to === id);
		} else if (/^[ \t\r\n\0]*$/.test(text)) {
			/* blank once a NUL reads as a space: "not blank" is the rule */
			const f = await answerTo(conn, id);
			assert.strictEqual(f.type, 'error', JSON.stringify(f));
			assert.strictEqual(f.code, 'bad_request');
			conn.frames.length = 0;
		} else {
			const f = await answerTo(conn, id);
			const problem = replyProblem(f, text, c.expect_kind, c.expect_category);
			assert.ok(!problem, `${size}-byte frame: ${problem}`);
			/* no more than one reply, and only a typing frame before it */
			assert.ok(conn.frames.every((x) => x.type === 'typing' &&
				x.in_reply_to === id),
			'other frames: ' + JSON.stringify(conn.frames).slice(0, 200));
			conn.frames.length = 0;
		}
		await stillAnswers(c.id);
	});
	if (!validUtf8(raw)) {
		test('message ' + c.id + ' raw (invalid UTF-8 text frame)', async () => {
			conn.sendRaw(raw, false);
			await expectError(conn, raw.length > MAX_BYTES ? 'too_large' :
				'invalid_utf8', 'bare');
			const id = 'h' + ++seq;
			const envelope = Buffer.concat([
				Buffer.from(`{"type":"message","id":"${id}","text":"`), raw,
				Buffer.from('"}')]);
			conn.sendRaw(envelope, false);
			const f = await expectError(conn, envelope.length > MAX_BYTES ?
				'too_large' : 'invalid_utf8', 'in the envelope');
			if (f.code === 'invalid_utf8')
				assert.ok(f.in_reply_to === id || f.in_reply_to === null);
			await stillAnswers(c.id + ' raw');
		});
	}
}

/* data files are hostile JSON (and text) for the frame parser */
const frames = cases.filter((x) => x.entry !== 'message')
	.map((x) => ({ id: x.entry + ' ' + x.id, raw: body(x) }));
/* nesting that fits under the size limit, so the parser sees it */
frames.push({ id: 'deep array under the limit',
	raw: Buffer.from('['.repeat(2000) + ']'.repeat(2000)) });
frames.push({ id: 'deep object under the limit',
	raw: Buffer.from('{"a":'.repeat(800) + '1' + '}'.repeat(800)) });
frames.push({ id: 'deep text under the limit',
	raw: Buffer.from('{"type":"message","id":"deep","text":' + '['.repeat(1900) +
		']'.repeat(1900) + '}') });
frames.push({ id: 'deep unclosed under the limit',
	raw: Buffer.from('{"type":"message","id":"u","text":"a","x":' + '['.repeat(4000)) });
frames.push({ id: 'huge number as text',
	raw: Buffer.from('{"type":"message","id":"n","text":1e999}') });
frames.push({ id: 'huge number as id',
	raw: Buffer.from('{"type":"message","id":1e999,"text":"hi"}') });
frames.push({ id: 'escaped NUL in type',
	raw: Buffer.from('{"type":"message\\u0000","id":"z","text":"hi"}') });
frames.push({ id: 'lone surrogate escape in text',
	raw: Buffer.from('{"type":"message","id":"s","text":"\\ud800 cramps"}') });

for (const fr of frames) {
	test('frame ' + fr.id, async () => {
		conn.sendRaw(fr.raw, false);
		const f = await conn.next((x) => x.type === 'error' || x.type === 'reply',
			WAIT_MS);
		if (fr.raw.length > MAX_BYTES) {
			assert.strictEqual(f.type, 'error', JSON.stringify(f).slice(0, 200));
			assert.strictEqual(f.code, 'too_large');
		} else if (f.type === 'reply') {
			/* only a frame that is a well-formed message may be answered */
			const problem = replyProblem(f, fr.raw.toString('utf8'));
			assert.ok(!problem, problem);
		} else {
			assert.ok(ERROR_CODES.has(f.code), 'code ' + f.code);
			assert.ok(f.message, 'a readable message');
		}
		await stillAnswers(fr.id);
	});
}

test('the bot is still serving and stops cleanly', async () => {
	const fresh = await open();
	const r = await fresh.ask('last', CRAMPS, WAIT_MS);
	assert.strictEqual(r.kind, 'answer');
	fresh.close();
	conn.close();
	const exit = await server.bot.stop();
	assert.strictEqual(exit.code, 0, 'exit ' + JSON.stringify(exit) + ': ' +
		server.bot.err.slice(-500));
	assert.doesNotMatch(server.bot.err, /AddressSanitizer|runtime error/);
});

run();

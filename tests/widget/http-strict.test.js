'use strict';
/*
 * Strict HTTP at the widget's front door (bot/widget/front.c), with raw
 * sockets on 127.0.0.1: every malformed or smuggling request gets its
 * status (400, 405, 414, 431, 505) with the security headers and the
 * connection is closed; a request hidden in another's body or after it is
 * never answered. Also: unmasked client frames, and the same-origin rule
 * (scheme, host and port; never the Host header).
 */
const crypto = require('crypto');
const net = require('net');
const { assert, test, run, tmpdir, freePort, writeConfig, startBot, connect,
	originRefused, assertOriginRefused, DATA_ARGS } = require('./lib');

let port, bot;
const dir = tmpdir();

/* Sends bytes, reads until the server closes (or ms pass). */
function raw(bytes, { ms = 3000, localAddress } = {}) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let closed = false;
		const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => {
			s.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1'));
		});
		const timer = setTimeout(() => s.destroy(), ms);
		s.on('data', (d) => chunks.push(d));
		s.on('end', () => { closed = true; });
		s.on('error', (e) => {
			/* a reset after the answer still leaves the answer to check */
			if (!chunks.length)
				reject(e);
		});
		s.on('close', () => {
			clearTimeout(timer);
			resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
		});
	});
}

/* The responses in text: status codes, the first one's headers and body. */
function parse(text) {
	const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)]
		.map((m) => Number(m[1]));
	const end = text.indexOf('\r\n\r\n');
	const headers = {};
	for (const line of text.slice(0, end).split('\r\n').slice(1)) {
		const i = line.indexOf(':');
		const name = line.slice(0, i).toLowerCase();
		headers[name] = headers[name] === undefined ? line.slice(i + 1).trim() :
			headers[name] + ', ' + line.slice(i + 1).trim();
	}
	return { statuses, status: statuses[0], headers, body: text.slice(end + 4) };
}

function assertSecurityHeaders(r, what) {
	const h = r.headers;
	assert.match(h['content-security-policy'] || '', /default-src 'none'/, what);
	assert.match(h['content-security-policy'], /frame-ancestors 'none'/, what);
	assert.strictEqual(h['x-content-type-options'], 'nosniff', what);
	assert.strictEqual(h['referrer-policy'], 'no-referrer', what);
	assert.strictEqual(h['x-frame-options'], 'DENY', what);
	assert.doesNotMatch(r.body, /error\.css/, what + ': links a missing file');
}

/* One answer with this status, the security headers, then a close; and
 * never a second answer (the metrics text would show a smuggled one). */
async function expectRefused(bytes, status, what) {
	const { text, closed } = await raw(bytes);
	const r = parse(text);
	assert.deepStrictEqual(r.statuses, [status], what + ': ' + text.slice(0, 300));
	assertSecurityHeaders(r, what);
	assert.strictEqual(r.headers.connection, 'close', what);
	assert.doesNotMatch(text, /# TYPE|healthbot_/, what + ': a second request ran');
	assert.ok(closed, what + ': the connection is closed');
	return r;
}

const SMUGGLED = 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n';

test('start healthbot serve (metrics on the widget port, as by default)', async () => {
	port = await freePort();
	bot = startBot(['serve', '--port', String(port), ...DATA_ARGS],
		{ name: 'http-strict' });
	await bot.ready;
	/* the smuggling target answers when asked for directly */
	const direct = parse((await raw(SMUGGLED)).text);
	assert.strictEqual(direct.status, 200);
	assert.match(direct.body, /# TYPE/);
});

test('smuggling: Content-Length 0 then 44 with a second request as body', async () => {
	const body = SMUGGLED + 'X-Pad: 1\r\n';
	assert.strictEqual(body.length, 44);
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n' +
		`Content-Length: ${body.length}\r\n\r\n${body}`, 400, 'duplicate length');
});

test('smuggling: Content-Length: 0x2c', async () => {
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2c\r\n\r\n' +
		SMUGGLED + 'X-Pad: 123456789\r\n', 400, 'hex length');
});

test('smuggling: "Content-Length : 44" (space before the colon)', async () => {
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length : 44\r\n\r\n' +
		SMUGGLED + 'X-Pad: 123456789\r\n', 400, 'space before colon');
});

test('Content-Length with Transfer-Encoding, chunked alone, a body on GET or HEAD', async () => {
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n' +
		'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'CL + TE');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
		'23\r\n' + SMUGGLED + '\r\n0\r\n\r\n', 400, 'chunked GET');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
		400, 'body on GET');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n',
		400, 'signed length');
	const head = await raw('HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc');
	assert.deepStrictEqual(parse(head.text).statuses, [400]);
	/* an empty body is no body */
	const zero = parse((await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n' +
		'Content-Length: 0\r\n\r\n')).text);
	assert.strictEqual(zero.status, 200);
	assert.strictEqual(zero.body, 'ok\n');
});

test('Host: required on HTTP/1.1, once', async () => {
	await expectRefused('GET / HTTP/1.1\r\n\r\n', 400, 'no Host');
	await expectRefused('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'two Hosts');
	const old = parse((await raw('GET /healthz HTTP/1.0\r\n\r\n')).text);
	assert.strictEqual(old.status, 200, 'HTTP/1.0 needs no Host');
});

test('bare LF, bare CR, NUL, obs-fold, a bad field name', async () => {
	await expectRefused('GET / HTTP/1.1\nHost: x\n\n', 400, 'LF line ends');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb: c\r\n\r\n', 400,
		'bare LF in a header');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', 400,
		'bare CR in a header');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', 400,
		'NUL in a header');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n', 400,
		'obs-fold');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nX A: a\r\n\r\n', 400,
		'space in a name');
	await expectRefused('GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'escaped NUL');
	await expectRefused('GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'bad escape');
});

test('414 for a 64 KB URL, 431 for a 100 KB header', async () => {
	await expectRefused(`GET /${'a'.repeat(65536)} HTTP/1.1\r\nHost: x\r\n\r\n`,
		414, 'long URL');
	await expectRefused(`GET / HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(100000)}` +
		'\r\n\r\n', 431, 'long header');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\n' +
		Array.from({ length: 200 }, (_, i) => `X-${i}: 1\r\n`).join('') + '\r\n',
	431, 'many headers');
	/* a long cookie from a portal on the same host is not refused */
	const ok = parse((await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: ' +
		'a'.repeat(5000) + '\r\n\r\n')).text);
	assert.strictEqual(ok.status, 200);
});

test('OPTIONS, TRACE, absolute-form, the HTTP/2 preface: answered with the headers', async () => {
	const options = await expectRefused('OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n',
		405, 'OPTIONS');
	assert.strictEqual(options.headers.allow, 'GET, HEAD');
	await expectRefused('TRACE / HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'TRACE');
	await expectRefused('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
		405, 'POST');
	await expectRefused(`GET http://127.0.0.1:${port}/metrics HTTP/1.1\r\n` +
		'Host: x\r\n\r\n', 400, 'absolute-form');
	await expectRefused('GET * HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'asterisk-form');
	await expectRefused('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505, 'HTTP/2 preface');
	await expectRefused('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n' +
		'Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n',
	400, 'h2c upgrade');
	await expectRefused('GET / FOO/1.1\r\nHost: x\r\n\r\n', 400, 'no HTTP version');
});

test('a pipelined second request is never answered; one request per connection', async () => {
	const { text, closed } = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
		SMUGGLED);
	const r = parse(text);
	assert.deepStrictEqual(r.statuses, [200], text.slice(0, 400));
	assert.strictEqual(r.headers.connection, 'close');
	assert.doesNotMatch(text, /# TYPE/);
	assert.ok(closed);
	/* sent after the answer: the connection is already closed */
	const later = await new Promise((resolve) => {
		let got = '';
		const s = net.connect({ host: '127.0.0.1', port }, () =>
			s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
		s.on('data', (d) => {
			got += d;
			if (/ok\n$/.test(got))
				s.write(SMUGGLED, () => {});
		});
		s.on('error', () => {});
		s.on('close', () => resolve(got));
		setTimeout(() => s.destroy(), 3000);
	});
	assert.deepStrictEqual(parse(later).statuses, [200]);
	assert.doesNotMatch(later, /# TYPE/);
});

test('assets and refused upgrades carry the security headers', async () => {
	const page = parse((await raw('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).text);
	assert.strictEqual(page.status, 200);
	assertSecurityHeaders({ headers: page.headers, body: '' }, 'page');
	const key = crypto.randomBytes(16).toString('base64');
	/* without an Origin: refused before the handshake */
	const refused = parse((await raw('GET /chat HTTP/1.1\r\nHost: x\r\n' +
		'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
		`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)).text);
	assert.strictEqual(refused.status, 403);
	assert.strictEqual(refused.headers['x-healthbot-refused'], 'origin');
	assertSecurityHeaders(refused, 'refused upgrade');
});

/* A /chat upgrade request with these header lines (null: left out). */
function upgrade(fields = {}, requestLine = 'GET /chat HTTP/1.1') {
	const lines = { host: `127.0.0.1:${port}`, upgrade: 'websocket',
		connection: 'Upgrade', origin: `http://127.0.0.1:${port}`,
		'sec-websocket-key': crypto.randomBytes(16).toString('base64'),
		'sec-websocket-version': '13', ...fields };
	let head = requestLine + '\r\n';
	for (const [name, value] of Object.entries(lines)) {
		if (value === null)
			continue;
		for (const v of Array.isArray(value) ? value : [value])
			head += `${name}: ${v}\r\n`;
	}
	return head + '\r\n';
}

/* Sends a head; resolves the response head once it is there (a 101 keeps
 * the connection open: it is closed here). */
function handshake(head) {
	return new Promise((resolve, reject) => {
		let buf = '';
		const s = net.connect({ host: '127.0.0.1', port }, () => s.write(head));
		const timer = setTimeout(() => {
			s.destroy();
			reject(new Error('no answer to ' + JSON.stringify(head)));
		}, 3000);
		s.on('data', (d) => {
			buf += d.toString('latin1');
			if (buf.includes('\r\n\r\n')) {
				clearTimeout(timer);
				s.destroy();
				resolve(parse(buf));
			}
		});
		s.on('error', () => {});
		s.on('close', () => {
			clearTimeout(timer);
			if (!buf.includes('\r\n\r\n'))
				reject(new Error('closed without an answer to ' +
					JSON.stringify(head) + ': ' + JSON.stringify(buf)));
		});
	});
}

test('websocket handshake: Connection upgrade token, one valid key, else 400', async () => {
	/* the baseline is good, and "upgrade" is a token among others */
	assert.strictEqual((await handshake(upgrade())).status, 101);
	assert.strictEqual((await handshake(upgrade(
		{ connection: 'keep-alive, Upgrade' }))).status, 101);
	for (const [fields, what] of [
		[{ connection: null }, 'no Connection'],
		[{ connection: 'keep-alive' }, 'Connection without upgrade'],
		[{ connection: 'upgraded' }, 'upgrade only as part of a token'],
		[{ 'sec-websocket-key': null }, 'no key'],
		[{ 'sec-websocket-key': [crypto.randomBytes(16).toString('base64'),
			crypto.randomBytes(16).toString('base64')] }, 'two keys'],
		[{ 'sec-websocket-key': 'abc' }, 'a short key'],
		[{ 'sec-websocket-key': crypto.randomBytes(20).toString('base64') },
			'a key of 20 bytes'],
		[{ 'sec-websocket-key': '!!!!!!!!!!!!!!!!!!!!!!==' }, 'a key not base64'],
		[{ 'sec-websocket-version': ['13', '13'] }, 'two versions'],
	])
		await expectRefused(upgrade(fields), 400, what);
	await expectRefused(upgrade({}, 'GET /chat HTTP/1.0'), 400, 'HTTP/1.0');
	await expectRefused(upgrade({}, 'HEAD /chat HTTP/1.1'), 400, 'HEAD');
});

test('websocket handshake: a version other than 13 gets 426 naming 13', async () => {
	for (const [version, what] of [['8', 'version 8'], [null, 'no version'],
		['13, 8', 'a list']]) {
		const r = await expectRefused(upgrade({ 'sec-websocket-version': version }),
			426, what);
		assert.strictEqual(r.headers['sec-websocket-version'], '13', what);
	}
});

test('websocket handshake: only the healthbot-chat subprotocol is taken', async () => {
	const ours = await handshake(upgrade({ 'sec-websocket-protocol': 'healthbot-chat' }));
	assert.strictEqual(ours.status, 101);
	assert.strictEqual(ours.headers['sec-websocket-protocol'], 'healthbot-chat');
	/* named among others (and in another header line) it is the one chosen */
	const among = await handshake(upgrade({ 'sec-websocket-protocol':
		['chat, superchat', 'x-other, healthbot-chat'] }));
	assert.strictEqual(among.status, 101);
	assert.strictEqual(among.headers['sec-websocket-protocol'], 'healthbot-chat');
	/* another one alone is not agreed to: the answer names none, so the
	 * client (RFC 6455 4.1) fails the connection itself */
	const other = await handshake(upgrade({ 'sec-websocket-protocol': 'x-other' }));
	assert.strictEqual(other.status, 101);
	assert.strictEqual(other.headers['sec-websocket-protocol'], undefined);
	await assert.rejects(connect(`ws://127.0.0.1:${port}/chat`,
		{ origin: `http://127.0.0.1:${port}`, protocols: ['x-other'] }));
	const c = await connect(`ws://127.0.0.1:${port}/chat`,
		{ origin: `http://127.0.0.1:${port}`, protocols: ['healthbot-chat'] });
	assert.strictEqual(c.ws.protocol, 'healthbot-chat');
	assert.strictEqual((await c.next()).type, 'greeting');
	c.close();
});

/* A websocket handshake on a raw socket, `after` sent with the request;
 * resolves the socket after 101. */
function rawWebsocket(origin, after = Buffer.alloc(0)) {
	return new Promise((resolve, reject) => {
		const key = crypto.randomBytes(16).toString('base64');
		const s = net.connect({ host: '127.0.0.1', port }, () => s.write(
			Buffer.concat([Buffer.from(
				`GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
				`Connection: Upgrade\r\nOrigin: ${origin}\r\nSec-WebSocket-Key: ${key}\r\n` +
				'Sec-WebSocket-Version: 13\r\n\r\n', 'latin1'), after])));
		let buf = Buffer.alloc(0);
		const onData = (d) => {
			buf = Buffer.concat([buf, d]);
			const end = buf.indexOf('\r\n\r\n');
			if (end < 0)
				return;
			s.removeListener('data', onData);
			if (!/^HTTP\/1\.1 101/.test(buf.toString('latin1')))
				return reject(new Error('no upgrade: ' + buf.toString('latin1')));
			resolve({ s, rest: buf.slice(end + 4) });
		};
		s.on('data', onData);
		s.on('error', reject);
	});
}

/* A client frame: FIN + opcode, masked unless mask is false. */
function frame(payload, { mask = true, opcode = 1 } = {}) {
	const data = Buffer.from(payload);
	const len = data.length < 126 ? Buffer.from([data.length]) :
		Buffer.from([126, data.length >> 8, data.length & 0xff]);
	if (!mask)
		return Buffer.concat([Buffer.from([0x80 | opcode]), len, data]);
	len[0] |= 0x80;
	const key = crypto.randomBytes(4);
	const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
	return Buffer.concat([Buffer.from([0x80 | opcode]), len, key, masked]);
}

/* The server's frames on a raw socket: [{ op, payload }]. */
function serverFrames(buf) {
	const out = [];
	for (let i = 0; i + 2 <= buf.length; ) {
		let len = buf[i + 1] & 0x7f, at = i + 2;
		if (len === 126) {
			len = buf.readUInt16BE(at);
			at += 2;
		}
		out.push({ op: buf[i] & 0x0f, payload: buf.slice(at, at + len) });
		i = at + len;
	}
	return out;
}

/* Writes the parts with a pause between them (so they arrive in reads of
 * their own), answers the server's close frame as a client does, reads
 * until the server closes; resolves the close code, the messages
 * answered, and whether the socket ended. */
async function unmaskedCase(parts, after) {
	const { s, rest } = await rawWebsocket(`http://127.0.0.1:${port}`, after);
	let buf = rest;
	let ended = false, acked = false;
	const ack = () => {
		if (!acked && serverFrames(buf).some((f) => f.op === 8)) {
			acked = true;
			s.write(frame(Buffer.from([0x03, 0xea]), { opcode: 8 }));
		}
	};
	ack();
	const closed = new Promise((resolve) => {
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			ack();
		});
		s.on('end', () => { ended = true; });
		s.on('close', resolve);
		s.on('error', () => {});
	});
	for (const p of parts) {
		s.write(p);
		await new Promise((r) => setTimeout(r, 100));
	}
	const timer = setTimeout(() => s.destroy(), 5000);
	await closed;
	clearTimeout(timer);
	let code = null;
	const replies = [];
	for (const f of serverFrames(buf)) {
		if (f.op === 8 && f.payload.length >= 2)
			code = f.payload.readUInt16BE(0);
		const m = /"in_reply_to":"([^"]*)"/.exec(f.payload.toString());
		if (f.op === 1 && /"type":"reply"/.test(f.payload.toString()))
			replies.push(m && m[1]);
	}
	return { code, replies, ended };
}

const ask = (id, text = 'what causes night leg cramps?') =>
	JSON.stringify({ type: 'message', id, text });

test('an unmasked client frame is closed with 1002 and never answered', async () => {
	/* alone */
	let r = await unmaskedCase([frame(ask('u'), { mask: false })]);
	assert.deepStrictEqual(r, { code: 1002, replies: [], ended: true }, 'alone');
	/* after a masked message, in the same read: the masked one is answered */
	r = await unmaskedCase([Buffer.concat([frame(ask('m1')),
		frame(ask('u'), { mask: false })])]);
	assert.strictEqual(r.code, 1002, 'same read');
	assert.ok(!r.replies.includes('u'), 'same read: answered ' + r.replies);
	/* its header split over two reads, and a long (16-bit length) frame */
	const long = frame(ask('u', 'a'.repeat(300)), { mask: false });
	r = await unmaskedCase([frame(ask('m1', 'b'.repeat(300))), long.slice(0, 1),
		long.slice(1)]);
	assert.strictEqual(r.code, 1002, 'split header');
	assert.deepStrictEqual(r.replies, ['m1'], 'split header');
	/* sent with the request itself, before the 101 */
	r = await unmaskedCase([], frame(ask('u'), { mask: false }));
	assert.deepStrictEqual(r, { code: 1002, replies: [], ended: true }, 'with the request');
	/* an unmasked ping or close is no better */
	r = await unmaskedCase([frame('', { mask: false, opcode: 9 })]);
	assert.strictEqual(r.code, 1002, 'ping');
	/* masked frames, many and split anywhere, are answered as ever */
	const many = Buffer.concat([1, 2, 3].map((i) => frame(ask('k' + i))));
	r = await new Promise((resolve, reject) => {
		rawWebsocket(`http://127.0.0.1:${port}`).then(({ s, rest }) => {
			let buf = rest;
			s.on('data', (d) => {
				buf = Buffer.concat([buf, d]);
				const got = serverFrames(buf).filter((f) => f.op === 1 &&
					/"type":"reply"/.test(f.payload.toString()));
				if (got.length === 3) {
					s.destroy();
					resolve(got.length);
				}
			});
			for (let i = 0; i < many.length; i += 7)
				s.write(many.slice(i, i + 7));
			setTimeout(() => {
				s.destroy();
				reject(new Error('masked frames not answered'));
			}, 5000);
		}, reject);
	});
	assert.strictEqual(r, 3);
});

test('same origin: scheme, host and port of the server, never the Host header', async () => {
	const evilHost = 'rebound.example:' + port;
	/* DNS rebinding: the attacker's page names its own host in Host; it
	 * is closed with 4403 before a frame is read or sent */
	assertOriginRefused(await originRefused(`ws://127.0.0.1:${port}/chat`, {
		origin: 'http://' + evilHost, headers: { host: evilHost } }), 'rebinding');
	assertOriginRefused(await originRefused(`ws://127.0.0.1:${port}/chat`,
		{ origin: `https://127.0.0.1:${port}` }), 'scheme');
	assertOriginRefused(await originRefused(`ws://127.0.0.1:${port}/chat`,
		{ origin: `http://127.0.0.1:${port + 1}` }), 'port');
	const c = await connect(`ws://127.0.0.1:${port}/chat`,
		{ origin: `http://127.0.0.1:${port}` });
	assert.strictEqual((await c.next()).type, 'greeting');
	c.close();
	/* a portal under another name is listed in allowed_origins */
	const p2 = await freePort();
	const b2 = startBot(['serve', '--port', String(p2), '--config',
		writeConfig(dir, { widget: { allowed_origins: ['https://portal.example'] } }),
		...DATA_ARGS], { name: 'http-strict-origins' });
	await b2.ready;
	const ok = await connect(`ws://127.0.0.1:${p2}/chat`,
		{ origin: 'https://portal.example', headers: { host: 'portal.example' } });
	ok.close();
	assertOriginRefused(await originRefused(`ws://127.0.0.1:${p2}/chat`,
		{ origin: 'http://portal.example' }), 'listed with https');
	assert.strictEqual((await b2.stop()).code, 0);
});

test('the bot is still serving and stops cleanly', async () => {
	const r = parse((await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).text);
	assert.strictEqual(r.status, 200);
	assert.strictEqual((await bot.stop()).code, 0);
	assert.doesNotMatch(bot.err, /AddressSanitizer|runtime error/);
});

run();

'use strict';
/*
 * The garbage client of the widget load test, in a process of its own (so
 * its callbacks do not delay the measuring client's event loop): one /chat
 * connection written at full speed (as fast as the socket takes it) with
 * frames the bot must refuse one by one: invalid JSON, frames over the size
 * limit (up to 1 MB, some fragmented), binary frames, invalid UTF-8, JSON
 * that is not a message. The frames are built and masked once, so sending
 * costs the client almost nothing; the server's replies are counted by
 * error code.
 *
 * Driven over IPC by its parent: {cmd: 'on'} / {cmd: 'off'} start and pause
 * the flood, {cmd: 'stop'} ends it and answers with the counts. Bounded: it
 * stops by itself after `maxBytes` or `maxFrames`.
 *
 *   fork(load-garbage.js, [url, origin, maxBytes, maxFrames])
 */
const crypto = require('crypto');
const net = require('net');

const [url, origin, maxBytesArg, maxFramesArg] = process.argv.slice(2);
const MAX_BYTES = Number(maxBytesArg || 512 * 1024 * 1024);
const MAX_FRAMES = Number(maxFramesArg || 2000000);
const { hostname, port, pathname } = new URL(url);

/* one client frame: FIN + opcode, masked payload */
function frame(opcode, payload, fin = true) {
	const len = payload.length;
	const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
	const buf = Buffer.alloc(head + 4 + len);
	buf[0] = (fin ? 0x80 : 0) | opcode;
	if (len < 126) {
		buf[1] = 0x80 | len;
	} else if (len < 65536) {
		buf[1] = 0x80 | 126;
		buf.writeUInt16BE(len, 2);
	} else {
		buf[1] = 0x80 | 127;
		buf.writeBigUInt64BE(BigInt(len), 2);
	}
	const mask = crypto.randomBytes(4);
	mask.copy(buf, head);
	for (let i = 0; i < len; i++)
		buf[head + 4 + i] = payload[i] ^ mask[i & 3];
	return buf;
}
const text = (s) => frame(1, Buffer.isBuffer(s) ? s : Buffer.from(s));

/* Each entry: frames (as one buffer) and how many error replies they earn. */
function catalogue() {
	const items = [];
	const add = (buf, replies, what) => items.push({ buf, replies, what });
	/* invalid JSON */
	for (const s of ['{not json', '{"type": "message", "text": ', '"', ']',
		'{"type":"message","id":"g1","text":"x"}}', 'null null', '{"a":1,}',
		'\u0000', ' '])
		add(text(s), 1, 'invalid_json');
	/* deep nesting, huge numbers, many keys: JSON that is not a message */
	add(text('['.repeat(2000) + ']'.repeat(2000)), 1, 'deep');
	add(text('{"type":"message","id":"g2","text":1e999999}'), 1, 'bad_request');
	add(text(JSON.stringify(Object.fromEntries(Array.from({ length: 200 },
		(_, i) => ['k' + i, i])))), 1, 'bad_request');
	for (const o of [[], 42, { type: 'message' }, { type: 'message', text: '   ' },
		{ type: 'message', id: '', text: 'hi' }, { type: 'message', id: 'x'.repeat(200),
			text: 'hi' }, { type: 'subscribe', id: 'g3' }, { type: 'open' },
		{ type: 'message', id: 'g4', text: ['a'] }])
		add(text(JSON.stringify(o)), 1, 'bad_request');
	/* invalid UTF-8: in the frame, and as escapes that decode to none */
	for (const b of [[0xff, 0xfe, 0xfd], [0xc0, 0xaf], [0xed, 0xa0, 0x80],
		[0xf4, 0x90, 0x80, 0x80], [0x7b, 0x22, 0xe2, 0x82]])
		add(text(Buffer.from(b)), 1, 'invalid_utf8');
	add(text('{"type":"message","id":"g5","text":"\\udc00 lone"}'), 1,
		'invalid_utf8');
	add(text(Buffer.concat([Buffer.from('{"type":"message","id":"g6","text":"caf'),
		Buffer.from([0xc3, 0x28]), Buffer.from('"}')])), 1, 'invalid_utf8');
	/* binary frames */
	add(frame(2, crypto.randomBytes(64)), 1, 'binary');
	add(frame(2, crypto.randomBytes(8192)), 1, 'binary');
	/* over the size limit: 5 KB, 64 KB, 1 MB, and 256 KB in 64 fragments */
	add(text('{"type":"message","id":"big","text":"' + 'a'.repeat(5000) + '"}'), 1,
		'too_large');
	add(text(Buffer.alloc(65536, 0x61)), 1, 'too_large');
	add(text(Buffer.alloc(1 << 20, 0x7b)), 1, 'too_large');
	const parts = [];
	for (let i = 0; i < 64; i++)
		parts.push(frame(i ? 0 : 1, Buffer.alloc(4096, 0x5b), i === 63));
	add(Buffer.concat(parts), 1, 'too_large');
	return items;
}

/* A round: the small items many times, the big ones once. */
const items = catalogue();
const small = items.filter((x) => x.buf.length < 16384);
const big = items.filter((x) => x.buf.length >= 16384);
const round = [];
for (let r = 0; r < 20; r++)
	round.push(...small);
round.push(...big);
const roundBuf = Buffer.concat(round.map((x) => x.buf));
const roundFrames = round.reduce((a, x) => a + x.replies, 0);

const counts = { bytes: 0, frames: 0, rounds: 0, errors: {}, other: 0,
	closes: 0, connects: 0, closeCodes: [] };
let sock = null, on = false, writing = false, rxBuf = Buffer.alloc(0);
let handshaken = false;

function parseServerFrames() {
	for (;;) {
		if (rxBuf.length < 2)
			return;
		const op = rxBuf[0] & 0x0f;
		let len = rxBuf[1] & 0x7f, off = 2;
		if (len === 126) {
			if (rxBuf.length < 4)
				return;
			len = rxBuf.readUInt16BE(2);
			off = 4;
		} else if (len === 127) {
			if (rxBuf.length < 10)
				return;
			len = Number(rxBuf.readBigUInt64BE(2));
			off = 10;
		}
		if (rxBuf.length < off + len)
			return;
		const payload = rxBuf.subarray(off, off + len);
		rxBuf = rxBuf.subarray(off + len);
		if (op === 1) {
			const m = /"code":\s*"([a-z_0-9]+)"/.exec(payload.toString('latin1'));
			if (m)
				counts.errors[m[1]] = (counts.errors[m[1]] || 0) + 1;
			else if (!/"type":\s*"greeting"/.test(payload.toString('latin1')))
				counts.other++;
		} else if (op === 8) {
			counts.closeCodes.push(len >= 2 ? payload.readUInt16BE(0) : 0);
		} else if (op === 9) {
			/* ping: answer with pong */
			if (sock)
				sock.write(frame(10, Buffer.from(payload)));
		}
	}
}

function connect() {
	return new Promise((resolve, reject) => {
		const s = net.connect({ host: hostname, port: Number(port) });
		let head = '';
		handshaken = false;
		s.on('connect', () => {
			counts.connects++;
			s.setNoDelay(true);
			s.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
				'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
				`Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
				`Sec-WebSocket-Version: 13\r\nOrigin: ${origin}\r\n\r\n`);
		});
		s.on('data', (d) => {
			if (!handshaken) {
				head += d.toString('latin1');
				const end = head.indexOf('\r\n\r\n');
				if (end < 0)
					return;
				if (!/^HTTP\/1\.1 101/.test(head)) {
					reject(new Error('upgrade refused: ' + head.split('\r\n')[0]));
					s.destroy();
					return;
				}
				handshaken = true;
				rxBuf = Buffer.from(head.slice(end + 4), 'latin1');
				sock = s;
				resolve();
			} else {
				rxBuf = rxBuf.length ? Buffer.concat([rxBuf, d]) : d;
			}
			parseServerFrames();
		});
		s.on('error', (e) => {
			if (!handshaken)
				reject(e);
		});
		s.on('close', () => {
			if (sock === s) {
				sock = null;
				counts.closes++;
			}
		});
	});
}

function done() {
	return counts.bytes >= MAX_BYTES || counts.frames >= MAX_FRAMES;
}

/* Writes rounds while on, as fast as the socket drains. */
async function flood() {
	if (writing)
		return;
	writing = true;
	try {
		while (on && !done()) {
			if (!sock) {
				/* the bot closed us: note it and come back (bounded) */
				if (counts.connects > 20)
					break;
				await connect();
			}
			const ok = sock.write(roundBuf);
			counts.bytes += roundBuf.length;
			counts.frames += roundFrames;
			counts.rounds++;
			if (!ok) {
				const s = sock;
				await new Promise((r) => {
					const go = () => {
						s.off('drain', go);
						s.off('close', go);
						r();
					};
					s.on('drain', go);
					s.on('close', go);
				});
			}
		}
	} catch (e) {
		process.send({ event: 'error', message: e.message });
	}
	writing = false;
}

process.on('message', async (m) => {
	if (m.cmd === 'on') {
		on = true;
		flood();
	} else if (m.cmd === 'off') {
		on = false;
	} else if (m.cmd === 'stop') {
		on = false;
		/* let the bot answer what is still in the socket buffers: until
		 * every frame has its error, or none came for a second (30 s at
		 * most) */
		const answered = () => Object.values(counts.errors).reduce((a, b) =>
			a + b, 0);
		const end = Date.now() + 30000;
		let last = -1, lastChange = Date.now();
		while (Date.now() < end && answered() < counts.frames) {
			if (answered() !== last) {
				last = answered();
				lastChange = Date.now();
			} else if (Date.now() - lastChange > 1000) {
				break;
			}
			await new Promise((r) => setTimeout(r, 50));
		}
		process.send({ event: 'stats', counts, kinds: items.length,
			roundBytes: roundBuf.length, roundFrames });
		if (sock)
			sock.destroy();
		setTimeout(() => process.exit(0), 100);
	}
});

connect().then(() => process.send({ event: 'ready' }),
	(e) => process.send({ event: 'error', message: e.message }));

'use strict';
/*
 * A small portal chat relay for tests (and for trying the relay mode by
 * hand): browsers connect to /chat on it, the bot dials in to /bot with a
 * bearer token, and the relay tags each browser's frames with a
 * conversation id. It hosts the widget's assets itself, as a portal that
 * serves the installed files would. Loopback only.
 *
 *   node relay.js --port 9000 --token-file FILE [--assets DIR]
 *        [--cert FILE --key FILE]   (wss:// and https:// for the TLS test)
 */
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const { WebSocketServer } = require('ws');

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const MAX_PENDING = 1000;

function startRelay(opts) {
	const assets = opts.assets ||
		path.join(__dirname, '..', '..', 'bot', 'widget', 'assets');
	const events = [];        /* what the tests look at */
	const browsers = new Map(); /* conversation -> browser ws */
	const pending = [];       /* frames for the bot while it is away */
	let bot = null;
	let next = 1;

	function log(ev) {
		events.push(Object.assign({ at: Date.now() }, ev));
		if (opts.verbose)
			console.error('relay:', JSON.stringify(ev));
	}

	function toBot(frame) {
		if (bot && bot.readyState === bot.OPEN)
			bot.send(JSON.stringify(frame));
		else if (pending.length < MAX_PENDING)
			pending.push(frame);
	}

	/* A portal page on this origin embedding the widget from the bot's
	 * own server (opts.embedScript), with no container: the floating
	 * button. Its CSP names the bot's origin, as a portal's would. */
	function serveEmbed(res) {
		const bot = new URL(opts.embedScript);
		const ws = (bot.protocol === 'https:' ? 'wss://' : 'ws://') + bot.host;
		res.writeHead(200, { 'content-type': TYPES['.html'],
			'content-security-policy': `default-src 'none'; script-src 'self' ` +
				`${bot.origin}; style-src 'self' ${bot.origin}; connect-src ` +
				`'self' ${ws}; img-src 'self' data:; base-uri 'none'; ` +
				`frame-ancestors 'none'`,
			'x-content-type-options': 'nosniff' });
		res.end('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
			'<meta name="viewport" content="width=device-width, initial-scale=1">' +
			'<title>Another portal</title><link rel="icon" href="data:,"></head>' +
			'<body><h1>Another portal</h1><p>The widget comes from the bot.</p>' +
			`<script src="${opts.embedScript}" defer></script></body></html>\n`);
	}

	function serveFile(req, res) {
		const url = new URL(req.url, 'http://relay');
		if (url.pathname === '/embed.html' && opts.embedScript) {
			serveEmbed(res);
			return;
		}
		const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
		if (!/^[a-z-]+\.(html|js|css)$/.test(name)) {
			res.writeHead(404, { 'content-type': 'text/plain' });
			res.end('not found\n');
			return;
		}
		fs.readFile(path.join(assets, name), (err, data) => {
			if (err) {
				res.writeHead(404, { 'content-type': 'text/plain' });
				res.end('not found\n');
				return;
			}
			res.writeHead(200, { 'content-type': TYPES[path.extname(name)],
				'content-security-policy': CSP,
				'x-content-type-options': 'nosniff' });
			res.end(data);
		});
	}

	const server = opts.cert ?
		https.createServer({ cert: fs.readFileSync(opts.cert),
			key: fs.readFileSync(opts.key) }, serveFile) :
		http.createServer(serveFile);
	const wssChat = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
	const wssBot = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024,
		handleProtocols: (protocols) =>
			protocols.has('healthbot-relay.v1') ? 'healthbot-relay.v1' : false });

	server.on('upgrade', (req, socket, head) => {
		const url = new URL(req.url, 'http://relay');
		if (url.pathname === '/bot') {
			const auth = req.headers.authorization || '';
			log({ type: 'bot-upgrade', authorized: auth === 'Bearer ' + opts.token,
				query: url.search });
			if (auth !== 'Bearer ' + opts.token) {
				socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
				return;
			}
			wssBot.handleUpgrade(req, socket, head, (ws) => onBot(ws));
		} else if (url.pathname === '/chat') {
			wssChat.handleUpgrade(req, socket, head, (ws) => onBrowser(ws));
		} else {
			socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
		}
	});

	function onBot(ws) {
		if (bot)
			bot.terminate();
		bot = ws;
		log({ type: 'bot-connected' });
		while (pending.length)
			ws.send(JSON.stringify(pending.shift()));
		ws.on('message', (data) => {
			let f;
			try {
				f = JSON.parse(data);
			} catch (e) {
				log({ type: 'bot-bad-frame' });
				return;
			}
			log({ type: 'from-bot', frame: f });
			const b = browsers.get(f.conversation);
			if (f.type === 'undelivered') {
				if (b)
					b.send(JSON.stringify({ type: 'error', code: 'undelivered',
						in_reply_to: f.in_reply_to, message: 'A reply was lost ' +
						'on the way. Please ask again.' }));
				return;
			}
			if (!b)
				return;
			const out = Object.assign({}, f);
			delete out.conversation;
			b.send(JSON.stringify(out));
		});
		ws.on('close', () => {
			if (bot === ws)
				bot = null;
			log({ type: 'bot-closed' });
		});
		ws.on('error', () => {});
	}

	function onBrowser(ws) {
		const conversation = 'c' + next++;
		browsers.set(conversation, ws);
		log({ type: 'browser-open', conversation });
		toBot({ type: 'open', conversation });
		ws.on('message', (data, isBinary) => {
			let f;
			try {
				f = isBinary ? null : JSON.parse(data);
			} catch (e) {
				f = null;
			}
			if (!f || typeof f !== 'object') {
				ws.send(JSON.stringify({ type: 'error', code: 'invalid_json',
					message: 'That frame is not valid JSON.' }));
				return;
			}
			toBot(Object.assign({}, f, { conversation }));
		});
		ws.on('close', () => {
			browsers.delete(conversation);
			toBot({ type: 'close', conversation });
		});
		ws.on('error', () => {});
	}

	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(opts.port, opts.host || '127.0.0.1', () => {
			resolve({
				events,
				port: server.address().port,
				botConnected: () => !!bot,
				sendToBot: (frame) => toBot(frame),
				bot: () => bot,
				close: () => new Promise((done) => {
					for (const c of wssChat.clients)
						c.terminate();
					for (const c of wssBot.clients)
						c.terminate();
					server.close(() => done());
					/* keep-alive HTTP connections would hold close() open */
					server.closeAllConnections();
				}),
			});
		});
	});
}

module.exports = { startRelay };

if (require.main === module) {
	const arg = (name, def) => {
		const i = process.argv.indexOf(name);
		return i > 0 ? process.argv[i + 1] : def;
	};
	const tokenFile = arg('--token-file');
	if (!tokenFile) {
		console.error('usage: node relay.js --port N --token-file FILE ' +
			'[--assets DIR] [--cert FILE --key FILE]');
		process.exit(2);
	}
	startRelay({ port: Number(arg('--port', '9000')), assets: arg('--assets'),
		token: fs.readFileSync(tokenFile, 'utf8').trim(), cert: arg('--cert'),
		key: arg('--key'), verbose: true }).then((r) => {
		console.log('relay: http://127.0.0.1:' + r.port + '/ (bot dials ' +
			'ws://127.0.0.1:' + r.port + '/bot)');
	});
}

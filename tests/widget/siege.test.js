'use strict';
/*
 * Issue 11: "one hostile source holding 5,000 connections must not stop a
 * fresh browser from chatting". The hostile client binds 127.0.0.2, one
 * source to the bot; Debian's chromium (playwright-core) opens the demo
 * page from 127.0.0.1 and chats while the siege goes on.
 *
 * 1. Defaults: the hostile source asks for 5,000 websockets and opens
 *    5,000 sockets that never send a request, and floods what it gets.
 *    It holds 20 websockets and 20 request heads; the rest are refused
 *    (503 source_busy), and logged once.
 * 2. max_connections_per_source raised to 5,000 (say a hospital behind
 *    one NAT address): the hostile source takes every slot and keeps
 *    sending on all of them. Messages the rate limit refuses do not make a
 *    connection less quiet, so the quietest is closed (4000 idle) and the
 *    browser gets in.
 */
const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const { chromium } = require('playwright-core');
const WebSocket = require('ws');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, DATA_ARGS, ARTEFACTS, live } = require('./lib');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HOSTILE = '127.0.0.2';
const N = 5000;
const CRAMPS = 'what causes night leg cramps?';
const CHEST = "my chest hurts and I can't breathe";
const dir = tmpdir();
let context;

async function serve(widget, name) {
	const port = await freePort();
	const bot = startBot(['serve', '--port', String(port), '--config',
		writeConfig(dir, { widget }), ...DATA_ARGS], { name, timeoutMs: 30000 });
	await bot.ready;
	return { bot, port, url: `ws://127.0.0.1:${port}/chat`,
		origin: `http://127.0.0.1:${port}` };
}

/* n websockets from the hostile address, 250 at a time; keeps those the
 * bot accepts. */
async function besiege(s, n) {
	const held = [], refused = {};
	for (let start = 0; start < n; start += 250) {
		await Promise.all(Array.from({ length: Math.min(250, n - start) }, () =>
			new Promise((resolve) => {
				const ws = new WebSocket(s.url, { origin: s.origin,
					localAddress: HOSTILE, perMessageDeflate: false,
					handshakeTimeout: 60000 });
				ws.closedWith = null;
				ws.on('open', () => {
					held.push(ws);
					resolve();
				});
				ws.on('unexpected-response', (req, res) => {
					const why = res.headers['x-healthbot-refused'] || res.statusCode;
					refused[why] = (refused[why] || 0) + 1;
					req.destroy();
					resolve();
				});
				ws.on('message', () => {});
				ws.on('close', (code, reason) => {
					ws.closedWith = { code, reason: reason.toString() };
				});
				ws.on('error', () => resolve());
			})));
	}
	live.add({ stop: async () => held.forEach((ws) => ws.terminate()) });
	return { held, refused };
}

/* Every held connection sends a question every periodMs, spread out. */
function flood(held, periodMs) {
	let i = 0;
	const tick = 20;
	const each = Math.max(1, Math.ceil(held.length * tick / periodMs));
	const timer = setInterval(() => {
		for (let k = 0; k < each; k++) {
			const ws = held[i++ % held.length];
			if (ws.readyState === WebSocket.OPEN)
				ws.send(JSON.stringify({ type: 'message', id: 'h', text: CRAMPS }));
		}
	}, tick);
	return () => clearInterval(timer);
}

/* n sockets from the hostile address that never send a request. */
async function silent(s, n) {
	const socks = [];
	for (let start = 0; start < n; start += 500) {
		await Promise.all(Array.from({ length: Math.min(500, n - start) }, () =>
			new Promise((resolve) => {
				const k = net.connect({ host: '127.0.0.1', port: s.port,
					localAddress: HOSTILE }, resolve);
				k.answer = '';
				k.closedByServer = false;
				k.on('data', (d) => { k.answer += d; });
				k.on('close', () => { k.closedByServer = true; resolve(); });
				k.on('error', () => resolve());
				socks.push(k);
			})));
	}
	live.add({ stop: async () => socks.forEach((k) => k.destroy()) });
	return socks;
}

function metric(port, name) {
	return new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port,
		path: '/metrics', localAddress: '127.0.0.3' }, (res) => {
		let body = '';
		res.on('data', (d) => { body += d; });
		res.on('end', () => {
			const m = new RegExp('^' + name + ' (\\d+)', 'm').exec(body);
			resolve(m ? Number(m[1]) : null);
		});
	}).on('error', reject));
}

/* The browser, from 127.0.0.1: opens the page, asks, sees the answers. */
async function chat(s, shotName) {
	const page = await context.newPage();
	const problems = [];
	page.on('pageerror', (e) => problems.push(e.message));
	const t0 = Date.now();
	try {
		await page.goto(s.origin + '/');
		await page.waitForSelector('.hb-widget[data-state="online"]',
			{ timeout: 20000 });
		const ask = async (text) => {
			const before = await page.locator('.hb-bot').count();
			await page.locator('.hb-input').fill(text);
			await page.locator('.hb-input').press('Enter');
			await page.locator('.hb-bot').nth(before).waitFor({ timeout: 10000 });
			return page.locator('.hb-bot').nth(before).innerText();
		};
		assert.match(await ask(CRAMPS), /Causes/);
		await ask(CHEST);
		await page.locator('.hb-alert').waitFor({ state: 'visible', timeout: 5000 });
		assert.match(await ask(CRAMPS), /leg cramps/i);
		await page.screenshot({ path: path.join(ARTEFACTS, shotName + '.png') });
		assert.deepStrictEqual(problems, []);
		return Date.now() - t0;
	} finally {
		await page.close();
	}
}

test('launch chromium', async () => {
	const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
	context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM, headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--no-first-run'] });
	live.add({ stop: () => context.close() });
});

test('defaults: 5,000 websockets and 5,000 silent sockets from one source; a browser chats', async () => {
	const s = await serve({}, 'siege-defaults');
	const { held, refused } = await besiege(s, N);
	assert.strictEqual(held.length, 20, 'held ' + held.length + ', refused ' +
		JSON.stringify(refused));
	assert.strictEqual(refused.source_busy, N - 20, JSON.stringify(refused));
	const stop = flood(held, 100);
	const socks = await silent(s, N);
	await waitFor('the silent sockets to be answered', () =>
		socks.filter((k) => k.closedByServer).length >= N - 20, 30000);
	/* 20 heads in progress at most (cut after 10 s) */
	assert.ok(socks.filter((k) => !k.closedByServer).length <= 20);
	assert.ok(socks.filter((k) => k.closedByServer).every((k) => k.answer === '' ||
		/^HTTP\/1\.1 503 .*x-healthbot-refused: source_busy/s.test(k.answer)));
	try {
		const took = await chat(s, 'siege-defaults');
		assert.ok(took < 20000, 'the browser took ' + took + ' ms');
	} finally {
		stop();
	}
	assert.ok(held.every((ws) => ws.readyState === WebSocket.OPEN ||
		ws.closedWith.code === 1008), 'only the 1008 of a flooder');
	/* 9,960 refusals, one log line; no address */
	assert.strictEqual((s.bot.err.match(/event=widget_refused/g) || []).length, 1);
	assert.doesNotMatch(s.bot.err, /127\.0\.0\.2/);
	held.forEach((ws) => ws.terminate());
	socks.forEach((k) => k.destroy());
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('one source in every one of 5,000 slots, sending on all of them: a browser still chats', async () => {
	const s = await serve({ max_connections_per_source: N, evict_idle_after: 5 },
		'siege-full');
	const { held, refused } = await besiege(s, N);
	assert.strictEqual(held.length, N, 'refused ' + JSON.stringify(refused));
	assert.strictEqual(await metric(s.port, 'healthbot_widget_clients'), N);
	/* each connection sends every 2 s: none is quiet for 5 s by the clock,
	 * but the source's budget answers few of them */
	const stop = flood(held, 2000);
	try {
		await sleep(6000);
		const took = await chat(s, 'siege-full');
		assert.ok(took < 30000, 'the browser took ' + took + ' ms');
	} finally {
		stop();
	}
	const idle = held.filter((ws) => ws.closedWith && ws.closedWith.code === 4000);
	assert.ok(idle.length >= 1, 'a hostile connection was closed as idle');
	assert.ok(idle.every((ws) => ws.closedWith.reason === 'idle'));
	held.forEach((ws) => ws.terminate());
	assert.strictEqual((await s.bot.stop()).code, 0);
});

test('chromium closes', async () => {
	await context.close();
});

run();

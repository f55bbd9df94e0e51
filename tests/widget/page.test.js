'use strict';
/*
 * The widget page under the issue 11 defects, in Debian's chromium driven
 * by playwright-core against the real `healthbot serve`: a refused page is
 * told so and stops retrying (busy and network loss keep retrying), a
 * page closed as the quietest (4000) waits for its patient to type and
 * then reconnects, 200 % text at 1280x800 and 320x568 clips nothing, the
 * emergency banner folds to one line, one live region announces an
 * emergency, the configured numbers are tel: links, and axe-core finds
 * nothing at 100 % and 200 % text.
 * Screenshots go to the test artefacts directory.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');
const WebSocket = require('ws');
const { assert, test, run, sleep, waitFor, freePort, tmpdir, writeConfig,
	startBot, connect, DATA_ARGS, ARTEFACTS, ROOT, live } = require('./lib');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CRAMPS = 'what causes night leg cramps?';
const CHEST = "my chest hurts and I can't breathe";
const CRISIS = 'I want to kill myself';
/* not the defaults (911, 988): the page must take them from the bot */
const NUMBERS = { emergency_number: '112', crisis_number: '116 123' };
const dir = tmpdir();
const problems = [];
let context, page, port, bot, sockets = 0;

async function newPage(viewport, textPx = 16) {
	if (page)
		await page.close();
	page = await context.newPage();
	await page.setViewportSize(viewport);
	page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(m.text()))
			problems.push('console: ' + m.text());
	});
	page.on('websocket', () => { sockets++; });
	/* the reader's text size, as chromium's font size setting sets it
	 * (WCAG 1.4.4 "resize text"), not page zoom */
	const cdp = await context.newCDPSession(page);
	await cdp.send('Page.setFontSizes', { fontSizes: { standard: textPx,
		fixed: Math.round(textPx * 13 / 16) } });
	return page;
}

async function openDemo(viewport, textPx) {
	await newPage(viewport, textPx);
	await page.goto(`http://127.0.0.1:${port}/`);
	await page.waitForSelector('.hb-widget[data-state="online"]', { timeout: 20000 });
	await page.locator('.hb-bot').first().waitFor();
	const root = await page.evaluate(() =>
		getComputedStyle(document.documentElement).fontSize);
	assert.strictEqual(root, textPx + 'px', 'text size applied');
}

async function ask(text) {
	const before = await page.locator('.hb-bot').count();
	await page.locator('.hb-input').fill(text);
	await page.locator('.hb-input').press('Enter');
	await page.locator('.hb-bot').nth(before).waitFor({ timeout: 10000 });
	return page.locator('.hb-bot').nth(before);
}

/* Boxes of the widget's parts, in viewport pixels, the widget scrolled
 * into view first. */
async function geometry() {
	await page.evaluate(() => document.querySelector('.hb-widget')
		.scrollIntoView({ block: 'center' }));
	return page.evaluate(() => {
		const box = (sel) => {
			const e = document.querySelector(sel);
			if (!e || e.hidden)
				return null;
			const r = e.getBoundingClientRect();
			return { top: r.top, bottom: r.bottom, left: r.left, right: r.right,
				height: r.height, width: r.width };
		};
		const w = document.querySelector('.hb-widget');
		const line = parseFloat(getComputedStyle(document.querySelector('.hb-log')).lineHeight);
		const folded = document.querySelector('.hb-alert-line');
		return { widget: box('.hb-widget'), log: box('.hb-log'), send: box('.hb-send'),
			input: box('.hb-input'), alert: box('.hb-alert'), line,
			alertLine: folded ? parseFloat(getComputedStyle(folded).lineHeight) : 0,
			scrolls: w.scrollHeight > w.clientHeight + 1,
			docWidth: document.documentElement.scrollWidth,
			vw: window.innerWidth, vh: window.innerHeight };
	});
}

function inside(inner, outer, what) {
	assert.ok(inner && outer, what + ': missing');
	assert.ok(inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5 &&
		inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5,
		what + ': ' + JSON.stringify({ inner, outer }));
}

function viewport(g) {
	return { top: 0, left: 0, bottom: g.vh, right: g.vw };
}

async function shot(name) {
	await page.screenshot({ path: path.join(ARTEFACTS, name + '.png') });
}

/* Which live regions would read out the escalation: text not aria-hidden
 * and not hidden, inside role=log/alert/status or aria-live. */
function announcers() {
	return page.evaluate(() => {
		const all = document.querySelectorAll('.hb-escalation .hb-body');
		const esc = all[all.length - 1];
		const needle = esc.textContent.trim().slice(0, 30);
		const spoken = (node) => {
			let s = '';
			for (const n of node.childNodes) {
				if (n.nodeType === 3) {
					s += n.nodeValue;
				} else if (n.nodeType === 1 && n.getAttribute('aria-hidden') !== 'true' &&
						!n.hidden && getComputedStyle(n).display !== 'none') {
					s += spoken(n);
				}
			}
			return s;
		};
		return [...document.querySelectorAll('[role="log"], [role="alert"], ' +
			'[role="status"], [aria-live]')]
			.filter((r) => r.getAttribute('aria-live') !== 'off' &&
				!r.closest('[aria-hidden="true"]') && spoken(r).includes(needle))
			.map((r) => r.getAttribute('role') || 'aria-live');
	});
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
async function axe(what) {
	/* evaluate() is not subject to the page's CSP, a script tag would be */
	await page.evaluate(AXE);
	/* preload: false, or axe fetches the bot's stylesheet itself, which
	 * a portal on another origin may not read */
	const result = await page.evaluate(() => window.axe.run(document,
		{ resultTypes: ['violations'], preload: false }));
	const found = result.violations.map((v) => v.id + ' (' + v.impact + '): ' +
		v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', '));
	assert.deepStrictEqual(found, [], what + ': axe violations');
}

/* A portal on another origin than the bot embedding the widget, with a
 * CSP that lets it reach the bot as the protocol doc says. */
function startPortal() {
	const server = http.createServer((req, res) => {
		const url = new URL(req.url, 'http://portal');
		const botPort = Number(url.searchParams.get('bot'));
		const bot = `127.0.0.1:${botPort}`;
		res.writeHead(200, { 'content-type': 'text/html; charset=utf-8',
			'content-security-policy': `default-src 'none'; script-src http://${bot}; ` +
				`style-src http://${bot}; connect-src http://${bot} ws://${bot}; ` +
				`img-src data:; base-uri 'none'; frame-ancestors 'none'` });
		res.end('<!doctype html><html lang="en"><head><meta charset="utf-8">' +
			'<title>Portal</title><link rel="icon" href="data:,"></head><body>' +
			'<main><h1>Portal</h1>' + (url.searchParams.get('float') ? '' :
				'<div id="healthbot-widget"></div>') + '</main>' +
			`<script src="http://${bot}/healthbot-widget.js" defer></script>` +
			'</body></html>');
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
		const p = { port: server.address().port,
			stop: () => new Promise((r) => {
				server.close(r);
				server.closeAllConnections(); /* the browser keeps them alive */
			}) };
		live.add(p);
		resolve(p);
	}));
}

test('launch chromium; the bot serves with its own emergency numbers', async () => {
	port = await freePort();
	bot = startBot(['serve', '--port', String(port), '--config',
		writeConfig(dir, NUMBERS), ...DATA_ARGS], { name: 'page-bot' });
	await bot.ready;
	const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
	context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--no-first-run'],
	});
	live.add({ stop: () => context.close() });
	await openDemo({ width: 1280, height: 800 }, 16);
});

test('axe: no violations on the idle page at 100 % text', async () => {
	await axe('idle, 100 %');
});

test('an emergency is announced by exactly one live region, the alert', async () => {
	await ask(CHEST);
	await page.locator('.hb-alert').waitFor({ state: 'visible' });
	assert.deepStrictEqual(await announcers(), ['alert']);
	/* the transcript still shows it */
	assert.ok(await page.locator('.hb-escalation').isVisible());
});

test('the configured numbers are tel: links in the escalation and the banner', async () => {
	assert.strictEqual(await page.locator('.hb-alert-msg a[href="tel:112"]').count(), 1);
	assert.strictEqual(await page.locator('.hb-escalation a[href="tel:112"]').count(), 1);
	assert.strictEqual(await page.locator('.hb-alert-msg a[href="tel:112"]').innerText(), '112');
	/* nothing hard-coded: the defaults appear nowhere */
	assert.doesNotMatch(await page.locator('.hb-widget').innerText(), /911|988/);
	await ask(CRISIS);
	await page.waitForFunction(() =>
		document.querySelector('.hb-alert-msg a[href="tel:116123"]'));
	assert.strictEqual(await page.locator('.hb-alert-msg a[href="tel:116123"]').innerText(),
		'116 123');
	assert.strictEqual(await page.locator('.hb-alert-msg a[href="tel:112"]').count(), 1);
	assert.deepStrictEqual(await announcers(), ['alert']);
	/* an answer from an article gets no links */
	const answer = await ask(CRAMPS);
	assert.strictEqual(await answer.locator('a').count(), 0);
});

test('axe: no violations with an emergency shown at 100 % text', async () => {
	await page.locator('.hb-alert-toggle').click();
	assert.strictEqual(await page.locator('.hb-alert-toggle').getAttribute('aria-expanded'), 'true');
	await axe('emergency expanded, 100 %');
	await page.locator('.hb-alert-toggle').click();
	await axe('emergency folded, 100 %');
});

test('320x568: the banner folds to one line with the number, the transcript keeps room', async () => {
	await openDemo({ width: 320, height: 568 }, 16);
	await ask(CHEST);
	const full = await geometry();
	await shot('page-320-emergency');
	inside(full.send, full.widget, 'send in widget');
	await ask(CRAMPS);
	const g = await geometry();
	await shot('page-320-folded');
	assert.ok(g.alert.height <= g.alertLine * 1.5 + 16,
		'banner is one line: ' + JSON.stringify(g.alert) + ' line ' + g.alertLine);
	assert.ok(await page.locator('.hb-alert-line a[href="tel:112"]').isVisible(),
		'the number is on the folded line');
	assert.ok(!(await page.locator('.hb-alert-msg').isVisible()));
	assert.ok(g.log.height >= 8 * g.line, 'transcript ' + g.log.height +
		' px, line ' + g.line + ' px');
	assert.ok(g.log.height > full.log.height, 'folding gave the transcript room');
	inside(g.send, g.widget, 'send in widget');
	inside(g.widget, viewport(g), 'widget in viewport');
	assert.ok(g.docWidth <= 320, 'page width ' + g.docWidth);
	/* the folded banner opens again from its button, announced once */
	await page.locator('.hb-alert-toggle').click();
	assert.ok(await page.locator('.hb-alert-msg').isVisible());
	assert.deepStrictEqual(await announcers(), ['alert']);
});

test('200 % text at 1280x800: Send fully visible and usable, idle and with an emergency', async () => {
	await openDemo({ width: 1280, height: 800 }, 32);
	let g = await geometry();
	await shot('page-1280-200-idle');
	assert.ok(!g.scrolls, 'the widget fits without scrolling');
	inside(g.send, g.widget, 'send in widget');
	inside(g.input, g.widget, 'input in widget');
	inside(g.widget, viewport(g), 'widget in viewport');
	assert.ok(g.log.height >= 3 * g.line, 'transcript ' + g.log.height);
	await axe('idle, 200 %');
	await ask(CHEST);
	g = await geometry();
	await shot('page-1280-200-emergency');
	assert.ok(!g.scrolls, 'the widget fits without scrolling, banner open');
	inside(g.send, g.widget, 'send in widget, banner open');
	assert.ok(g.log.height >= 3 * g.line, 'transcript ' + g.log.height);
	await axe('emergency, 200 %');
	/* the mouse reaches Send */
	await page.locator('.hb-input').fill(CRAMPS);
	const before = await page.locator('.hb-bot').count();
	await page.locator('.hb-send').click();
	await page.locator('.hb-bot').nth(before).waitFor();
	g = await geometry();
	await shot('page-1280-200-folded');
	assert.ok(!g.scrolls, 'the widget fits, banner folded');
	inside(g.send, g.widget, 'send in widget, banner folded');
	assert.ok(g.log.height >= 5 * g.line, 'transcript ' + g.log.height);
	await axe('emergency folded, 200 %');
});

test('200 % text at 320x568: nothing cut off, Send reachable and usable', async () => {
	await openDemo({ width: 320, height: 568 }, 32);
	await ask(CHEST);
	await ask(CRAMPS);
	await page.locator('.hb-send').scrollIntoViewIfNeeded();
	const g = await page.evaluate(() => {
		const w = document.querySelector('.hb-widget').getBoundingClientRect();
		const over = [...document.querySelectorAll('.hb-widget *')].filter((e) => {
			const r = e.getBoundingClientRect();
			return r.width && (r.right > w.right + 0.5 || r.left < w.left - 0.5) &&
				!e.closest('.hb-visually-hidden');
		}).map((e) => e.className);
		const s = document.querySelector('.hb-send').getBoundingClientRect();
		return { over, send: { top: s.top, bottom: s.bottom, left: s.left, right: s.right },
			vh: window.innerHeight, vw: window.innerWidth,
			docWidth: document.documentElement.scrollWidth };
	});
	await shot('page-320-200');
	assert.deepStrictEqual(g.over, [], 'wider than the widget');
	inside(g.send, viewport(g), 'send in viewport');
	assert.ok(g.docWidth <= 320, 'page width ' + g.docWidth);
	await page.locator('.hb-input').fill(CRAMPS);
	const before = await page.locator('.hb-bot').count();
	await page.locator('.hb-send').click();
	await page.locator('.hb-bot').nth(before).waitFor();
	await axe('emergency, 320x568, 200 %');
});

test('503 busy keeps retrying with the "kept and sent" notice, then chats', async () => {
	const busyPort = await freePort();
	const busy = startBot(['serve', '--port', String(busyPort), '--config',
		writeConfig(dir, { widget: { max_connections: 1 } }), ...DATA_ARGS],
	{ name: 'page-busy-bot' });
	await busy.ready;
	const holder = await connect(`ws://127.0.0.1:${busyPort}/chat`,
		{ origin: `http://127.0.0.1:${busyPort}` });
	await newPage({ width: 1280, height: 800 });
	const start = sockets;
	await page.goto(`http://127.0.0.1:${busyPort}/`);
	await page.waitForSelector('.hb-widget[data-state="offline"]');
	assert.match(await page.locator('.hb-offline').innerText(), /kept and sent when the chat is back/);
	await waitFor('a third attempt', () => sockets - start >= 3, 15000);
	assert.match(busy.err + busy.out, /reason=busy/);
	assert.strictEqual(await page.locator('.hb-widget[data-state="refused"]').count(), 0);
	holder.close();
	await page.waitForSelector('.hb-widget[data-state="online"]', { timeout: 20000 });
	assert.ok(!(await page.locator('.hb-offline').isVisible()));
	assert.match(await (await ask(CRAMPS)).innerText(), /Causes/);
	assert.strictEqual((await busy.stop()).code, 0);
});

test('evicted as the quietest (4000 idle): the page pauses, then reconnects when the patient types', async () => {
	const fullPort = await freePort();
	const full = startBot(['serve', '--port', String(fullPort), '--config',
		writeConfig(dir, { widget: { max_connections: 1, evict_idle_after: 1 } }),
		...DATA_ARGS], { name: 'page-evict-bot' });
	await full.ready;
	await newPage({ width: 1280, height: 800 });
	const start = sockets;
	await page.goto(`http://127.0.0.1:${fullPort}/`);
	await page.waitForSelector('.hb-widget[data-state="online"]', { timeout: 20000 });
	await sleep(1500);
	/* another patient arrives at a full server: the page is closed */
	const other = await connect(`ws://127.0.0.1:${fullPort}/chat`,
		{ origin: `http://127.0.0.1:${fullPort}`, localAddress: '127.0.0.2' });
	await page.waitForSelector('.hb-widget[data-state="paused"]', { timeout: 5000 });
	assert.match(await page.locator('.hb-offline').innerText(), /reconnects when you type/);
	await sleep(3000);
	assert.strictEqual(sockets - start, 1, 'no reconnect until the patient types');
	assert.strictEqual(await page.locator('.hb-widget[data-state="paused"]').count(), 1);
	/* the other patient is quiet too by now: typing gets the page back */
	await sleep(1000);
	const answer = await ask(CRAMPS);
	assert.match(await answer.innerText(), /Causes/);
	assert.strictEqual(sockets - start, 2);
	await waitFor('the other closed', () => other.closed, 5000);
	assert.deepStrictEqual(other.closed, { code: 4000, reason: 'idle' });
	assert.strictEqual((await full.stop()).code, 0);
});

test('a portal the bot does not allow (close 4403) is told plainly and stops retrying', async () => {
	const portal = await startPortal();
	await newPage({ width: 1280, height: 800 });
	const start = sockets;
	await page.goto(`http://127.0.0.1:${portal.port}/?bot=${port}`);
	await page.waitForSelector('.hb-widget[data-state="refused"]', { timeout: 5000 });
	const notice = await page.locator('.hb-offline').innerText();
	assert.match(notice, /This chat is not available on this page\./);
	assert.doesNotMatch(notice, /kept|reconnecting/i);
	assert.strictEqual(await page.locator('.hb-status').innerText(), 'Not available');
	assert.ok(await page.locator('.hb-input').isDisabled());
	assert.match(bot.err + bot.out, /status=4403 reason=origin/);
	/* told at once: the first attempt is refused for good */
	const tries = sockets - start;
	assert.strictEqual(tries, 1, tries + ' attempts');
	await sleep(6000);
	assert.strictEqual(sockets - start, tries, 'no retry after the refusal');
	await shot('page-refused');
	await axe('refused');
	/* "Try again" asks once more and is refused at once */
	await page.locator('.hb-retry').click();
	await waitFor('one more attempt', () => sockets - start === tries + 1, 5000);
	await page.waitForSelector('.hb-widget[data-state="refused"]');
	await portal.stop();
});

test('an allowed portal on another origin is not mistaken for a refused one', async () => {
	const portal = await startPortal();
	const okPort = await freePort();
	const ok = startBot(['serve', '--port', String(okPort), '--config',
		writeConfig(dir, { widget: { allowed_origins: [`http://127.0.0.1:${portal.port}`] } }),
		...DATA_ARGS], { name: 'page-allowed-bot' });
	await ok.ready;
	await newPage({ width: 1280, height: 800 });
	await page.goto(`http://127.0.0.1:${portal.port}/?bot=${okPort}`);
	await page.waitForSelector('.hb-widget[data-state="online"]', { timeout: 20000 });
	/* and a bot that goes away is network loss, not a refusal */
	assert.strictEqual((await ok.stop()).code, 0);
	await page.waitForSelector('.hb-widget[data-state="offline"]');
	await sleep(9000); /* several failed attempts */
	assert.strictEqual(await page.locator('.hb-widget[data-state="refused"]').count(), 0);
	assert.match(await page.locator('.hb-offline').innerText(), /kept and sent/);
	await portal.stop();
});

test('200 % text at 320x568: the floating panel stays on screen above its button', async () => {
	const portal = await startPortal();
	const okPort = await freePort();
	const ok = startBot(['serve', '--port', String(okPort), '--config',
		writeConfig(dir, { widget: { allowed_origins: [`http://127.0.0.1:${portal.port}`] } }),
		...DATA_ARGS], { name: 'page-floating-bot' });
	await ok.ready;
	await newPage({ width: 320, height: 568 }, 32);
	await page.goto(`http://127.0.0.1:${portal.port}/?float=1&bot=${okPort}`);
	await page.locator('.hb-launcher').click();
	await page.waitForSelector('.hb-widget[data-state="online"]', { timeout: 20000 });
	await ask(CHEST);
	await ask(CRAMPS);
	const g = await page.evaluate(() => {
		const box = (e) => {
			const r = e.getBoundingClientRect();
			return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
		};
		return { panel: box(document.querySelector('.hb-widget')),
			launcher: box(document.querySelector('.hb-launcher')),
			vh: window.innerHeight, vw: window.innerWidth };
	});
	await shot('page-320-200-floating');
	inside(g.panel, viewport(g), 'panel on screen');
	assert.ok(g.panel.bottom <= g.launcher.top, 'panel above its button ' +
		JSON.stringify(g));
	await page.locator('.hb-send').scrollIntoViewIfNeeded();
	const send = await page.locator('.hb-send').boundingBox();
	inside({ top: send.y, bottom: send.y + send.height, left: send.x,
		right: send.x + send.width }, g.panel, 'send in panel');
	await axe('floating panel, 320x568, 200 %');
	assert.strictEqual((await ok.stop()).code, 0);
	await portal.stop();
});

test('a close code 4400-4499 after the handshake stops the widget at once', async () => {
	/* the bot sends 4403 (above); any code of the range counts: a
	 * stand-in server that serves the widget's own files and refuses
	 * every chat with 4401 */
	const assets = path.join(ROOT, 'bot', 'widget', 'assets');
	const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
	const server = http.createServer((req, res) => {
		const name = req.url === '/' ? 'index.html' : req.url.slice(1);
		if (!/^[a-z-]+\.(html|js|css)$/.test(name)) {
			res.writeHead(404);
			res.end();
			return;
		}
		res.writeHead(200, { 'content-type': types[path.extname(name)] });
		res.end(fs.readFileSync(path.join(assets, name)));
	});
	const wss = new WebSocket.Server({ server, path: '/chat' });
	wss.on('connection', (ws) => ws.close(4401, 'not allowed'));
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	live.add({ stop: () => new Promise((r) => {
		wss.close();
		server.close(r);
		server.closeAllConnections();
	}) });
	await newPage({ width: 1280, height: 800 });
	const start = sockets;
	await page.goto(`http://127.0.0.1:${server.address().port}/`);
	await page.waitForSelector('.hb-widget[data-state="refused"]', { timeout: 10000 });
	assert.match(await page.locator('.hb-offline').innerText(), /not available on this page/);
	await sleep(3000);
	assert.strictEqual(sockets - start, 1, 'one attempt, no retry');
});

test('no page errors or CSP violations', async () => {
	assert.deepStrictEqual(problems, []);
	assert.strictEqual((await bot.stop()).code, 0);
	await context.close();
});

run();

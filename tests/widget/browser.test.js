'use strict';
/*
 * The widget in a real browser: Debian's chromium driven by playwright-core,
 * first against `healthbot serve`, then through the test relay with the bot
 * dialled out (`healthbot run` with a relay section). Loopback only;
 * screenshots go to the test artefacts directory.
 */
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { assert, test, run, sleep, freePort, tmpdir, writeConfig, startBot,
	DATA_ARGS, ARTEFACTS, live } = require('./lib');
const { startRelay } = require('./relay');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CRAMPS = 'what causes night leg cramps?';
const CHEST = "my chest hurts and I can't breathe";
const XSS = '<script>alert(1)</script>';
const dir = tmpdir();
let context, page, port, bot;
const dialogs = [];
const problems = [];   /* console errors, CSP reports, page errors */
const requests = [];

async function newPage(viewport) {
	if (page)
		await page.close();
	page = await context.newPage();
	await page.setViewportSize(viewport);
	page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
	page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
	page.on('console', (m) => {
		if (m.type() === 'error' && !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(m.text()))
			problems.push('console: ' + m.text());
	});
	page.on('request', (r) => requests.push(r.url()));
	return page;
}

/* Types into the widget's box and sends with the keyboard. */
async function ask(text) {
	const before = await page.locator('.hb-bot').count();
	await page.locator('.hb-input').fill(text);
	await page.locator('.hb-input').press('Enter');
	await page.locator('.hb-bot').nth(before).waitFor({ timeout: 10000 });
	return page.locator('.hb-bot').nth(before);
}

async function waitState(state, timeout = 20000) {
	await page.waitForSelector(`.hb-widget[data-state="${state}"]`, { timeout });
}

function serveBot(name) {
	return startBot(['serve', '--port', String(port), ...DATA_ARGS], { name });
}

test('launch chromium and open the demo page', async () => {
	port = await freePort();
	bot = serveBot('browser-bot-1');
	await bot.ready;
	const profile = fs.mkdtempSync(path.join(dir, 'profile-'));
	/* a fresh profile: playwright passes it as --user-data-dir */
	context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--no-first-run'],
	});
	live.add({ stop: () => context.close() });
	await newPage({ width: 1280, height: 900 });
	await page.goto(`http://127.0.0.1:${port}/`);
	await waitState('online');
	await page.locator('.hb-bot').first().waitFor();
	assert.match(await page.locator('.hb-bot').first().innerText(), /health/i);
});

test('transcript is a polite live log; the note and controls are there', async () => {
	const log = page.locator('[role="log"]');
	assert.strictEqual(await log.count(), 1);
	assert.strictEqual(await log.getAttribute('aria-live'), 'polite');
	assert.match(await page.locator('.hb-note').innerText(),
		/general information, not medical advice/i);
	assert.strictEqual(await page.locator('label[for]').count() >= 1, true);
	const labelled = await page.evaluate(() => {
		const input = document.querySelector('.hb-input');
		return !!document.querySelector(`label[for="${input.id}"]`);
	});
	assert.ok(labelled, 'the text box has a label');
});

test('asks about night leg cramps and sees the Causes answer with its source', async () => {
	const reply = await ask(CRAMPS);
	assert.match(await reply.locator('.hb-body').innerText(), /Causes/);
	assert.match(await reply.locator('.hb-source').innerText(),
		/^Source: Night leg cramps, Mayo Clinic \(updated .+\)$/);
	/* the patient's own words are shown too */
	assert.strictEqual(await page.locator('.hb-user .hb-body').last().innerText(), CRAMPS);
});

test('an emergency is shown as a pinned alert with role="alert"', async () => {
	const reply = await ask(CHEST);
	assert.match(await reply.getAttribute('class'), /hb-escalation/);
	const alert = page.locator('[role="alert"]');
	await alert.waitFor({ state: 'visible' });
	assert.match(await alert.innerText(), /emergency|911/i);
	/* it stays visible while the conversation goes on, folded to one
	 * line with the number to call (tests/widget/page.test.js has more) */
	await ask(CRAMPS);
	await ask('how do I prevent them?');
	assert.ok(await page.locator('.hb-alert').isVisible(), 'banner still visible');
	assert.ok(await page.locator('.hb-alert-line a[href="tel:911"]').isVisible(),
		'the number is still there');
});

test('user text is rendered as text: <script> shows literally, no dialog', async () => {
	await ask(XSS);
	assert.strictEqual(await page.locator('.hb-user .hb-body').last().innerText(), XSS);
	assert.strictEqual(await page.locator('.hb-log script').count(), 0);
	await sleep(300);
	assert.deepStrictEqual(dialogs, []);
});

test('a message too long for the server stays in the box', async () => {
	const long = '\u00e9'.repeat(1950); /* under maxlength, over 3800 bytes */
	await page.locator('.hb-input').fill(long);
	await page.locator('.hb-input').press('Enter');
	await page.locator('.hb-system.hb-error').last().waitFor();
	assert.match(await page.locator('.hb-system.hb-error').last().innerText(), /too long/);
	assert.strictEqual(await page.locator('.hb-input').inputValue(), long);
	await page.locator('.hb-input').fill('');
});

test('keyboard only: Tab reaches the box and the send button, focus is visible', async () => {
	await page.locator('.hb-input').focus();
	await page.keyboard.type('hello');
	await page.keyboard.press('Tab');
	const focused = await page.evaluate(() => {
		const el = document.activeElement;
		const st = getComputedStyle(el);
		return { cls: el.className, outline: st.outlineStyle, width: st.outlineWidth };
	});
	assert.strictEqual(focused.cls, 'hb-send');
	assert.notStrictEqual(focused.outline, 'none');
	assert.notStrictEqual(focused.width, '0px');
	const before = await page.locator('.hb-bot').count();
	await page.keyboard.press('Enter');
	await page.locator('.hb-bot').nth(before).waitFor();
	await page.screenshot({ path: path.join(ARTEFACTS, 'widget-desktop.png'), fullPage: true });
	await page.locator('.hb-widget').screenshot({ path: path.join(ARTEFACTS, 'widget.png') });
});

test('the server restarts: offline notice, reconnect, nothing typed is lost', async () => {
	assert.strictEqual((await bot.stop()).code, 0);
	await waitState('offline');
	assert.ok(await page.locator('.hb-offline').isVisible(), 'offline notice');
	/* a question sent while offline waits; a draft stays in the box */
	await page.locator('.hb-input').fill(CRAMPS);
	await page.locator('.hb-input').press('Enter');
	assert.strictEqual(await page.locator('.hb-user.hb-waiting').count(), 1);
	const draft = 'and does stretching help';
	await page.locator('.hb-input').fill(draft);
	const before = await page.locator('.hb-bot').count();
	bot = serveBot('browser-bot-2');
	await bot.ready;
	await waitState('online');
	const reply = page.locator('.hb-bot').nth(before);
	await reply.waitFor({ timeout: 10000 });
	assert.match(await reply.innerText(), /Causes/);
	assert.strictEqual(await page.locator('.hb-input').inputValue(), draft);
	assert.strictEqual(await page.locator('.hb-user.hb-waiting').count(), 0);
	assert.ok(!(await page.locator('.hb-offline').isVisible()), 'notice gone');
	const again = await ask(CRAMPS);
	assert.match(await again.innerText(), /Causes/);
});

test('readable at 360 px wide: no horizontal scrolling', async () => {
	await newPage({ width: 360, height: 740 });
	await page.goto(`http://127.0.0.1:${port}/`);
	await waitState('online');
	await ask(CRAMPS);
	const sizes = await page.evaluate(() => ({
		doc: document.documentElement.scrollWidth,
		widget: document.querySelector('.hb-widget').getBoundingClientRect().width,
		send: document.querySelector('.hb-send').getBoundingClientRect().right,
	}));
	assert.ok(sizes.doc <= 360, 'page width ' + sizes.doc);
	assert.ok(sizes.widget <= 360 && sizes.send <= 360, JSON.stringify(sizes));
	await page.screenshot({ path: path.join(ARTEFACTS, 'widget-360.png'), fullPage: true });
});

test('no third-party requests, no cookies, no CSP violations', async () => {
	const foreign = requests.filter((u) => !u.startsWith(`http://127.0.0.1:${port}/`) &&
		!u.startsWith(`ws://127.0.0.1:${port}/`) && !u.startsWith('data:'));
	assert.deepStrictEqual(foreign, []);
	assert.deepStrictEqual(await context.cookies(), []);
	assert.deepStrictEqual(problems, []);
	assert.strictEqual((await bot.stop()).code, 0);
});

test('a portal on another origin embeds the widget with one script tag', async () => {
	const portalPort = await freePort();
	port = await freePort();
	bot = startBot(['serve', '--port', String(port), '--config',
		writeConfig(dir, { widget: { allowed_origins: [`http://127.0.0.1:${portalPort}`] } }),
		...DATA_ARGS], { name: 'browser-embed-bot' });
	await bot.ready;
	const portal = await startRelay({ port: portalPort, token: 'unused',
		embedScript: `http://127.0.0.1:${port}/healthbot-widget.js` });
	await newPage({ width: 1024, height: 800 });
	await page.goto(`http://127.0.0.1:${portalPort}/embed.html`);
	/* no container on the page: a button opens the chat */
	const launcher = page.locator('.hb-launcher');
	await launcher.waitFor();
	assert.strictEqual(await launcher.getAttribute('aria-expanded'), 'false');
	const look = await launcher.evaluate((b) => {
		const st = getComputedStyle(b);
		return { bg: st.backgroundColor, fg: st.color };
	});
	assert.notStrictEqual(look.bg, 'rgba(0, 0, 0, 0)', 'the button has its colour');
	assert.notStrictEqual(look.bg, look.fg);
	assert.ok(!(await page.locator('.hb-widget').isVisible()));
	await launcher.focus();
	await page.keyboard.press('Enter');
	assert.strictEqual(await launcher.getAttribute('aria-expanded'), 'true');
	await waitState('online');
	const focused = await page.evaluate(() => document.activeElement.className);
	assert.strictEqual(focused, 'hb-input');
	const reply = await ask(CRAMPS);
	assert.match(await reply.locator('.hb-source').innerText(), /^Source: Night leg cramps/);
	await page.screenshot({ path: path.join(ARTEFACTS, 'widget-embedded.png') });
	await page.keyboard.press('Escape');
	assert.strictEqual(await launcher.getAttribute('aria-expanded'), 'false');
	assert.strictEqual(await page.evaluate(() => document.activeElement.className),
		'hb-launcher');
	assert.deepStrictEqual(problems, []);
	await portal.close();
	assert.strictEqual((await bot.stop()).code, 0);
});

/* ---- the same, through the relay, with the bot dialled out ---- */

let relay, relayPort, relayBot;
const token = 'browser-relay-' + Math.random().toString(36).slice(2);

test('through the relay: answer with source and the alert', async () => {
	relayPort = await freePort();
	const tokenFile = path.join(dir, 'token');
	fs.writeFileSync(tokenFile, token + '\n');
	relay = await startRelay({ port: relayPort, token });
	relayBot = startBot(['run', '--config', writeConfig(dir, {
		widget: { enabled: false },
		relay: { url: `ws://127.0.0.1:${relayPort}/bot`, token_file: tokenFile },
	}), ...DATA_ARGS], { ready: /event=relay_connected/, name: 'browser-relay-bot' });
	await relayBot.ready;
	port = relayPort;
	await newPage({ width: 1280, height: 900 });
	await page.goto(`http://127.0.0.1:${relayPort}/`);
	await waitState('online');
	await page.locator('.hb-bot').first().waitFor();
	const reply = await ask(CRAMPS);
	assert.match(await reply.locator('.hb-body').innerText(), /Causes/);
	assert.match(await reply.locator('.hb-source').innerText(), /^Source: Night leg cramps/);
	await ask(CHEST);
	await page.locator('[role="alert"]').waitFor({ state: 'visible' });
	await ask(XSS);
	assert.strictEqual(await page.locator('.hb-user .hb-body').last().innerText(), XSS);
	assert.deepStrictEqual(dialogs, []);
});

test('through the relay: a relay restart, the widget and the bot both come back', async () => {
	await relay.close();
	await waitState('offline');
	await page.locator('.hb-input').fill('typed while the relay was away');
	relay = await startRelay({ port: relayPort, token });
	await waitState('online', 30000);
	await waitFor(() => relay.botConnected());
	assert.strictEqual(await page.locator('.hb-input').inputValue(),
		'typed while the relay was away');
	const reply = await ask(CRAMPS);
	assert.match(await reply.innerText(), /Causes/);
	await page.locator('.hb-widget').screenshot({ path: path.join(ARTEFACTS, 'widget-relay.png') });
	assert.deepStrictEqual(problems, []);
	assert.strictEqual((await relayBot.stop()).code, 0);
	await relay.close();
	await context.close();
});

async function waitFor(fn, timeout = 20000) {
	const end = Date.now() + timeout;
	while (!fn()) {
		if (Date.now() > end)
			throw new Error('timed out');
		await sleep(50);
	}
}

run();

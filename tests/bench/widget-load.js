'use strict';
/*
 * Load generator for the widget server (a benchmark, not a test): starts
 * `healthbot serve` on a free loopback port, opens N websocket connections,
 * sends questions at a fixed total rate (open loop, each connection on its
 * own phase) and reports reply latency p50/p90/p99/max and the server's
 * peak RSS (VmHWM from /proc). Loopback only; stops by itself.
 *
 *   node tests/bench/widget-load.js [--connections 500] [--rate 2000]
 *        [--seconds 10] [--healthbot build/bot/healthbot]
 *
 * Needs the ws package: NODE_PATH=build/tests/widget/node_modules, or
 * `npm ci` in tests/widget.
 */
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
let WebSocket;
try {
	WebSocket = require('ws');
} catch (e) {
	WebSocket = require(path.join(ROOT, 'tests', 'widget', 'node_modules', 'ws'));
}

function arg(name, def) {
	const i = process.argv.indexOf('--' + name);
	return i > 0 ? process.argv[i + 1] : def;
}
const CONNECTIONS = Number(arg('connections', 500));
const RATE = Number(arg('rate', 2000));
const SECONDS = Number(arg('seconds', 10));
const HEALTHBOT = path.resolve(arg('healthbot', process.env.HEALTHBOT ||
	path.join(ROOT, 'build', 'bot', 'healthbot')));
const QUESTIONS = ['what causes night leg cramps?', 'how do I prevent them?',
	'when should I see a doctor about leg cramps?', 'hello',
	"my chest hurts and I can't breathe", 'what is the treatment for gout?'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

function rssOf(pid) {
	const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = (key) => Number((status.match(new RegExp(key + ':\\s+(\\d+)')) || [])[1]);
	return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/* user + system CPU seconds of a process */
function cpuOf(pid) {
	const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
	return (Number(f[11]) + Number(f[12])) / 100;
}

function pct(sorted, p) {
	if (!sorted.length)
		return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function main() {
	const port = await freePort();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-bench-'));
	const config = path.join(dir, 'config.json');
	/* the rate limit is for people; the benchmark measures the server */
	fs.writeFileSync(config, JSON.stringify({ log_level: 'warn', widget: {
		max_connections: CONNECTIONS + 100, rate_burst: 10000,
		rate_per_minute: 1000000,
		/* every client is on 127.0.0.1: one source to the bot */
		max_connections_per_source: CONNECTIONS + 100,
		source_rate_burst: 10000000, source_rate_per_minute: 10000000 } }));
	const bot = spawn(HEALTHBOT, ['serve', '--port', String(port), '--config',
		config, '--content', path.join(ROOT, 'content'),
		'--intents', path.join(ROOT, 'intents')], { stdio: ['ignore', 'pipe', 'inherit'] });
	await new Promise((resolve, reject) => {
		bot.stdout.on('data', (d) => { if (/chat widget at/.test(d)) resolve(); });
		bot.on('exit', (c) => reject(new Error('healthbot exited ' + c)));
	});
	const idle = rssOf(bot.pid);
	const url = `ws://127.0.0.1:${port}/chat`;
	const origin = `http://127.0.0.1:${port}`;
	const sentAt = new Map();
	const latencies = [];
	let errors = 0, replies = 0, nextId = 0;

	const t0 = Date.now();
	const conns = await Promise.all(Array.from({ length: CONNECTIONS }, () =>
		new Promise((resolve, reject) => {
			const ws = new WebSocket(url, { origin, perMessageDeflate: false });
			ws.on('open', () => resolve(ws));
			ws.on('error', reject);
			ws.on('message', (data) => {
				const f = JSON.parse(data);
				if (f.type === 'reply' || f.type === 'error') {
					const t = sentAt.get(f.in_reply_to);
					if (t !== undefined) {
						latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
						sentAt.delete(f.in_reply_to);
					}
					if (f.type === 'reply')
						replies++;
					else
						errors++;
				}
			});
		})));
	const connectMs = Date.now() - t0;
	const afterConnect = rssOf(bot.pid);

	/* open loop: connection i sends every CONNECTIONS/RATE s, phase-shifted */
	const interval = 1000 * CONNECTIONS / RATE;
	const timers = conns.map((ws, i) => {
		let q = i;
		const tick = () => {
			const id = 'b' + nextId++;
			sentAt.set(id, process.hrtime.bigint());
			ws.send(JSON.stringify({ type: 'message', id,
				text: QUESTIONS[q++ % QUESTIONS.length] }));
		};
		return { start: setTimeout(() => {
			tick();
			timers[i].every = setInterval(tick, interval);
		}, (i * interval) / CONNECTIONS) };
	});
	const cpu0 = cpuOf(bot.pid);
	let peak = afterConnect.rss;
	const sampler = setInterval(() => { peak = Math.max(peak, rssOf(bot.pid).rss); }, 200);
	await sleep(SECONDS * 1000);
	for (const t of timers) {
		clearTimeout(t.start);
		clearInterval(t.every);
	}
	await sleep(1000); /* let the last replies arrive */
	clearInterval(sampler);
	const end = rssOf(bot.pid);
	const cpu = cpuOf(bot.pid) - cpu0;
	const sent = nextId;
	for (const ws of conns)
		ws.terminate();
	bot.kill('SIGTERM');
	await new Promise((r) => bot.on('exit', r));

	latencies.sort((a, b) => a - b);
	const f = (x) => x.toFixed(2);
	console.log(`connections        ${CONNECTIONS} (opened in ${connectMs} ms)`);
	console.log(`target rate        ${RATE} messages/s for ${SECONDS} s`);
	console.log(`sent / answered    ${sent} / ${replies} (errors ${errors}, ` +
		`unanswered ${sentAt.size})`);
	console.log(`achieved rate      ${(replies / SECONDS).toFixed(0)} replies/s`);
	console.log(`latency ms         p50 ${f(pct(latencies, 0.5))}  p90 ` +
		`${f(pct(latencies, 0.9))}  p99 ${f(pct(latencies, 0.99))}  max ` +
		`${f(latencies[latencies.length - 1] || NaN)}`);
	console.log(`server CPU         ${cpu.toFixed(2)} s in ${SECONDS + 1} s ` +
		`(${(100 * cpu / (SECONDS + 1)).toFixed(0)} % of one core), load ` +
		os.loadavg().map((x) => x.toFixed(2)).join(' '));
	console.log(`server RSS MB      idle ${(idle.rss / 1024).toFixed(1)}  ` +
		`connected ${(afterConnect.rss / 1024).toFixed(1)}  peak ` +
		`${(Math.max(peak, end.hwm) / 1024).toFixed(1)} (VmHWM)`);
	fs.rmSync(dir, { recursive: true, force: true });
	process.exit(sentAt.size || errors ? 1 : 0);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});

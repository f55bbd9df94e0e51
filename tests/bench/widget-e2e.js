'use strict';
/*
 * Widget end to end (a benchmark, not a test): for 1, 100, 1,000 and 5,000
 * websocket connections on loopback, each against a fresh `healthbot serve`
 * (so the RSS is that of N connections):
 *
 *   paced       open loop at a fixed total rate (--rate, 1,000/s), the
 *               connections taking turns: reply latency p50/p99 at a
 *               realistic load;
 *   saturated   closed loop, every connection keeping one message in
 *               flight (the next is sent when its reply arrives): the most
 *               replies per second N connections get, and latency then.
 *
 * Messages are the load test's realistic mix (tests/widget/load-lib.js).
 * Latency is measured in the node client, send to reply frame, so it
 * includes the client's event loop; client and server share the machine.
 * The server's CPU time per paced message (us/msg) shows what each open
 * connection costs the event loop. All connections come from 127.0.0.1,
 * so the per-source limits are raised with the others. Prints a table
 * (markdown) for BENCHMARKS.md.
 *
 *   NODE_PATH=build/tests/widget/node_modules node tests/bench/widget-e2e.js \
 *       [--healthbot build/bot/healthbot] [--connections 1,100,1000,5000]
 *       [--seconds 5] [--rate 1000]
 */
const os = require('os');
const path = require('path');
const L = require(path.join(__dirname, '..', 'widget', 'load-lib.js'));

function arg(name, def) {
	const i = process.argv.indexOf('--' + name);
	return i > 0 ? process.argv[i + 1] : def;
}
const COUNTS = String(arg('connections', '1,100,1000,5000')).split(',').map(Number);
const SECONDS = Number(arg('seconds', 5));
const RATE = Number(arg('rate', 1000));
const HEALTHBOT = path.resolve(arg('healthbot', L.HEALTHBOT));

async function measure(n) {
	const srv = await L.startServer({ connections: n, healthbot: HEALTHBOT,
		widget: { max_connections_per_source: n + 50,
			source_rate_burst: 10000000, source_rate_per_minute: 10000000 } });
	if (srv.skip)
		return { n, skip: srv.skip };
	const idleKb = srv.status().rssKb;
	const scripts = L.makeScripts(8, 100);
	let mode = null;
	const lat = { paced: [], saturated: [] };
	let saturatedOn = false;
	const { conns, stats } = await L.openConnections(srv, n, { scripts,
		reference: null,
		onReply: (c, k, ms) => {
			lat[mode].push(ms);
			if (saturatedOn)
				L.sendNext(c);
		} });
	const wait = async (fn, ms) => {
		const end = Date.now() + ms;
		while (!fn() && Date.now() < end)
			await L.sleep(10);
	};
	await wait(() => stats.greetings >= n, 30000);
	const connectedKb = srv.status().rssKb;

	/* paced: message j goes at j / RATE s, to connection j % n */
	mode = 'paced';
	const total = Math.round(RATE * SECONDS);
	let cpu0 = srv.cpu();
	let t0 = L.nowMs();
	let next = 0;
	while (next < total) {
		const t = L.nowMs() - t0;
		while (next < total && next * 1000 / RATE <= t)
			L.sendNext(conns[next++ % n]);
		await L.sleep(1);
	}
	await wait(() => stats.replies >= total, 30000);
	const pacedCpu = srv.cpu() - cpu0;
	const pacedS = (L.nowMs() - t0) / 1000;

	/* saturated: one in flight per connection */
	mode = 'saturated';
	const before = stats.replies;
	cpu0 = srv.cpu();
	saturatedOn = true;
	t0 = L.nowMs();
	for (const c of conns)
		L.sendNext(c);
	await L.sleep(SECONDS * 1000);
	saturatedOn = false;
	const satMs = L.nowMs() - t0;
	const satReplies = stats.replies - before;
	const satCpu = srv.cpu() - cpu0;
	await wait(() => conns.every((c) => c.answered >= c.sent), 30000);
	const st = srv.status();
	L.closeAll(conns);
	await srv.stop();
	const p = L.summary(lat.paced), s = L.summary(lat.saturated);
	return { n, total, pacedS, pacedCpu, p, s, satReplies, satMs, satCpu,
		idleKb, connectedKb, hwmKb: st.hwmKb,
		errors: stats.errors.length + stats.mismatches.length };
}

async function main() {
	const rows = [];
	for (const n of COUNTS) {
		const r = await measure(n);
		rows.push(r);
		if (r.skip) {
			console.log(`${n} connections: skipped (${r.skip})`);
			continue;
		}
		console.log(`${n} connections: paced ${r.total} at ${RATE}/s p50 ` +
			`${L.fmtMs(r.p.p50)} p99 ${L.fmtMs(r.p.p99)} (server ` +
			`${(100 * r.pacedCpu / r.pacedS).toFixed(0)} % of a core, ` +
			`${(1e6 * r.pacedCpu / r.total).toFixed(0)} us/msg); saturated ` +
			`${(r.satReplies / r.satMs * 1000).toFixed(0)} replies/s p50 ` +
			`${L.fmtMs(r.s.p50)} p99 ${L.fmtMs(r.s.p99)} (server ` +
			`${(100 * r.satCpu / r.satMs * 1000).toFixed(0)} %); RSS ` +
			`${(r.connectedKb / 1024).toFixed(1)} MB connected, peak ` +
			`${(r.hwmKb / 1024).toFixed(1)} MB; errors ${r.errors}`);
	}
	const f = (x) => x.toFixed(2);
	console.log('');
	console.log(`| connections | paced ${RATE}/s: p50 | p99 | server CPU | CPU per message | ` +
		'saturated: replies/s | p50 | p99 | server CPU | RSS connected | peak RSS |');
	console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
	for (const r of rows) {
		if (r.skip)
			continue;
		console.log(`| ${r.n} | ${f(r.p.p50)} ms | ${f(r.p.p99)} ms | ` +
			`${(100 * r.pacedCpu / r.pacedS).toFixed(0)} % | ` +
			`${(1e6 * r.pacedCpu / r.total).toFixed(0)} us | ` +
			`${(r.satReplies / r.satMs * 1000).toFixed(0)} | ${f(r.s.p50)} ms | ` +
			`${f(r.s.p99)} ms | ${(100 * r.satCpu / r.satMs * 1000).toFixed(0)} % | ` +
			`${(r.connectedKb / 1024).toFixed(1)} MB | ${(r.hwmKb / 1024).toFixed(1)} MB |`);
	}
	console.log(`\n(${SECONDS} s per measurement; load average ` +
		os.loadavg().map((x) => x.toFixed(2)).join(' ') + ` at the end; ` +
		`${os.cpus().length} CPUs, ${os.cpus()[0].model})`);
	process.exit(rows.some((r) => r.errors) ? 1 : 0);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});

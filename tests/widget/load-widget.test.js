'use strict';
/*
 * Widget load test (issue 6, "Faults and load"), loopback only:
 *
 * - 1,000 concurrent /chat connections, 100 messages each (realistic mix
 *   from the utterance set, with follow-ups that need the connection's own
 *   context): the first BURST of each connection's messages pipelined back
 *   to back (10,000 in flight), the rest paced open loop. Every message must
 *   get its reply, in order, after a typing frame, identical to the reply
 *   the same conversation gets alone on an idle server; no error frames, no
 *   closes. The server's peak RSS (VmHWM) is reported.
 * - One more client floods garbage at full speed (invalid JSON, frames up
 *   to 1 MB over the size limit, binary, invalid UTF-8, non-messages) in
 *   alternating 1 s windows during the paced phase; the others' p99
 *   latency with the flood on (the median of the windows' p99s) must stay
 *   within max(2 x p99 without it, p99 without it + 5 ms). Every garbage
 *   frame must get its error frame.
 *
 * The rate limit is raised for this server (a load test measures the
 * server, not the limit; it also means the garbage is not cut off after 50
 * refusals but has to be read and answered, the harder case).
 *
 * Bounded: parameters below (env HB_LOAD_*); every wait has a generous
 * deadline; figures are printed as TAP comments. On a busy 2-core machine
 * it takes about a minute.
 */
const path = require('path');
const { fork } = require('child_process');
const { assert, test, run, live, ARTEFACTS } = require('./lib');
const L = require('./load-lib');

const env = (k, d) => Number(process.env['HB_LOAD_' + k] || d);
const N = env('CONNECTIONS', 1000);
const M = env('MESSAGES', 100);
const BURST = Math.min(M, env('BURST', 10));
const RATE = env('RATE', 3000);           /* paced messages/s, all connections */
const WINDOW_MS = env('WINDOW_MS', 1000); /* garbage on/off windows */
const SETTLE_MS = env('SETTLE_MS', 250);  /* samples right after a switch are
                                             not compared */
const FLOOR_MS = env('FLOOR_MS', 5);
const SCRIPTS = 8;

let srv, scripts, reference, conns, stats, garbage;
const log = (...a) => console.log('# ' + a.join(' '));
let garbageStats = null;

function waitUntil(what, fn, timeoutMs) {
	return new Promise((resolve, reject) => {
		const end = Date.now() + timeoutMs;
		const tick = () => {
			if (fn())
				return resolve();
			if (Date.now() > end)
				return reject(new Error('timed out after ' + timeoutMs + ' ms ' +
					'waiting for ' + what));
			setTimeout(tick, 20);
		};
		tick();
	});
}

function assertClean(where) {
	assert.deepStrictEqual(stats.errors, [], where + ': error frames or closes');
	assert.deepStrictEqual(stats.mismatches, [], where + ': wrong or out-of-order replies');
}

test('start healthbot serve with room for ' + N + ' connections', async () => {
	const lim = L.fdLimits();
	log(`fd limit of the test: soft ${lim.soft} hard ${lim.hard}; needs ~${N + 200} ` +
		'for the server and as many for the client');
	srv = await L.startServer({ connections: N + 1,
		logFile: path.join(ARTEFACTS, 'load-widget.log') });
	if (srv.skip)
		return { skip: srv.skip };
	live.add(srv); /* stopped on the way out, whatever happens */
	log(`server fd soft limit ${srv.fdSoftLimit}; RSS idle ` +
		`${(srv.status().rssKb / 1024).toFixed(1)} MB`);
	scripts = L.makeScripts(SCRIPTS, M);
	reference = await L.referenceAnswers(srv, scripts);
	const kinds = {};
	for (const r of reference)
		for (const k of r.keys)
			kinds[k.split('|')[0]] = (kinds[k.split('|')[0]] || 0) + 1;
	log('message mix (reference replies by kind): ' + JSON.stringify(kinds));
	assert.ok(kinds.answer > kinds.escalation, 'mostly answers');
});

test(`open ${N} connections`, async () => {
	if (!srv || srv.skip)
		return { skip: 'no server' };
	const t0 = Date.now();
	({ conns, stats } = await L.openConnections(srv, N, { scripts, reference,
		onReply: (c, k, ms) => onReply(c, k, ms) }));
	await waitUntil('the greetings', () => stats.greetings >= N, 60000);
	const st = srv.status();
	log(`${N} connections open in ${Date.now() - t0} ms; server fds ${srv.fds()}, ` +
		`RSS ${(st.rssKb / 1024).toFixed(1)} MB`);
	assertClean('connecting');
});

/* latency samples: [all], and paced ones by garbage state at send time */
const lat = { burst: [], clean: [], garbage: [], settling: [] };
let phase = 'burst';
const tagOf = new Map(); /* "conn/msg" -> [bucket, window] for paced ones */
const perWindow = [];     /* window -> latencies (not settling) */
function onReply(c, k, ms) {
	if (phase === 'burst') {
		lat.burst.push(ms);
		return;
	}
	const key = c.i * M + k;
	const tag = tagOf.get(key);
	if (tag) {
		lat[tag[0]].push(ms);
		if (tag[0] !== 'settling')
			(perWindow[tag[1]] = perWindow[tag[1]] || []).push(ms);
		tagOf.delete(key);
	}
}

test(`pipelined: ${BURST} messages on each connection at once ` +
	`(${N * BURST} in flight)`, async () => {
	if (!conns)
		return { skip: 'no connections' };
	const cpu0 = srv.cpu(), t0 = L.nowMs();
	for (const c of conns)
		for (let k = 0; k < BURST; k++)
			L.sendNext(c);
	await waitUntil('the pipelined replies', () => stats.replies >= N * BURST ||
		stats.errors.length, 120000);
	const ms = L.nowMs() - t0;
	const s = L.summary(lat.burst);
	log(`${N * BURST} replies in ${ms.toFixed(0)} ms = ` +
		`${(N * BURST / ms * 1000).toFixed(0)} replies/s; latency p50 ` +
		`${L.fmtMs(s.p50)} p99 ${L.fmtMs(s.p99)} max ${L.fmtMs(s.max)}; server CPU ` +
		`${(srv.cpu() - cpu0).toFixed(2)} s`);
	assertClean('pipelined');
	assert.strictEqual(stats.replies, N * BURST);
});

test('garbage client connects', async () => {
	if (!conns)
		return { skip: 'no connections' };
	garbage = fork(path.join(__dirname, 'load-garbage.js'),
		[srv.url, srv.origin, String(env('GARBAGE_BYTES', 1 << 30)),
			String(env('GARBAGE_FRAMES', 5000000))], { stdio: 'inherit' });
	garbage.events = [];
	const g = garbage;
	live.add({ stop: async () => g.kill('SIGKILL') });
	garbage.on('message', (m) => {
		garbage.events.push(m);
		if (m.event === 'stats')
			garbageStats = m;
	});
	await waitUntil('the garbage client', () => garbage.events.length > 0, 20000);
	assert.strictEqual(garbage.events[0].event, 'ready',
		JSON.stringify(garbage.events[0]));
});

test(`paced: ${M - BURST} more messages each at ${RATE}/s in total, garbage ` +
	`flood in alternate ${WINDOW_MS} ms windows`, async () => {
	if (!garbage)
		return { skip: 'no garbage client' };
	phase = 'paced';
	const P = M - BURST;
	const total = N * P;
	const spacing = 1000 / RATE;
	const cpu0 = srv.cpu();
	const lag = L.loopLag();
	let next = 0, garbageOn = false, switches = 0;
	const t0 = L.nowMs();
	await new Promise((resolve) => {
		const tick = () => {
			const t = L.nowMs() - t0;
			const w = Math.floor(t / WINDOW_MS);
			const want = w % 2 === 1;
			if (want !== garbageOn) {
				garbageOn = want;
				switches++;
				garbage.send({ cmd: want ? 'on' : 'off' });
			}
			const settling = t - w * WINDOW_MS < SETTLE_MS;
			const bucket = settling ? 'settling' : garbageOn ? 'garbage' : 'clean';
			while (next < total && next * spacing <= t) {
				const c = conns[next % N];
				const k = L.sendNext(c);
				tagOf.set(c.i * M + k, [bucket, w]);
				next++;
			}
			if (next >= total)
				return resolve();
			setTimeout(tick, 2);
		};
		tick();
	});
	garbage.send({ cmd: 'off' });
	const sendMs = L.nowMs() - t0;
	await waitUntil('every paced reply', () => stats.replies >= N * M ||
		stats.errors.length > 0, 60000 + 10 * 1000 * total / RATE);
	const lagMs = lag.stop();
	const cpu = srv.cpu() - cpu0;
	const doneMs = L.nowMs() - t0;
	const all = L.summary([...lat.clean, ...lat.garbage, ...lat.settling]);
	log(`${total} messages sent in ${sendMs.toFixed(0)} ms, all answered after ` +
		`${doneMs.toFixed(0)} ms (${(total / doneMs * 1000).toFixed(0)} replies/s); ` +
		`${switches} garbage switches`);
	log(`latency all     p50 ${L.fmtMs(all.p50)} p90 ${L.fmtMs(all.p90)} p99 ` +
		`${L.fmtMs(all.p99)} max ${L.fmtMs(all.max)}`);
	for (const b of ['clean', 'garbage']) {
		const s = L.summary(lat[b]);
		log(`latency ${b.padEnd(8)}n ${s.n} p50 ${L.fmtMs(s.p50)} p90 ` +
			`${L.fmtMs(s.p90)} p99 ${L.fmtMs(s.p99)} max ${L.fmtMs(s.max)}`);
	}
	log(`server CPU ${cpu.toFixed(2)} s (${(100 * cpu / doneMs * 1000).toFixed(0)} % ` +
		`of a core); client event-loop lag max ${lagMs.toFixed(1)} ms; load ` +
		require('os').loadavg().map((x) => x.toFixed(2)).join(' '));
	assertClean('paced');
	assert.strictEqual(stats.replies, N * M, 'every message answered');
});

test('garbage: every frame refused with an error, connection kept', async () => {
	if (!garbage)
		return { skip: 'no garbage client' };
	/* wait until the bot has answered what is still in the socket buffers */
	garbage.send({ cmd: 'stop' });
	await waitUntil('the garbage client\'s counts', () => garbageStats, 30000);
	const g = garbageStats.counts;
	const answered = Object.values(g.errors).reduce((a, b) => a + b, 0);
	log(`garbage: ${g.frames} frames (${(g.bytes / 1048576).toFixed(0)} MB, ` +
		`${garbageStats.kinds} kinds) in ${g.rounds} rounds; answered ${answered}: ` +
		JSON.stringify(g.errors) + `; closes ${g.closes} ${JSON.stringify(g.closeCodes)}`);
	assert.ok(g.frames >= 1000, 'the flood ran: ' + g.frames + ' frames');
	assert.strictEqual(g.closes, 0, 'the garbage connection stays open');
	assert.strictEqual(g.other, 0, 'only error frames answer garbage');
	assert.strictEqual(answered, g.frames, 'one error frame for each garbage frame');
});

/*
 * The comparison: p99 per window, then the median over the windows with
 * the flood against the median over those without. A machine shared with
 * other builds has bursts of its own; a burst spoils a window or two, not
 * the median, where pooling all samples would let it decide the p99.
 */
test('p99 with the garbage flood within max(2x, +' + FLOOR_MS + ' ms) of p99 ' +
	'without', async () => {
	if (!lat.clean.length)
		return { skip: 'no paced phase' };
	const p99s = { clean: [], garbage: [] };
	perWindow.forEach((v, w) => {
		if (v && v.length >= 100)
			p99s[w % 2 ? 'garbage' : 'clean'].push(L.summary(v).p99);
	});
	const median = (a) => L.summary(a).p50;
	const clean = median(p99s.clean), dirty = median(p99s.garbage);
	const pooled = [L.summary(lat.clean).p99, L.summary(lat.garbage).p99];
	const bound = Math.max(2 * clean, clean + FLOOR_MS);
	log(`p99 per window, median over ${p99s.clean.length} windows without the ` +
		`flood ${L.fmtMs(clean)}, over ${p99s.garbage.length} with it ` +
		`${L.fmtMs(dirty)}: ratio ${(dirty / clean).toFixed(2)}, bound ` +
		`${L.fmtMs(bound)} (all samples pooled: ${L.fmtMs(pooled[0])} and ` +
		`${L.fmtMs(pooled[1])}, ratio ${(pooled[1] / pooled[0]).toFixed(2)})`);
	assert.ok(p99s.clean.length >= 3 && p99s.garbage.length >= 3,
		'enough windows on both sides');
	/* under ASan the server is several times slower and the ratio says
	 * more about the machine than about fairness: reported only */
	if (process.env.ASAN_OPTIONS)
		return { skip: 'ASan build: p99 ratio reported, not asserted' };
	assert.ok(dirty <= bound, `p99 ${L.fmtMs(dirty)} with the flood > ` +
		`${L.fmtMs(bound)}`);
});

test('server RSS and a clean shutdown', async () => {
	if (!srv || srv.skip)
		return { skip: 'no server' };
	const st = srv.status();
	log(`server RSS now ${(st.rssKb / 1024).toFixed(1)} MB, peak (VmHWM) ` +
		`${(st.hwmKb / 1024).toFixed(1)} MB with ${N} connections + garbage`);
	if (!process.env.ASAN_OPTIONS)
		assert.ok(st.hwmKb < 256 * 1024, 'peak RSS under 256 MB');
	L.closeAll(conns || []);
	live.delete(srv);
	const e = await srv.stop();
	assert.deepStrictEqual(e, { code: 0, signal: null }, srv.err.slice(-2000));
});

run();

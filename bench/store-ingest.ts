/**
 * Fleet ingest into each store, side by side in one run: 50 simulated hosts each store profile
 * windows (10 s each, one after another per host, as the hub does per collector) for 60 s of wall
 * time, into SQLite and into ClickHouse (a throw-away server from scripts/clickhouse.sh). Then the
 * store holds at least an hour per host (topped up untimed when ingest covered less), and one
 * hour merged over all 50 hosts is queried: the first answer, then the median of a few repeats.
 *
 * "Ahead of real time" is the simulated time stored over the wall time it took: 50 hosts produce
 * 5 windows a second, so N windows/s is N/5 times real time.
 *
 * Usage: node --import tsx bench/store-ingest.ts [--seconds S] [--hosts N] [--stacks N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type Storage, type StorageConfig } from '@firesight/store';
import { startClickhouse } from '@firesight/testing/clickhouse-server';
import { fakeWindow } from '@firesight/testing/fake-collector';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, positiveNumber, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'store-ingest',
	summary: 'Simulated hosts storing profile windows into SQLite and ClickHouse (windows/s), then one hour merged over all hosts.',
	writes: 'the "Store ingest and fleet query: SQLite and ClickHouse" section of bench/RESULTS.md',
	options: {
		seconds: { check: positiveNumber(), placeholder: 'S', help: 'seconds of ingest into each store', default: '60' },
		hosts: { check: wholeNumber(), placeholder: 'N', help: 'simulated hosts', default: '50' },
		stacks: { check: wholeNumber(0), placeholder: 'N', help: "extra distinct stacks in each host's windows", default: '300' },
		reps: { check: wholeNumber(), placeholder: 'N', help: 'repeats of the fleet query', default: '3' },
	},
});
const SECONDS = values.seconds;
const HOSTS = values.hosts;
const STACKS = values.stacks;
const REPS = values.reps;
const WINDOW_MS = 10_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 12);
const log = (line: string) => console.error(`store-ingest: ${line}`);

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Result {
	store: string;
	windows: number;
	seconds: number;
	cpuPercent: number;
	rssMiB: number;
	topUp: number;
	firstQueryMs: number;
	queryMs: number;
	merged: { windows: number; samples: number; total: number };
}

const hostName = (h: number) => `host-${String(h).padStart(2, '0')}`;
/** Each host's windows share most stacks with every other window of it, and of the fleet. */
const windowOf = (h: number, i: number) =>
	fakeWindow({ host: hostName(h), startMs: T0 + i * WINDOW_MS, durationMs: WINDOW_MS, extraStacks: STACKS });

async function run(name: string, config: StorageConfig): Promise<Result> {
	const storage: Storage = await openStorage({ ...config, pruneIntervalMs: 0, retentionMs: 365 * 24 * HOUR });
	try {
		const next = new Array<number>(HOSTS).fill(0);
		const deadline = performance.now() + SECONDS * 1000;
		const cpu0 = process.cpuUsage();
		let rss = 0;
		const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
		const t0 = performance.now();
		await Promise.all(
			Array.from({ length: HOSTS }, async (_, h) => {
				while (performance.now() < deadline) await storage.profiles.insertWindow(windowOf(h, next[h]!++));
			}),
		);
		const wall = (performance.now() - t0) / 1000;
		clearInterval(sampler);
		// SQLite stores synchronously, so the sampler may never have run during ingest.
		rss = Math.max(rss, process.memoryUsage().rss);
		const cpu = process.cpuUsage(cpu0);
		const windows = next.reduce((a, b) => a + b, 0);
		log(`${name}: ${windows} windows in ${wall.toFixed(1)} s`);
		// An hour per host for the query, whatever ingest reached.
		const perHour = HOUR / WINDOW_MS;
		let topUp = 0;
		await Promise.all(
			Array.from({ length: HOSTS }, async (_, h) => {
				while (next[h]! < perHour) {
					await storage.profiles.insertWindow(windowOf(h, next[h]!++));
					topUp++;
				}
			}),
		);
		if (topUp) log(`${name}: topped up ${topUp} windows`);
		const query = () => storage.profiles.query({ fromMs: T0, toMs: T0 + HOUR });
		let t = performance.now();
		const first = await query();
		const firstQueryMs = performance.now() - t;
		const times: number[] = [];
		for (let r = 0; r < REPS; r++) {
			t = performance.now();
			await query();
			times.push(performance.now() - t);
		}
		return {
			store: name,
			windows,
			seconds: wall,
			cpuPercent: ((cpu.user + cpu.system) / 1e6 / wall) * 100,
			rssMiB: rss / 2 ** 20,
			topUp,
			firstQueryMs,
			queryMs: median(times),
			merged: {
				windows: first.windows,
				samples: first.profile.samples.length,
				total: first.profile.samples.reduce((n, s) => n + s.weight, 0),
			},
		};
	} finally {
		await storage.close();
	}
}

const results: Result[] = [];
const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'firesight-bench-store-'));
try {
	results.push(await run('SQLite', { backend: 'sqlite', dataDir: dir }));
} finally {
	rmSync(dir, { recursive: true, force: true });
}
const started = await startClickhouse();
if ('reason' in started) {
	log(`ClickHouse skipped: ${started.reason}`);
} else {
	try {
		results.push(await run('ClickHouse 18.16', { backend: 'clickhouse', url: started.server.url }));
	} finally {
		await started.server.stop();
	}
}

const loadAfter = loadavg()[0]!;
const realTime = HOSTS / (WINDOW_MS / 1000);
const sample = windowOf(0, 0);
const rows = results.map(
	(r) =>
		`| ${r.store} | ${r.windows} | ${(r.windows / r.seconds).toFixed(0)} | ${(r.windows / r.seconds / realTime).toFixed(0)}x | ${r.cpuPercent.toFixed(0)} | ${r.rssMiB.toFixed(0)} | ${r.firstQueryMs.toFixed(0)} | ${r.queryMs.toFixed(0)} | ${r.merged.windows} |`,
);
const body = `${HOSTS} simulated hosts store profile windows (10 s, ${sample.samples.length} stacks of ${sample.frames.length} frames each, most repeated in every window) for ${SECONDS} s of wall time, each host one window after another (as the hub stores per collector), all hosts at once; then one hour merged over all ${HOSTS} hosts is queried (${HOSTS * 360} windows; the store is topped up untimed to a full hour first). Both stores in the same run, ${new Date().toISOString().slice(0, 10)}, 2 shared CPUs, 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end; ClickHouse on the same machine (its own CPU is not in the hub column). Real time for ${HOSTS} hosts is ${realTime} windows/s.

| store | windows in ${SECONDS} s | windows/s | ahead of real time | hub process CPU % of a core | hub peak RSS MiB | 1 h x ${HOSTS} hosts, first query ms | repeated (median of ${REPS}) ms | windows merged |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Targets: ingest at least 50x real time; an hour of ${HOSTS} hosts opens in under 2 s on ClickHouse.

A window is stored only after the previous one of its host resolved, so ClickHouse ingests about ${HOSTS} windows per batched INSERT round trip: its rate follows the server's INSERT latency, which a loaded machine stretches (the server shares the 2 CPUs). SQLite writes in the hub's own process, synchronously.

Run: \`node --import tsx bench/store-ingest.ts [--seconds S] [--hosts N] [--stacks N]\` (root, to install ClickHouse when missing).`;
writeResultsSection('Store ingest and fleet query: SQLite and ClickHouse', body);
console.log(body);

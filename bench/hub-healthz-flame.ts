/**
 * Whether one large flame query stops the hub from answering anything else. A hub holds an hour
 * of a busy host's 10 s windows (`busyHost()`: ~600k samples, ~400k distinct stacks), stored
 * through its own store; a poller on its own thread asks `/healthz` every 10 ms while one cold
 * whole-host `profile.flame` (a pixel of 1280) runs, and times every answer. Inside the hub
 * process, the event loop's longest delay over the query is read too.
 *
 *   npx tsx bench/hub-healthz-flame.ts [--minutes 60] [--rounds 3] [--baseline DIR|none] [--store sqlite|clickhouse] [--no-write]
 *
 * The baseline is the same measurement against another checkout's hub: by default the commit
 * before the merge was sliced (BASELINE_COMMIT), taken with `git archive` into a temp directory
 * that links this tree's node_modules and addon build; --baseline DIR names a checkout of your
 * own, `none` skips it. Each round runs the baseline and this tree one after the other, each in a
 * fresh process on a copy of the same data. Writes the "/healthz during a large flame query"
 * section of bench/RESULTS.md.
 *
 * `--store clickhouse` does the same against a throw-away ClickHouse server (scripts/clickhouse.sh),
 * every hub on the same database, with the commit before its merge was sliced as the baseline
 * (CLICKHOUSE_BASELINE_COMMIT), and writes a section of its own.
 */
import { execSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { startClickhouse } from '@firesight/testing/clickhouse-server';
import { busyHost } from './flame-busy-host.ts';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, oneOf, positiveNumber, text, wholeNumber } from './bench-args.ts';

const { values: args } = benchArgs({
	name: 'hub-healthz-flame',
	summary: "How long a hub's /healthz waits while one large cold flame query runs, against a baseline checkout's hub.",
	writes: 'the "/healthz during a large flame query" section of bench/RESULTS.md (with --store clickhouse, its own section)',
	options: {
		minutes: { check: positiveNumber(), placeholder: 'N', help: "minutes of the busy host's windows stored", default: '60' },
		rounds: { check: wholeNumber(), placeholder: 'N', help: 'rounds; each runs the baseline and this tree', default: '3' },
		baseline: {
			check: text(),
			placeholder: 'DIR|none',
			help: 'checkout to compare with, or none (default: the commit before the merge was sliced, unpacked)',
		},
		store: { check: oneOf('sqlite', 'clickhouse'), placeholder: 'sqlite|clickhouse', help: 'store of every hub', default: 'sqlite' },
		'no-write': { flag: true, help: 'print the section only' },
		// One measurement in this process, against the hub of the checkout at ROOT: how the
		// benchmark runs each hub in a fresh process of its own.
		child: { check: text(), placeholder: 'ROOT', help: 'measure once against the hub of ROOT', internal: true },
		data: { check: text(), placeholder: 'DIR', help: 'the SQLite data of that hub', internal: true },
		clickhouse: { check: text(), placeholder: 'URL', help: 'the ClickHouse database of that hub', internal: true },
		from: { check: wholeNumber(0), placeholder: 'MS', help: 'start of the queried range', internal: true },
		to: { check: wholeNumber(0), placeholder: 'MS', help: 'end of the queried range', internal: true },
	},
});

const HOST = 'busy';
const WINDOW_MS = 10_000;
const TOKEN = 'bench-token';
const THIS_TREE = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The last commit whose hub merged a flame query in one synchronous go. */
const SQLITE_BASELINE_COMMIT = '91bcb57';
/** The last commit whose ClickHouse store merged a flame query's rows in one synchronous go. */
const CLICKHOUSE_BASELINE_COMMIT = '90a84d7';
const STORE = args.store;
const BASELINE_COMMIT = STORE === 'clickhouse' ? CLICKHOUSE_BASELINE_COMMIT : SQLITE_BASELINE_COMMIT;
/** The ClickHouse database every hub of a `--store clickhouse` run uses. */
const CLICKHOUSE_DATABASE = 'firesight_bench_healthz';

/**
 * BASELINE_COMMIT's sources in a temp directory, running on this tree's installed packages: its
 * node_modules entries (workspace links copied as they are, so they point into the baseline),
 * nested node_modules and the addon's build are linked.
 */
function baselineCheckout(): string {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-bench-healthz-baseline-'));
	execSync(`git -C ${JSON.stringify(THIS_TREE)} archive ${BASELINE_COMMIT} | tar -x -C ${JSON.stringify(dir)}`);
	const modules = join(THIS_TREE, 'node_modules');
	mkdirSync(join(dir, 'node_modules'), { recursive: true });
	for (const name of readdirSync(modules)) {
		if (name === '@firesight') cpSync(join(modules, name), join(dir, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
		else symlinkSync(join(modules, name), join(dir, 'node_modules', name));
	}
	for (const parent of ['packages', 'apps', 'tooling']) {
		for (const name of readdirSync(join(THIS_TREE, parent))) {
			const nested = join(THIS_TREE, parent, name, 'node_modules');
			if (existsSync(nested) && existsSync(join(dir, parent, name))) symlinkSync(nested, join(dir, parent, name, 'node_modules'));
		}
	}
	if (existsSync(join(THIS_TREE, 'native/build'))) symlinkSync(join(THIS_TREE, 'native/build'), join(dir, 'native/build'));
	return dir;
}

interface HubModule {
	startHub(options: Record<string, unknown>): Promise<{
		url: string;
		storage: { profiles: { insertWindow(w: unknown): Promise<void>; listHosts(): Promise<{ host: string; windows: number }[]> } };
		close(): Promise<void>;
	}>;
}

async function hubOf(root: string): Promise<HubModule> {
	return (await import(pathToFileURL(join(root, 'apps/web/server/index.ts')).href)) as HubModule;
}

interface Measurement {
	/** The flame query's answer, ms. */
	flameMs: number;
	/** The slowest /healthz answer that overlapped the query, ms. */
	healthzWorstMs: number;
	/** /healthz answers received while the flame query was out. */
	healthzDuring: number;
	/** The hub's event loop: its longest delay over the query, ms. */
	loopMaxMs: number;
	samples: number;
	status: number;
}

/** The poller: its own event loop, so a blocked hub shows as slow answers, not as a late poller. */
const POLLER = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false; const answers = [];
parentPort.on('message', () => { stop = true; });
(async () => {
	while (!stop) {
		const sent = performance.timeOrigin + performance.now();
		try { const r = await fetch(workerData + '/healthz'); await r.text(); } catch {}
		answers.push([sent, performance.timeOrigin + performance.now()]);
		await new Promise((r) => setTimeout(r, 10));
	}
	parentPort.postMessage(answers);
})();`;

/** Where a hub stores: SQLite under a data directory, or a ClickHouse database (its URL). */
type Store = { dataDir: string } | { storage: { backend: 'clickhouse'; url: string } };

async function measureOnce(root: string, store: Store, fromMs: number, toMs: number): Promise<Measurement> {
	const { startHub } = await hubOf(root);
	const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, ...store, token: TOKEN, web: false, log: () => {} });
	const poller = new Worker(POLLER, { eval: true, workerData: hub.url });
	try {
		await new Promise((r) => setTimeout(r, 500));
		const loop = monitorEventLoopDelay({ resolution: 5 });
		const input = encodeURIComponent(JSON.stringify({ fromMs, toMs, minFraction: 1 / 1280 }));
		loop.enable();
		const sent = performance.timeOrigin + performance.now();
		const res = await fetch(`${hub.url}/trpc/profile.flame?input=${input}`);
		const body = (await res.json()) as { result?: { data?: { totalSamples?: number } } };
		const done = performance.timeOrigin + performance.now();
		loop.disable();
		await new Promise((r) => setTimeout(r, 200));
		const answers = await new Promise<[number, number][]>((resolve) => {
			poller.once('message', resolve);
			poller.postMessage('stop');
		});
		const overlapping = answers.filter(([s, e]) => e >= sent && s <= done);
		return {
			flameMs: done - sent,
			healthzWorstMs: Math.max(0, ...overlapping.map(([s, e]) => e - s)),
			healthzDuring: answers.filter(([, e]) => e >= sent && e <= done).length,
			loopMaxMs: loop.max / 1e6,
			samples: body.result?.data?.totalSamples ?? 0,
			status: res.status,
		};
	} finally {
		await poller.terminate();
		await hub.close();
	}
}

if (args.child) {
	const store: Store = args.clickhouse ? { storage: { backend: 'clickhouse', url: args.clickhouse } } : { dataDir: args.data! };
	const m = await measureOnce(args.child, store, args.from!, args.to!);
	process.stdout.write(`${JSON.stringify(m)}\n`);
	process.exit(0);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const SQLITE_NOTES = `*Baseline*: \`${SQLITE_BASELINE_COMMIT}\`, where the merge, the pruned tree and the top functions each ran in one synchronous go.
*This tree*: all three return to the event loop every 65,536 samples (\`MERGE_SLICE\`, \`STEP_SAMPLES\`).
Its flame answer comes later: the hub answers the poller's requests in between, where the baseline answered
one or two, and it reads the stacks a chunk at a time.
The test \`apps/web/server/healthz-during-flame.test.ts\` asserts the order, not the time: \`/healthz\`,
asked as the merge begins, is answered before the flame graph.`;
const CLICKHOUSE_NOTES = `*Baseline*: \`${CLICKHOUSE_BASELINE_COMMIT}\`, where the store parsed each ClickHouse answer whole and turned
its rows into samples in one synchronous go (the pruned tree and the top functions already returned to the loop).
*This tree*: the answers are read as streams of rows, and rows, stacks and samples are merged in slices
(\`MERGE_SLICE\`) with the event loop free between them.
The test \`packages/store/src/clickhouse/query-slices-clickhouse.test.ts\` asserts the order, not the time: a timer
set as the store reads its last ClickHouse answer fires before the merged profile is returned.`;
const MINUTES = args.minutes;
const ROUNDS = args.rounds;
const madeBaseline = args.baseline === undefined ? baselineCheckout() : undefined;
const baseline = madeBaseline ?? (args.baseline === 'none' ? undefined : resolve(args.baseline!));

const loadStart = loadavg()[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'firesight-bench-healthz-'));
const clickhouse = STORE === 'clickhouse' ? await startClickhouse() : undefined;
if (clickhouse && 'reason' in clickhouse) throw new Error(`--store clickhouse ${clickhouse.reason}`);
const clickhouseUrl = clickhouse?.server.url.replace(/\/[^/]*$/, `/${CLICKHOUSE_DATABASE}`);
const hubStore: Store = clickhouseUrl ? { storage: { backend: 'clickhouse', url: clickhouseUrl } } : { dataDir };
try {
	const windows = (MINUTES * 60_000) / WINDOW_MS;
	const toMs = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - 60_000;
	const fromMs = toMs - windows * WINDOW_MS;
	{
		const { startHub } = await hubOf(THIS_TREE);
		const hub = await startHub({ listen: { host: '127.0.0.1', port: 0 }, ...hubStore, token: TOKEN, web: false, log: () => {} });
		const source = busyHost();
		for (let i = 0; i < windows; i++) {
			await hub.storage.profiles.insertWindow(source.window(HOST, fromMs + i * WINDOW_MS, WINDOW_MS, i));
			if (i % 60 === 59) log(`stored ${i + 1} of ${windows} windows`);
		}
		await hub.close();
	}
	const modes: { name: string; root: string }[] = [
		...(baseline ? [{ name: 'baseline (one synchronous merge)', root: baseline }] : []),
		{ name: 'this tree (merge in slices)', root: THIS_TREE },
	];
	const results = new Map<string, Measurement[]>(modes.map((m) => [m.name, []]));
	for (let round = 0; round < ROUNDS; round++) {
		for (const mode of modes) {
			// A copy per run: each hub starts cold on the same stored data, whatever the last one did.
			// (ClickHouse keeps the data in its server, and a fresh hub process starts with no cache.)
			const copy = mkdtempSync(join(tmpdir(), 'firesight-bench-healthz-run-'));
			try {
				if (!clickhouseUrl) cpSync(dataDir, copy, { recursive: true });
				const run = spawnSync(
					process.execPath,
					[
						'--import',
						'tsx',
						fileURLToPath(import.meta.url),
						'--child',
						mode.root,
						...(clickhouseUrl ? ['--clickhouse', clickhouseUrl] : ['--data', copy]),
						'--from',
						String(fromMs),
						'--to',
						String(toMs),
					],
					{ encoding: 'utf8', cwd: THIS_TREE, maxBuffer: 16 * 1024 * 1024 },
				);
				if (run.status !== 0) throw new Error(`${mode.name}: ${run.stderr.trim().split('\n').slice(-5).join(' / ')}`);
				const m = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Measurement;
				if (m.status !== 200) throw new Error(`${mode.name}: the flame query answered ${m.status}`);
				results.get(mode.name)!.push(m);
				log(`round ${round + 1} ${mode.name}: ${JSON.stringify(m)}`);
			} finally {
				rmSync(copy, { recursive: true, force: true });
			}
		}
	}
	const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
	const ms = (x: number) => Math.round(x).toLocaleString('en');
	const row = (name: string) => {
		const r = results.get(name)!;
		return {
			flame: median(r.map((m) => m.flameMs)),
			worst: median(r.map((m) => m.healthzWorstMs)),
			loop: median(r.map((m) => m.loopMaxMs)),
			during: median(r.map((m) => m.healthzDuring)),
			samples: r[0]!.samples,
			each: r.map((m) => ms(m.healthzWorstMs)).join(', '),
		};
	};
	const lines = modes.map((m) => {
		const r = row(m.name);
		return `| ${m.name} | ${ms(r.flame)} | ${ms(r.worst)} (${r.each}) | ${ms(r.loop)} | ${r.during} |`;
	});
	const ratio =
		baseline && modes.length === 2
			? `\nWorst /healthz answer, baseline ÷ this tree: **×${(row(modes[0]!.name).worst / row(modes[1]!.name).worst).toFixed(1)}**; flame answer ×${(row(modes[0]!.name).flame / row(modes[1]!.name).flame).toFixed(2)}.\n`
			: '';
	const body = `
A hub (${clickhouseUrl ? 'ClickHouse 18.16, a throw-away server on this machine' : 'SQLite'}) holding ${MINUTES} minutes of 10 s windows of a busy 2-CPU host (\`bench/flame-busy-host.ts\`,
${row(modes.at(-1)!.name).samples.toLocaleString('en')} samples), stored through its own store. A poller on its own thread
asks \`/healthz\` every 10 ms while one cold whole-host \`profile.flame\` (a pixel of 1280) runs; each run is a fresh hub
process on ${clickhouseUrl ? 'the same database' : 'a copy of the same data'}. Median of ${ROUNDS} rounds (each round's worst /healthz in brackets);
${new Date().toISOString().slice(0, 10)}, 2 shared CPUs, 1-minute load average ${loadStart.toFixed(1)} at the start and
${loadavg()[0]!.toFixed(1)} at the end (other work shares this machine: compare the rows of one run).

| hub | flame answer ms | worst /healthz ms | event loop's longest delay ms | /healthz answers during the query |
|---|---|---|---|---|
${lines.join('\n')}
${ratio}
${clickhouseUrl ? CLICKHOUSE_NOTES : SQLITE_NOTES}

Run: \`npx tsx bench/hub-healthz-flame.ts${clickhouseUrl ? ' --store clickhouse' : ''}${madeBaseline ? '' : baseline ? ' --baseline DIR' : ' --baseline none'}${MINUTES !== 60 ? ` --minutes ${MINUTES}` : ''}${ROUNDS !== 3 ? ` --rounds ${ROUNDS}` : ''}\`.
`;
	process.stdout.write(body);
	if (!args['no-write']) writeResultsSection(`/healthz during a large flame query${clickhouseUrl ? ' (ClickHouse)' : ''}`, body);
} finally {
	rmSync(dataDir, { recursive: true, force: true });
	if (clickhouse && 'server' in clickhouse) await clickhouse.server.stop();
	if (madeBaseline) rmSync(madeBaseline, { recursive: true, force: true });
}

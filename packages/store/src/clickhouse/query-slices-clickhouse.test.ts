import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { ResultSet } from '@clickhouse/client';
import { totalWeight } from '@firesight/profile';
import type { Frame, ProfileWindow } from '@firesight/protocol';
import { clickhouseRequired, clickhouseStatement, startClickhouse } from '@firesight/testing/clickhouse-server';
import { openStorage } from '../storage.ts';

/**
 * A large flame query must not hold the hub's event loop once ClickHouse has answered: the merge
 * of what it read (rows to samples, stacks to frames) runs in slices with the loop free between
 * them, as the SQLite store's does. Timing-free: a timer set as the store finishes reading its
 * last ClickHouse answer must fire before the merged profile is returned. A merge done in one
 * synchronous go after the last read returns first, since nothing else runs before it ends.
 */
const started = await startClickhouse();
if ('server' in started) after(() => started.server.stop());

const WINDOW_MS = 10_000;
const WINDOWS = 12;
/** Distinct stacks per window: 120,000 in all, several of the merge's slices at each stage. */
const STACKS = 10_000;
const DEPTH = 8;

/** A window of STACKS stacks no other window shares: each one's leaf is its own function. */
function distinctStacks(index: number, startMs: number): ProfileWindow {
	const frames: Frame[] = [];
	for (let d = 0; d < DEPTH - 1; d++) frames.push({ name: `level_${d}_${index % 4}`, module: 'app', kind: 'user' });
	const samples = [];
	for (let s = 0; s < STACKS; s++) {
		const leaf = frames.push({ name: `leaf_${index}_${s}`, module: 'app', kind: 'user' }) - 1;
		samples.push({ pid: 100 + (s % 7), comm: 'app', stack: [...Array.from({ length: DEPTH - 1 }, (_, d) => d), leaf], weight: 1 });
	}
	return { host: 'busy', startMs, durationMs: WINDOW_MS, frequencyHz: 99, frames, samples };
}

/**
 * Watches the ends of the answers the ClickHouse client hands over (whole, or as a stream of
 * rows): at each, a timer is set. `lastRan()` tells whether the timer of the latest end has fired.
 */
function watchAnswerEnds(): { lastRan(): boolean | undefined; restore(): void } {
	const proto = ResultSet.prototype as unknown as {
		json(): Promise<unknown>;
		text(): Promise<string>;
		stream(): Readable;
	};
	const { json, text, stream } = proto;
	let last: { ran: boolean } | undefined;
	const ended = () => {
		const probe = { ran: false };
		last = probe;
		setImmediate(() => (probe.ran = true));
	};
	proto.json = async function (this: unknown) {
		const out = await json.call(this);
		ended();
		return out;
	};
	proto.text = async function (this: unknown) {
		const out = await text.call(this);
		ended();
		return out;
	};
	proto.stream = function (this: unknown) {
		return stream.call(this).once('end', ended);
	};
	return {
		lastRan: () => last?.ran,
		restore: () => Object.assign(proto, { json, text, stream }),
	};
}

test('clickhouse: a large flame query lets the event loop run after the last answer it reads, before its merged profile', async (t) => {
	if ('reason' in started) {
		if (clickhouseRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 or CI is set, but this test ${started.reason}`);
		t.skip(`${started.reason} (set FIRESIGHT_REQUIRE_BPF=1 to fail instead)`);
		return;
	}
	const server = started.server;
	const database = `firesight_test_${randomBytes(6).toString('hex')}`;
	const storage = await openStorage({
		backend: 'clickhouse',
		url: server.url.replace(/\/[^/]*$/, `/${database}`),
		pruneIntervalMs: 0,
	});
	try {
		const startMs = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - (WINDOWS + 1) * WINDOW_MS;
		await Promise.all(Array.from({ length: WINDOWS }, (_, i) => storage.profiles.insertWindow(distinctStacks(i, startMs + i * WINDOW_MS))));
		const range = { fromMs: startMs, toMs: startMs + WINDOWS * WINDOW_MS };
		// Cold, the stacks are read from ClickHouse after the samples; warm, from the store's cache,
		// so the samples are the last answer and everything after them is the merge.
		for (const pass of ['cold', 'warm']) {
			const watch = watchAnswerEnds();
			try {
				const merged = await storage.profiles.query(range);
				// Read before anything else can run: the query's answer resumes this test at once.
				const ran = watch.lastRan();
				assert.equal(totalWeight(merged.profile), WINDOWS * STACKS, `${pass}: the whole profile was merged`);
				assert.equal(merged.profile.samples.length, WINDOWS * STACKS);
				assert.equal(ran, true, `${pass}: the merge after ClickHouse's last answer held the event loop until its end`);
			} finally {
				watch.restore();
			}
		}
	} finally {
		await storage.close();
		await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${database}`);
	}
});

test('clickhouse: queries at once over a cache that starts over while they read it each answer whole', async (t) => {
	if ('reason' in started) {
		if (clickhouseRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 or CI is set, but this test ${started.reason}`);
		t.skip(`${started.reason} (set FIRESIGHT_REQUIRE_BPF=1 to fail instead)`);
		return;
	}
	const server = started.server;
	const database = `firesight_test_${randomBytes(6).toString('hex')}`;
	// A budget far under one slice's stacks: each slice's look-up starts the cache over.
	const storage = await openStorage({
		backend: 'clickhouse',
		url: server.url.replace(/\/[^/]*$/, `/${database}`),
		pruneIntervalMs: 0,
		profileCacheBudget: 100,
	});
	try {
		// Several slices of stacks per query, so one query's slice starts the cache over while
		// another is between its look-up and its use.
		const windows = 4;
		const startMs = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - (windows + 1) * WINDOW_MS;
		for (let i = 0; i < windows; i++) {
			await storage.profiles.insertWindow(distinctStacks(i, startMs + i * WINDOW_MS));
		}
		const queries = Array.from({ length: 8 }, (_, i) => ({
			fromMs: startMs + (i % windows) * WINDOW_MS,
			toMs: startMs + windows * WINDOW_MS,
		}));
		for (let round = 0; round < 3; round++) {
			const answers = await Promise.all(queries.map((q) => storage.profiles.query(q)));
			answers.forEach(({ profile }, i) => {
				const expected = (windows - (i % windows)) * STACKS;
				assert.equal(totalWeight(profile), expected, `query ${i}`);
				for (const sample of profile.samples) {
					const names = sample.stack.map((f) => profile.frames[f]!.name);
					assert.equal(names.length, DEPTH);
					const leaf = /^leaf_(\d+)_\d+$/.exec(names.at(-1)!);
					assert.ok(leaf, `query ${i}: a leaf frame at the leaf, not ${names.at(-1)}`);
					assert.deepEqual(
						names.slice(0, -1),
						Array.from({ length: DEPTH - 1 }, (_, d) => `level_${d}_${Number(leaf[1]) % 4}`),
						`query ${i}: a stack of its own window's frames`,
					);
				}
			});
		}
		assert.ok(storage.profiles.cacheResets > 0);
	} finally {
		await storage.close();
		await clickhouseStatement(server, `DROP DATABASE IF EXISTS ${database}`);
	}
});

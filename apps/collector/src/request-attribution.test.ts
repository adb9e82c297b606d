import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestIds, ProfileBuilder, type Frame, type ProfileSample } from '@firesight/profile';
import { SLOW_REQUEST_MS } from '@firesight/protocol';
import { readClocks } from './monotonic-clock.ts';
import { RequestAttribution } from './request-attribution.ts';

const frame = (name: string): Frame => ({ name, module: 'm', kind: 'user' });
const builder = () => new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 100 });
const MS = 1_000_000n;

/** Holds `weight` samples of a one-frame stack named `name`, stamped with `request`. */
function hold(a: RequestAttribution, b: ProfileBuilder, name: string, weight: number, request: number, ambiguous = false, pid = 7): void {
	a.hold(b, [b.frames.intern(frame(name))], weight, { pid, comm: 'srv' }, request, ambiguous);
}

function labelsOf(samples: readonly ProfileSample[]) {
	return samples.map((s) => ({ weight: s.weight, endpoint: s.endpoint, requestId: s.requestId, ambiguous: s.ambiguous }));
}

test('an answered request labels its samples with its endpoint; its id only when it was slow', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const now = readClocks().ns;
	a.requestStarted(1, 7, now - 2000n * MS, 'GET /slow');
	a.requestStarted(2, 7, now - 10n * MS, 'GET /fast');
	// Two fast ones on one endpoint: the p99 of its window is the slower, which keeps its id too.
	a.requestStarted(3, 7, now - 5n * MS, 'GET /fast');
	assert.equal(a.requestFinished(1, 7, 'GET /slow', 1500), 'b:1');
	assert.equal(a.requestFinished(2, 7, 'GET /fast', 2), 'b:2');
	assert.equal(a.requestFinished(3, 7, 'GET /fast', 3), 'b:3');
	assert.equal(a.requestFinished(0, 7, 'GET /other', 1), undefined, 'a request the kernel gave no id');
	assert.equal(a.requestFinished(4, 7, 'GET /other', 1), undefined, 'an id never started');
	assert.equal(a.requestFinished(1, 8, 'GET /slow', 1), undefined, 'an id of another process');
	assert.equal(a.requestFinished(1, 7, 'GET /slow', 1), undefined, 'an id answered already');
	const b = builder();
	hold(a, b, 'f', 3, 1);
	hold(a, b, 'f', 2, 2, true);
	hold(a, b, 'f', 1, 3);
	a.flush(b);
	assert.deepEqual(labelsOf(b.build().samples), [
		{ weight: 3, endpoint: 'GET /slow', requestId: 'b:1', ambiguous: undefined },
		{ weight: 2, endpoint: 'GET /fast', requestId: undefined, ambiguous: true },
		{ weight: 1, endpoint: 'GET /fast', requestId: 'b:3', ambiguous: undefined },
	]);
	assert.equal(a.stats.samplesUnattributed, 0);
});

test('samples of a request not known yet wait one window, then are labelled or counted, never guessed', () => {
	const a = new RequestAttribution({ boot: 'b' });
	const now = readClocks().ns;
	const first = builder();
	hold(a, first, 'early', 4, 10);
	hold(a, first, 'lost', 5, 11);
	a.flush(first);
	assert.equal(first.build().samples.length, 0, 'nothing labelled before its request is known');
	// The request's parse arrives after the window closed.
	a.requestStarted(10, 7, now, 'POST /late');
	a.requestFinished(10, 7, 'POST /late', 1);
	const second = builder();
	a.flush(second);
	const out = second.build();
	assert.deepEqual(
		out.samples.map((s) => [out.frames[s.stack[0]!]!.name, s.weight, s.endpoint]),
		[
			['early', 4, 'POST /late'],
			['lost', 5, undefined],
		],
	);
	assert.equal(a.stats.samplesUnattributed, 5);
});

test('a young open request waits; a long open one is slow already; a stamp from another process is not trusted', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const now = readClocks().ns;
	a.requestStarted(20, 7, now, 'GET /young');
	a.requestStarted(21, 7, now - 5000n * MS, 'GET /long');
	const b = builder();
	hold(a, b, 'y', 1, 20);
	hold(a, b, 'l', 2, 21);
	hold(a, b, 'x', 3, 21, false, 8);
	a.flush(b);
	assert.deepEqual(labelsOf(b.build().samples), [{ weight: 2, endpoint: 'GET /long', requestId: 'b:21', ambiguous: undefined }]);
	const last = builder();
	a.flush(last, true);
	assert.deepEqual(labelsOf(last.build().samples), [
		{ weight: 1, endpoint: 'GET /young', requestId: undefined, ambiguous: undefined },
		{ weight: 3, endpoint: undefined, requestId: undefined, ambiguous: undefined },
	]);
	assert.equal(a.stats.samplesUnattributed, 3);
});

test('requests are bounded: the oldest are forgotten and counted', () => {
	const a = new RequestAttribution({ maxRequests: 2 });
	const now = readClocks().ns;
	for (let i = 1; i <= 3; i++) a.requestStarted(i, 7, now + BigInt(i), 'GET /');
	assert.equal(a.size, 2);
	assert.equal(a.stats.requestsForgotten, 1);
	assert.equal(a.requestFinished(1, 7, 'GET /', 1), undefined);
	assert.equal(a.requestFinished(3, 7, 'GET /', 1), `${a.boot}:3`);
});

test('the table grows to hold every request up to its bound; past it the oldest is forgotten and counted', () => {
	const a = new RequestAttribution({ boot: 'b', maxRequests: 8192 });
	const now = readClocks().ns;
	for (let i = 1; i <= 8192; i++) a.requestStarted(i, 7, now, 'GET /');
	assert.equal(a.size, 8192);
	assert.equal(a.stats.requestsForgotten, 0);
	assert.equal(a.requestFinished(1, 7, 'GET /', 1), 'b:1', 'the first is still known once the table grew');
	a.requestStarted(8193, 7, now, 'GET /');
	assert.equal(a.stats.requestsForgotten, 1);
	assert.equal(a.size, 8192);
	assert.equal(a.requestFinished(1, 7, 'GET /', 1), undefined);
	assert.equal(a.requestFinished(8193, 7, 'GET /', 1), 'b:8193');
});

test('past the bound the request started longest ago is forgotten, also after ids started again and many turns', () => {
	const max = 64;
	const a = new RequestAttribution({ boot: 'b', maxRequests: max });
	const now = readClocks().ns;
	// The model: ids in the order they were (last) started.
	const order: number[] = [];
	let x = 1; // xorshift32: the same turns every run
	const next = (n: number) => {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		return (x >>> 0) % n;
	};
	for (let i = 0; i < 20_000; i++) {
		// Mostly new ids, some started again (a wrapped id is a new request: it becomes the youngest).
		const id = order.length > 0 && next(4) === 0 ? order[next(order.length)]! : 1000 + i;
		const at = order.indexOf(id);
		if (at >= 0) order.splice(at, 1);
		else if (order.length === max) order.shift();
		order.push(id);
		a.requestStarted(id, 7, now, 'GET /');
	}
	assert.equal(a.size, max);
	assert.deepEqual(
		order.filter((id) => a.requestFinished(id, 7, 'GET /', 1) !== `b:${id}`),
		[],
		'every one of the last started is known',
	);
});

test('ids as the kernel makes them (a sequence per CPU, the CPU in the low bits) are all kept within the bound', () => {
	const a = new RequestAttribution({ boot: 'b' });
	const now = readClocks().ns;
	const ids: number[] = [];
	for (let seq = 1; seq <= 10_000; seq++) for (const cpu of [0, 1]) ids.push((seq << 10) | cpu);
	for (const id of ids) a.requestStarted(id, 7, now, 'GET /');
	assert.equal(a.stats.requestsForgotten, 0);
	assert.equal(a.size, ids.length);
	assert.equal(ids.filter((id) => a.requestFinished(id, 7, 'GET /', 1) === `b:${id}`).length, ids.length);
});

/** Starts and answers a request `startMs` after `base`, on thread `tid` of pid 7. */
function served(a: RequestAttribution, base: bigint, id: number, tid: number, endpoint: string, startMs: number, latencyMs: number): void {
	const startNs = base + BigInt(Math.round(startMs * 1e6));
	a.requestStarted(id, 7, startNs, endpoint, tid);
	assert.equal(a.requestFinished(id, 7, endpoint, latencyMs), `${a.boot}:${id}`);
}

test('by default a request is slow at SLOW_REQUEST_MS, the threshold the dashboard links at, even below its p99', () => {
	const a = new RequestAttribution({ boot: 'b' });
	const base = readClocks().ns - 5000n * MS;
	// 100 requests of a second set the window's p99 of GET /x to 1000 ms.
	for (let i = 1; i <= 100; i++) served(a, base, 100 + i, 1, 'GET /x', i, 1000);
	served(a, base, 1, 2, 'GET /x', 0, SLOW_REQUEST_MS - 0.1);
	served(a, base, 2, 3, 'GET /x', 0, SLOW_REQUEST_MS);
	const b = builder();
	hold(a, b, 'under', 1, 1);
	hold(a, b, 'at', 2, 2);
	a.flush(b);
	assert.deepEqual(labelsOf(b.build().samples), [
		{ weight: 1, endpoint: 'GET /x', requestId: undefined, ambiguous: undefined },
		{ weight: 2, endpoint: 'GET /x', requestId: 'b:2', ambiguous: undefined },
	]);
});

test('an ambiguous sample names every slow request whose lifetime on its thread may hold it, marking those it may come after', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const base = readClocks().ns - 10_000n * MS;
	// Thread 100 of pid 7: request 1 (slow) from 0 to 1000 ms; 2 inside it; 3 (slow) starts in it
	// and outlives it; 5 starts after 1 ended, inside 3. Thread 101: request 4 overlaps 1 in time
	// only. Request 9 on thread 102 sets the p99 of GET /fast, so that 2, 4 and 5 are not slow.
	served(a, base, 1, 100, 'GET /slow', 0, 1000);
	served(a, base, 2, 100, 'GET /fast', 100, 200);
	served(a, base, 3, 100, 'GET /slow', 800, 700);
	served(a, base, 5, 100, 'GET /fast', 1200, 100);
	served(a, base, 4, 101, 'GET /fast', 200, 300);
	served(a, base, 9, 102, 'GET /fast', 0, 450);
	const b = builder();
	hold(a, b, 'one', 1, 1);
	hold(a, b, 'one-amb', 2, 1, true);
	hold(a, b, 'two', 3, 2);
	hold(a, b, 'two-amb', 4, 2, true);
	hold(a, b, 'three-amb', 5, 3, true);
	hold(a, b, 'five-amb', 6, 5, true);
	hold(a, b, 'four-amb', 7, 4, true);
	a.flush(b);
	const out = b.build();
	assert.deepEqual(
		out.samples.map((s) => [out.frames[s.stack[0]!]!.name, s.endpoint, s.requestId, s.ambiguous === true]),
		[
			['one', 'GET /slow', 'b:1', false],
			// Stamped 1, several open: it is in 1's lifetime.
			['one-amb', 'GET /slow', 'b:1', true],
			// An unambiguous sample of a request that is not slow keeps no id.
			['two', 'GET /fast', undefined, false],
			// 2 started and ended inside 1: surely in 1's lifetime.
			['two-amb', 'GET /fast', 'b:1', true],
			// 3 outlived 1: maybe after 1 ended; surely in its own.
			['three-amb', 'GET /slow', 'b:1+ b:3', true],
			// 5 started after 1 ended, and ended inside 3.
			['five-amb', 'GET /fast', 'b:3', true],
			// Another thread: not in 1's lifetime, whatever the times.
			['four-amb', 'GET /fast', undefined, true],
		],
	);
	assert.deepEqual(parseRequestIds('b:1+ b:3'), [
		{ requestId: 'b:1', mayBeAfter: true },
		{ requestId: 'b:3', mayBeAfter: false },
	]);
});

test('an ambiguous sample waits while a request open before it on its thread may still turn slow', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const now = readClocks().ns;
	// 30 opened 100 ms ago and is still open; 31 opened inside it and was answered.
	a.requestStarted(30, 7, now - 100n * MS, 'GET /long', 100);
	a.requestStarted(31, 7, now - 50n * MS, 'GET /short', 100);
	a.requestFinished(31, 7, 'GET /short', 10);
	const first = builder();
	hold(a, first, 'short-amb', 2, 31, true);
	a.flush(first);
	assert.equal(first.build().samples.length, 0, 'held until 30 is slow or answered');
	a.requestFinished(30, 7, 'GET /long', 2000);
	const second = builder();
	a.flush(second);
	// 31 is the only GET /short of the window, so its p99: slow too.
	assert.deepEqual(labelsOf(second.build().samples), [{ weight: 2, endpoint: 'GET /short', requestId: 'b:30 b:31', ambiguous: true }]);
});

test('a list of slow requests longer than the label keeps the newest and counts the samples cut', () => {
	const a = new RequestAttribution({ boot: 'bootbootx', slowMs: 500 });
	const base = readClocks().ns - 60_000n * MS;
	// 40 slow requests open at once on one thread, each starting 1 ms after the one before.
	for (let i = 1; i <= 40; i++) served(a, base, 1000 + i, 100, 'GET /slow', i, 5000);
	const b = builder();
	hold(a, b, 'f', 3, 1040, true);
	a.flush(b);
	const [s] = b.build().samples;
	const entries = parseRequestIds(s!.requestId!);
	assert.ok(s!.requestId!.length <= 256 && entries.length < 40 && entries.length > 5, s!.requestId);
	assert.deepEqual(entries.at(-1), { requestId: 'bootbootx:1040', mayBeAfter: false });
	// 1001 .. 1039 ended after 1040 started; 1040 ended after them, so it may come after them.
	assert.ok(entries.slice(0, -1).every((e) => e.mayBeAfter));
	assert.equal(a.stats.samplesLifetimeCut, 3);
});

/** A deterministic pseudo-random sequence (a linear congruential generator). */
function lcg(seed: number): () => number {
	let x = seed;
	return () => {
		x = (x * 1103515245 + 12345) % 2147483648;
		return x / 2147483648;
	};
}

test('on a simulated event loop, the samples named for a slow request hold every sample taken during its lifetime, and only those marked may come after it', () => {
	for (const seed of [1, 2, 3, 4, 5]) {
		const random = lcg(seed);
		const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
		const base = readClocks().ns - 120_000n * MS;
		// Requests arrive on one thread at random, each open for 10 ms to 1.5 s.
		const requests: { id: number; start: number; end: number }[] = [];
		let t = 0;
		for (let id = 1; id <= 60; id++) {
			t += random() * 200;
			const latency = 10 + random() * 1490;
			requests.push({ id, start: t, end: t + latency });
			served(a, base, id, 100, `GET /r${id % 4}`, t, latency);
		}
		// The kernel's stamp of a sample every ms: the newest open request, ambiguous when several are.
		const truth = new Map<number, Set<number>>();
		const b = builder();
		for (let ms = 0; ms < t + 1500; ms++) {
			const open = requests.filter((r) => r.start <= ms && ms <= r.end);
			if (open.length === 0) continue;
			for (const r of open) {
				let set = truth.get(r.id);
				if (!set) truth.set(r.id, (set = new Set()));
				set.add(ms);
			}
			hold(a, b, `t${ms}`, 1, open.at(-1)!.id, open.length > 1);
		}
		a.flush(b);
		const out = b.build();
		const named = new Map<number, { sure: Set<number>; maybe: Set<number> }>();
		for (const s of out.samples) {
			if (s.requestId === undefined) continue;
			const ms = Number(out.frames[s.stack[0]!]!.name.slice(1));
			for (const e of parseRequestIds(s.requestId)) {
				const id = Number(e.requestId.slice(2));
				let n = named.get(id);
				if (!n) named.set(id, (n = { sure: new Set(), maybe: new Set() }));
				(e.mayBeAfter ? n.maybe : n.sure).add(ms);
			}
		}
		for (const r of requests.filter((x) => x.end - x.start >= 500)) assert.ok(named.has(r.id), `seed ${seed}: slow request ${r.id} named`);
		for (const [id, n] of named) {
			const during = truth.get(id) ?? new Set<number>();
			for (const ms of during)
				assert.ok(n.sure.has(ms) || n.maybe.has(ms), `seed ${seed}: sample at ${ms} ms, during ${id}, not named for it`);
			for (const ms of n.sure) assert.ok(during.has(ms), `seed ${seed}: sample at ${ms} ms named surely for ${id}, which was not open`);
		}
	}
});

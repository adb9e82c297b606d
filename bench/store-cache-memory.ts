/**
 * Memory of the SQLite profile store's caches of stored ids, per stack: windows of new stacks
 * (Node-like: 40 frames deep, sharing their first 30, a new JIT frame at the leaf, as a busy host
 * makes them) are stored into an in-memory database until the caches start over, and the JS heap
 * plus ArrayBuffers are read after a full collection at each step. SQLite's own memory is not in
 * it (the database is malloc'd), so what grows is the caches.
 *
 * Usage: npx tsx bench/store-cache-memory.ts [--stacks-per-window N] [--no-write]
 */
import { memoryUsage } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStorage } from '@firesight/store';
import type { ProfileWindow } from '@firesight/protocol';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, wholeNumber } from './bench-args.ts';

const { values } = benchArgs({
	name: 'store-cache-memory',
	summary: "Bytes per stack held by the SQLite store's caches of stored ids, up to their budget and through a second fill.",
	writes: 'the "Store cache memory" section of bench/RESULTS.md',
	options: {
		'stacks-per-window': { check: wholeNumber(), placeholder: 'N', help: 'new stacks in each stored window', default: '1000' },
		'no-write': { flag: true, help: 'print the section only' },
	},
});
const PER_WINDOW = values['stacks-per-window'];
const DEPTH = 40;
const SHARED = 30;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const log = (line: string) => console.error(`store-cache-memory: ${line}`);

function windowOf(w: number): ProfileWindow {
	const frames: ProfileWindow['frames'][number][] = [];
	for (let d = 0; d < SHARED; d++) frames.push({ name: `frame_${d}`, module: '/usr/bin/node', kind: 'user' });
	// The middle frames come from a pool (a few hundred functions), the leaf is new every time.
	for (let d = 0; d < 300; d++) frames.push({ name: `js_${d}`, module: '[anon]', kind: 'jit' });
	const samples: ProfileWindow['samples'][number][] = [];
	for (let s = 0; s < PER_WINDOW; s++) {
		const stack = Array.from({ length: SHARED }, (_, d) => d);
		for (let d = SHARED; d < DEPTH - 1; d++) stack.push(SHARED + ((s * 7919 + d * 104729 + w) % 300));
		frames.push({ name: `[jit]+0x${(w * PER_WINDOW + s).toString(16)}`, module: '[anon]', kind: 'jit' });
		stack.push(frames.length - 1);
		samples.push({ pid: 1, comm: 'node', stack, weight: 1 });
	}
	return { host: 'busy', startMs: 1_800_000_000_000 + w * 10_000, durationMs: 10_000, frequencyHz: 99, frames, samples };
}

const usedMiB = () => {
	gc();
	const m = memoryUsage();
	return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
};

const storage = await openStorage({ backend: 'sqlite', path: ':memory:', pruneIntervalMs: 0 });
const rows: string[] = [];
try {
	const base = usedMiB();
	let stacks = 0;
	let peak = 0;
	let atPeak = 0;
	for (let w = 0; storage.profiles.cacheResets === 0; w++) {
		await storage.profiles.insertWindow(windowOf(w));
		stacks += PER_WINDOW;
		const mib = usedMiB() - base;
		if (storage.profiles.cacheResets === 0 && mib > peak) {
			peak = mib;
			atPeak = stacks;
		}
		if (w % 5 === 0) log(`${stacks} stacks: +${mib.toFixed(1)} MiB, ${((mib * 2 ** 20) / stacks).toFixed(0)} bytes a stack`);
	}
	// Past the start-over the arrays are kept: memory stays within the first fill's.
	let after = 0;
	for (let w = 0; w < Math.ceil(atPeak / PER_WINDOW); w++) {
		await storage.profiles.insertWindow(windowOf(100_000 + w));
		after = Math.max(after, usedMiB() - base);
	}
	const perStack = (peak * 2 ** 20) / atPeak;
	rows.push(
		`| ${DEPTH} (${SHARED} shared, a new leaf) | ${atPeak.toLocaleString('en')} | ${peak.toFixed(1)} | **${perStack.toFixed(0)}** | ${after.toFixed(1)} |`,
	);
	log(
		`${atPeak} stacks before the first start-over: +${peak.toFixed(1)} MiB, ${perStack.toFixed(0)} bytes a stack; a second fill peaked at +${after.toFixed(1)} MiB`,
	);
} finally {
	await storage.close();
}

const body = `
Memory of the SQLite store's caches of stored ids (\`npx tsx bench/store-cache-memory.ts\`): windows of
${PER_WINDOW.toLocaleString('en')} new stacks each are stored into an in-memory database with the default cache budget until
the caches first start over; JS heap plus ArrayBuffers after a full collection, less what they were before.

| stack depth | stacks held at the fullest | MiB | bytes a stack | MiB at the fullest of a second fill |
|---|---:|---:|---:|---:|
${rows.join('\n')}
`;
if (values['no-write']) console.log(body);
else writeResultsSection('Store cache memory', body);

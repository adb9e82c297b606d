import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadAddon } from './addon.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

/** Resident bytes of glibc's main arena (the brk heap), where the main thread's blocks live. */
function mainArenaBytes(): number {
	const smaps = readFileSync('/proc/self/smaps', 'utf8');
	const at = smaps.indexOf('[heap]\n');
	if (at < 0) return 0;
	const rss = /^Rss:\s+(\d+) kB/m.exec(smaps.slice(at));
	return Number(rss?.[1] ?? 0) * 1024;
}

/** Collects until the ArrayBuffers' memory is freed; generous, since V8 may free them on another thread. */
async function collectUntil(done: () => boolean): Promise<void> {
	const deadline = Date.now() + 60_000;
	while (!done()) {
		assert.ok(Date.now() < deadline, `ArrayBuffers still hold ${process.memoryUsage().arrayBuffers} bytes after collections`);
		gc();
		await new Promise((r) => setTimeout(r, 20));
	}
}

/** Allocates and fills blocks of these sizes; returns how much the main arena grew while they were held. */
function holdBlocks(sizes: readonly number[], before: number): number {
	const blocks = sizes.map((n) => new Uint8Array(n).fill(1));
	assert.equal(blocks.at(-1)?.at(-1), 1);
	return mainArenaBytes() - before;
}

/**
 * A long-running collector frees large blocks of every size (drained maps, table copies,
 * ArrayBuffers). glibc would raise its mmap threshold to the largest freed and then carve the
 * next ones from its arenas, which keep what they grew to: the RSS of `firesight up` crept
 * while its JS heap stayed flat. With the addon loaded, large blocks stay mapped on their own
 * and go back to the system when freed, so the main arena does not grow by them.
 */
test('with the addon loaded, large blocks freed do not stay in the malloc arena', async () => {
	loadAddon();
	const base = process.memoryUsage().arrayBuffers;
	// A 24 MiB block freed: this is what raises glibc's threshold to 24 MiB when it is dynamic (up to 32 MiB).
	holdBlocks([24 * MiB], 0);
	await collectUntil(() => process.memoryUsage().arrayBuffers < base + MiB);

	const before = mainArenaBytes();
	const sizes = [1.5, 3, 6, 12, 2.5, 5, 10].map((m) => Math.round(m * MiB));
	const held = sizes.reduce((n, b) => n + b, 0);
	const grewWhileHeld = holdBlocks(sizes, before);
	await collectUntil(() => process.memoryUsage().arrayBuffers < base + MiB);
	const grewAfter = mainArenaBytes() - before;
	assert.ok(
		grewWhileHeld < held / 4 && grewAfter < 4 * MiB,
		`the main arena grew ${(grewWhileHeld / MiB).toFixed(1)} MiB for ${(held / MiB).toFixed(1)} MiB of large blocks, and still holds ${(grewAfter / MiB).toFixed(1)} MiB after they were freed`,
	);
});

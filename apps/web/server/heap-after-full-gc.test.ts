import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HubState } from './hub-state.ts';
import { createHubMetrics } from './metrics.ts';

// A full collection on demand, without starting the test runner with --expose-gc.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

const GAUGE = 'firesight_hub_nodejs_heap_used_after_full_gc_bytes';
const MiB = 1024 * 1024;

async function gaugeAfterFullGc(metrics: ReturnType<typeof createHubMetrics>, previous: number): Promise<number> {
	fullGc();
	// The gc entry reaches the observer on a later turn of the event loop.
	const deadline = Date.now() + 30_000;
	for (;;) {
		const value = (await metrics.registry.getSingleMetric(GAUGE)!.get()).values[0]!.value;
		if (value !== previous || Date.now() > deadline) return value;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** Small objects, as a cache's entries are: n MiB or so of them, kept by the caller. */
function smallObjects(mib: number): { i: number; s: string }[] {
	return Array.from({ length: mib * 16_384 }, (_, i) => ({ i, s: `entry ${i}` }));
}

test('/metrics reports the heap live after a full collection: it holds still between full collections, and follows what the process keeps', async () => {
	const metrics = createHubMetrics(new HubState());
	const before = await gaugeAfterFullGc(metrics, 0);
	assert.ok(before > 0, `${GAUGE} is ${before} after a full collection`);

	// Objects made since the last full collection are not counted until the next one, so garbage
	// made meanwhile never is. (Node's own gc entries say whether V8 ran a full one meanwhile.)
	let fullCollections = 0;
	const observer = new PerformanceObserver((list) => {
		for (const e of list.getEntries())
			if ((e as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) fullCollections++;
	});
	observer.observe({ entryTypes: ['gc'] });
	const kept = smallObjects(64);
	await new Promise((resolve) => setTimeout(resolve, 100));
	observer.disconnect();
	const between = (await metrics.registry.getSingleMetric(GAUGE)!.get()).values[0]!.value;
	if (fullCollections === 0)
		assert.equal(between, before, 'no full collection since, yet the gauge moved: it counts more than what was live');
	else assert.ok(between > before, `V8 ran ${fullCollections} full collection(s) while 64 MiB were kept`);

	const holding = await gaugeAfterFullGc(metrics, between);
	assert.ok(holding - before > 48 * MiB, `holding 64 MiB: ${(before / MiB).toFixed(1)} → ${(holding / MiB).toFixed(1)} MiB`);

	assert.equal(kept.length, 64 * 16_384);
	kept.length = 0;
	const released = await gaugeAfterFullGc(metrics, holding);
	assert.ok(holding - released > 48 * MiB, `letting 64 MiB go: ${(holding / MiB).toFixed(1)} → ${(released / MiB).toFixed(1)} MiB`);
	assert.match(await metrics.registry.metrics(), new RegExp(`^${GAUGE} ${released}$`, 'm'));
});

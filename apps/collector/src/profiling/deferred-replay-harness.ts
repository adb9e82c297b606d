import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Profiler, type DrainedWindow } from '@firesight/native';
import { ProcessUnwinding } from './unwind/process-unwinding.ts';

/**
 * For the tests of deferred samples: a profiler of one process that defers what it cannot walk
 * yet, with nothing describing the process (its tables "still coming") until describe(). Every
 * drain is kept, in order.
 */
export interface DeferringProfiler {
	profiler: Profiler;
	windows: DrainedWindow[];
	drain(): Promise<DrainedWindow>;
	/** Deferred samples walked again so far, over every drain. */
	replayed(): number;
	/**
	 * Reads the process, builds and loads its tables, then drains until every sample deferred
	 * so far has been walked again (at most 40 drains); returns the last drain.
	 */
	describe(): Promise<DrainedWindow>;
}

export function deferringProfiler(t: TestContext, pid: number, frequency: number): DeferringProfiler {
	const profiler = new Profiler({ frequency, pids: [pid], unwind: 'auto', deferPending: true });
	t.after(() => profiler.close());
	let coming = true;
	profiler.tablesComing = (p) => p === pid && coming;
	const windows: DrainedWindow[] = [];
	const drain = async () => {
		const d = await profiler.drain();
		windows.push(d);
		return d;
	};
	const replayed = () => windows.reduce((n, x) => n + x.replayed, 0);
	return {
		profiler,
		windows,
		drain,
		replayed,
		async describe() {
			const cacheDir = mkdtempSync(join(tmpdir(), 'firesight-deferred-'));
			t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
			const unwinding = new ProcessUnwinding(profiler, { cacheDir });
			t.after(() => unwinding.close());
			unwinding.tracker.track(pid);
			await unwinding.tracker.settled();
			coming = false;
			let d = await drain();
			for (let i = 0; i < 40 && d.totals.unwindDeferred > replayed(); i++) d = await drain();
			return d;
		},
	};
}

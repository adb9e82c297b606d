import type { UnwindMode } from '@firesight/native';
import type { ProcessRow } from '@firesight/protocol';
import type { Feature, FeatureDefinition } from '../feature.ts';
import type { SampleAttribution } from '../request-attribution.ts';
import { ProfileSampler, type TickStats } from './profile-sampler.ts';
import { SnapshotRelease } from './snapshot-release.ts';

/** The symbolizer's counts of frames it could not name: losses like the kernel's. */
const SYMBOL_MISSES = ['missNoProcess', 'missNoMapping', 'missNoFile', 'missNoSymbol', 'kernelMiss'] as const;

/**
 * Not lost either: what the symbolizer's caches let go past their byte budgets, a file's symbol
 * table or a process's maps, read again when next needed.
 */
const SYMBOL_CACHE_EVICTIONS = ['elfEvictions', 'processEvictions'] as const;

/** The symbolizer's counters among the feature's drops, named as in its stats. */
export const SYMBOLIZER_DROPS: readonly string[] = [...SYMBOL_MISSES, ...SYMBOL_CACHE_EVICTIONS];

/** The walker's early ends and full maps: stacks cut short, counted in the kernel. */
const UNWIND_ENDS = [
	'unwindNoMapping',
	'unwindNoTable',
	'unwindLookupFailed',
	'unwindReadFault',
	'unwindTooDeep',
	'unwindMappingsFull',
	'unwindStacksFull',
	'unwindRuleUnsupported',
	'unwindNoProgress',
	'unwindFramePointerLost',
	// Possibly lost: a zero return address no rule marked as the end (see bpf/profile.h).
	'unwindZeroReturn',
	'unwindTablePending',
	'unwindDeferRingFull',
	'unwindDeferQueueFull',
	// Not the walker's miss: the process exited before it could be read (its frames go unnamed too).
	'unwindProcessExited',
	// Nor this: the process exec'd before its sample was walked again (its frames are marked so).
	'unwindProcessExeced',
	// Nor this: a uretprobe's trampoline the kernel had not noted yet hid the caller (perf's walk is cut too).
	'unwindUretprobeTrampoline',
	// Not lost: walked again once their tables were in. Shown so the deferral can be seen working.
	'unwindDeferred',
] as const;

/** Rows with their samples per second over the tick the samples were counted in. */
export function withSamples(rows: ProcessRow[], samplesByPid: TickStats['samplesByPid'], elapsedMs: number): ProcessRow[] {
	const seconds = elapsedMs / 1000;
	return rows.map((row) => {
		const samples = samplesByPid.get(row.pid)?.samples ?? 0;
		return { ...row, samplesPerSec: seconds > 0 ? Math.round((samples / seconds) * 10) / 10 : samples };
	});
}

/**
 * CPU profiles: the perf_event sampler drained every tick into samples per process, symbolized
 * into the current window, which is sent at each window's end.
 */
export function profilingFeature(options: { frequency: number; unwind?: UnwindMode; attribution?: SampleAttribution }): FeatureDefinition {
	return {
		name: 'profile',
		title: 'CPU profiling',
		start({ host, send, log }): Feature {
			const sampler = new ProfileSampler({
				frequency: options.frequency,
				windowMs: Number.MAX_SAFE_INTEGER,
				tickMs: 0,
				unwind: options.unwind ?? 'auto',
				...(options.attribution ? { attribution: options.attribution } : {}),
			});
			let last: TickStats | undefined;
			// The first window waits for the running processes' unwind tables: say so, or an empty
			// Profiles page looks like a broken collector for those seconds.
			let warmingUp = sampler.warmingUp;
			const warmUpStart = Date.now();
			if (warmingUp) log('CPU profiling: loading the unwind tables of the running processes before the first window');
			// A process's maps are snapshotted when it is first seen, so its samples still symbolize
			// after it exits; the snapshot is dropped once the window that may hold them is sent.
			const snapshots = new SnapshotRelease(sampler.symbolizer);
			return {
				async tick() {
					last = await sampler.tick();
					if (warmingUp && !sampler.warmingUp) {
						warmingUp = false;
						log(`CPU profiling: unwind tables loaded in ${((Date.now() - warmUpStart) / 1000).toFixed(1)} s, sampling`);
					}
				},
				processRows: (rows) => (last ? withSamples(rows, last.samplesByPid, last.elapsedMs) : rows),
				processStarted: (pid) => {
					snapshots.started(pid);
					sampler.symbolizer.observe(pid);
					sampler.unwinding?.tracker.track(pid);
				},
				processExited: (pid) => {
					snapshots.exited(pid);
					// The walker needs a process's mappings only while it runs.
					sampler.unwinding?.tracker.forget(pid);
				},
				window() {
					// A window is the profile as built, plus its host: no copy of its frames or samples.
					send({ type: 'profile', window: { ...sampler.closeWindow(), host } });
					snapshots.windowSent();
				},
				warmingUp: () => {
					if (!warmingUp) return undefined;
					const tables = sampler.unwinding?.tracker.stats();
					return { sinceMs: warmUpStart, ...(tables ? { tablesLoaded: tables.tables, processesQueued: tables.queued } : {}) };
				},
				drops() {
					const k = last?.counters;
					const symbols = sampler.symbolizer.stats();
					const out: Record<string, number> = {
						userStackMissing: k?.userStackMissing ?? 0,
						kernelStackMissing: k?.kernelStackMissing ?? 0,
						stackCollisions: k?.stackCollisions ?? 0,
						countsMapFull: k?.countsMapFull ?? 0,
						// Not lost samples, but names shortened to fit the wire: worth seeing all the same.
						framesCut: sampler.cuts.frames,
					};
					for (const name of SYMBOLIZER_DROPS) out[name] = symbols[name] ?? 0;
					for (const name of UNWIND_ENDS) out[name] = k?.[name] ?? 0;
					const unwinding = sampler.unwinding?.counters;
					if (unwinding) Object.assign(out, unwinding);
					return out;
				},
				async stop() {
					const rest = await sampler.stop();
					if (rest.samples.length) send({ type: 'profile', window: { ...rest, host } });
				},
			};
		},
	};
}

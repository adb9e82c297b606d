import { mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DrainedWindow, UnwindMode } from '@firesight/native';
import { MappingTracker, type UnwindTarget, type UnwindTrackerCounters } from './mapping-tracker.ts';
import { TableBuilder } from './table-builder.ts';

/** How user stacks are walked: `--unwind fp|dwarf|auto`. */
export type { UnwindMode };

/** How often new processes are looked for between drains (a sample's worth at 97 Hz and less). */
const UNMAPPED_POLL_MS = 50;

/** What the walker asks of the collector: processes to read again, big tables to load. */
export type WalkerAsks = Pick<DrainedWindow, 'unmappedPids' | 'wantedFiles'>;

/**
 * Where built unwind tables are kept across restarts: beside the spool, under /var/lib/firesight
 * as root, else under the temp directory.
 */
export function defaultUnwindCacheDir(): string {
	if (process.getuid?.() === 0) {
		try {
			mkdirSync('/var/lib/firesight', { recursive: true });
			return '/var/lib/firesight/unwind-cache';
		} catch {
			// A read-only /var/lib: the temp directory still works.
		}
	}
	return join(tmpdir(), 'firesight', 'unwind-cache');
}

export interface ProcessUnwindingOptions {
	cacheDir?: string;
	procRoot?: string;
	graceMs?: number;
}

/**
 * The collector's half of DWARF unwinding for one Profiler: a table builder on a worker thread and
 * the tracker of every process's mappings, fed after each drain with the processes whose samples
 * hit code the walker did not know.
 */
export class ProcessUnwinding {
	readonly tracker: MappingTracker;
	readonly #builder: TableBuilder;

	readonly #procRoot: string;
	#poll: NodeJS.Timeout | undefined;

	constructor(target: UnwindTarget, options: ProcessUnwindingOptions = {}) {
		this.#procRoot = options.procRoot ?? '/proc';
		this.#builder = new TableBuilder(options.cacheDir ?? defaultUnwindCacheDir());
		this.tracker = new MappingTracker({
			target,
			build: (paths, options) => this.#builder.build(paths, options),
			...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
			...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
		});
	}

	/** Reads the maps of every process running now (kernel threads drop out on the way). */
	trackHost(): void {
		for (const name of readdirSync(this.#procRoot)) if (/^[1-9]\d*$/.test(name)) this.tracker.track(Number(name));
	}

	/**
	 * Between drains, every `everyMs`: reads the maps of the processes that have hit unknown code
	 * so far. A new process is then described within tens of milliseconds of its first samples, not
	 * at the next drain: until it is, its stacks are walked without its tables (unwindTablePending).
	 */
	pollUnmapped(take: () => WalkerAsks, everyMs = UNMAPPED_POLL_MS): void {
		clearInterval(this.#poll);
		this.#poll = setInterval(() => {
			try {
				this.#answer(take());
			} catch {
				// The profiler is closing: the drain reports the rest, or nothing is left to walk.
			}
		}, everyMs);
		this.#poll.unref();
	}

	/** After a drain: read the maps of processes that hit unknown code, load wanted tables, and let idle ones go. */
	afterDrain(asks: WalkerAsks): void {
		this.#answer(asks);
		this.tracker.sweep();
	}

	#answer(asks: WalkerAsks): void {
		for (const pid of asks.unmappedPids) this.tracker.track(pid);
		for (const fileId of asks.wantedFiles) this.tracker.want(fileId);
	}

	get counters(): UnwindTrackerCounters {
		return this.tracker.counters;
	}

	async close(): Promise<void> {
		clearInterval(this.#poll);
		this.tracker.close();
		await this.#builder.close();
	}
}

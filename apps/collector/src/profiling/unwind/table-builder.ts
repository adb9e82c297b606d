import { Worker } from 'node:worker_threads';
import { UnwindTableCache } from '@firesight/unwind';
import { handleTableBuild, MAX_UNWIND_SECTION_BYTES, type TableBuildReply, type TableBuildRequest } from './table-build-job.ts';

export interface BuildOptions {
	/** Past this many bytes of unwind info the file is not built but answered 'deferred' (the worker is never asked). */
	deferAbove?: number;
}

export type TableBuildResult = TableBuildReply extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** An idle worker is stopped after this long: its heap (tens of MiB after building node's table) goes with it. */
const IDLE_MS = 10_000;
const WORKER_YOUNG_MB = 4;
/**
 * Files with at most this much unwind info are built on the main thread (under 10 ms): the
 * programs and libraries a busy host starts all the time are small, and the worker is not.
 */
const BUILD_HERE_UP_TO = 64 * 1024;

/**
 * Unwind tables through the disk cache: a table on disk, or of a small file, is read or built on
 * this thread, one file per turn of the event loop; a big file's is built on a worker thread, one
 * file at a time. The worker costs some 40 MiB of memory while it runs (its own heap, and the
 * TypeScript loader it needs), so it is started only for such a build, keeps the process alive
 * only while it has work, and is stopped when idle for a while: on a host whose big files' tables
 * are on disk it never runs.
 */
export class TableBuilder {
	readonly #cacheDir: string;
	readonly #idleMs: number;
	readonly #maxSectionBytes: number;
	#worker: Worker | undefined;
	#idleTimer: NodeJS.Timeout | undefined;
	#next = 1;
	readonly #waiting = new Map<number, (r: TableBuildResult) => void>();
	readonly #cache: UnwindTableCache;
	/** Files to look for on disk, in turn. */
	readonly #lookups: { paths: readonly string[]; deferAbove: number | undefined; resolve: (r: TableBuildResult) => void }[] = [];
	#lookingUp = false;
	#closed = false;

	readonly #buildHereUpTo: number;

	constructor(cacheDir: string, options: { idleMs?: number; maxSectionBytes?: number; buildHereUpTo?: number } = {}) {
		this.#cacheDir = cacheDir;
		this.#buildHereUpTo = options.buildHereUpTo ?? BUILD_HERE_UP_TO;
		this.#cache = new UnwindTableCache(cacheDir);
		this.#idleMs = options.idleMs ?? IDLE_MS;
		this.#maxSectionBytes = options.maxSectionBytes ?? MAX_UNWIND_SECTION_BYTES;
	}

	/** Whether a worker thread is running now. */
	get running(): boolean {
		return this.#worker !== undefined;
	}

	/** The table of the file at the first readable path. Never rejects: failures are results. */
	build(paths: readonly string[], options: BuildOptions = {}): Promise<TableBuildResult> {
		if (this.#closed) return Promise.resolve({ ok: false, error: 'closed' });
		return new Promise((resolve) => {
			this.#lookups.push({ paths, deferAbove: options.deferAbove, resolve });
			this.#lookUp();
		});
	}

	/** Reads the queued files' tables from disk, one per turn; sends the misses to the worker. */
	#lookUp(): void {
		if (this.#lookingUp) return;
		this.#lookingUp = true;
		setImmediate(() => {
			this.#lookingUp = false;
			const next = this.#lookups.shift();
			if (next === undefined) return;
			if (this.#lookups.length > 0) this.#lookUp();
			let found: TableBuildReply | 'miss';
			try {
				found = handleTableBuild(this.#cache, { id: 0, paths: next.paths }, this.#maxSectionBytes, this.#buildHereUpTo, next.deferAbove);
			} catch {
				found = 'miss'; // the worker will say what is wrong with it
			}
			if (found === 'miss') {
				void this.#build(next.paths).then(next.resolve);
				return;
			}
			const { id: _, ...result } = found;
			next.resolve(result);
		});
	}

	#build(paths: readonly string[]): Promise<TableBuildResult> {
		if (this.#closed) return Promise.resolve({ ok: false, error: 'closed' });
		const worker = this.#start();
		clearTimeout(this.#idleTimer);
		const id = this.#next++;
		// Held while it works (a build must finish), not while idle.
		worker.ref();
		return new Promise((resolve) => {
			this.#waiting.set(id, resolve);
			worker.postMessage({ id, paths } satisfies TableBuildRequest);
		});
	}

	/** Builds waiting for a reply. */
	get pending(): number {
		return this.#waiting.size + this.#lookups.length;
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const { resolve } of this.#lookups.splice(0)) resolve({ ok: false, error: 'closed' });
		const w = this.#worker;
		this.#worker = undefined;
		clearTimeout(this.#idleTimer);
		this.#fail('closed');
		// Not awaited: a worker stopped while it starts up may never report its exit, and a caller
		// awaiting that (record's stop, the collector's shutdown) would be left behind by an event
		// loop with nothing else to wait for. Nothing here needs the thread gone first.
		w?.unref();
		void w?.terminate();
	}

	#start(): Worker {
		if (this.#worker) return this.#worker;
		// The sources are TypeScript run through tsx: the worker registers it before loading its job.
		const api = import.meta.resolve('tsx/esm/api');
		const job = new URL('./table-build-job.ts', import.meta.url).href;
		const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(job)}); })`;
		// A small young generation: a build makes its garbage in bursts, and V8's default lets it
		// grow to tens of MiB (node's table peaked at 180 MiB of RSS, 150 with this, as fast).
		const worker = new Worker(code, {
			eval: true,
			resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
			workerData: { cacheDir: this.#cacheDir, maxSectionBytes: this.#maxSectionBytes },
		});
		worker.unref();
		worker.on('message', (reply: TableBuildReply) => {
			const { id, ...result } = reply;
			const resolve = this.#waiting.get(id);
			this.#waiting.delete(id);
			if (this.#waiting.size === 0) {
				worker.unref();
				this.#idleTimer = setTimeout(() => {
					if (this.#worker !== worker || this.#waiting.size > 0) return;
					this.#worker = undefined;
					void worker.terminate();
				}, this.#idleMs);
				this.#idleTimer.unref();
			}
			resolve?.(result);
		});
		// A worker that died fails what it held; the next build starts a new one. One stopped on
		// purpose (idle, or closed) is no longer the current worker and has nothing to fail.
		const gone = (why: string) => {
			if (this.#worker !== worker) return;
			this.#worker = undefined;
			this.#fail(why);
		};
		worker.on('error', (err) => gone(`table builder failed: ${err.message}`));
		worker.on('exit', (code) => gone(`table builder exited with ${code}`));
		this.#worker = worker;
		return worker;
	}

	#fail(error: string): void {
		const waiting = [...this.#waiting.values()];
		this.#waiting.clear();
		for (const resolve of waiting) resolve({ ok: false, error });
	}
}

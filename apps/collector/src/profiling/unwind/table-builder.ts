import { Worker } from 'node:worker_threads';
import type { TableBuildReply, TableBuildRequest } from './table-build-job.ts';

export type TableBuildResult = TableBuildReply extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Builds unwind tables on a worker thread, one file at a time, through the disk cache. The worker
 * is started on first use and keeps the process alive only while it has work.
 */
export class TableBuilder {
	readonly #cacheDir: string;
	#worker: Worker | undefined;
	#next = 1;
	readonly #waiting = new Map<number, (r: TableBuildResult) => void>();

	constructor(cacheDir: string) {
		this.#cacheDir = cacheDir;
	}

	/** The table of the file at the first readable path. Never rejects: failures are results. */
	build(paths: readonly string[]): Promise<TableBuildResult> {
		const worker = this.#start();
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
		return this.#waiting.size;
	}

	async close(): Promise<void> {
		const w = this.#worker;
		this.#worker = undefined;
		this.#fail('closed');
		await w?.terminate();
	}

	#start(): Worker {
		if (this.#worker) return this.#worker;
		// The sources are TypeScript run through tsx: the worker registers it before loading its job.
		const api = import.meta.resolve('tsx/esm/api');
		const job = new URL('./table-build-job.ts', import.meta.url).href;
		const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(job)}); })`;
		const worker = new Worker(code, { eval: true, workerData: { cacheDir: this.#cacheDir } });
		worker.unref();
		worker.on('message', (reply: TableBuildReply) => {
			const { id, ...result } = reply;
			const resolve = this.#waiting.get(id);
			this.#waiting.delete(id);
			if (this.#waiting.size === 0) worker.unref();
			resolve?.(result);
		});
		// A dead worker fails what it held; the next build starts a new one.
		const gone = (why: string) => {
			if (this.#worker === worker) this.#worker = undefined;
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

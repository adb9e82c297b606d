import type { Symbolizer } from '@firesight/symbolize';

/**
 * When the symbolizer lets go of a process's maps snapshot, which it keeps so that samples taken
 * before an exit are still named. A process the process table saw exit goes once the window that
 * may hold its samples is sent. One the table never saw (it started and exited between two of its
 * looks, half a second apart, but was alive when its samples were named, which read its maps) is
 * never announced: its snapshot goes once a whole window has passed since its maps were last read,
 * by which time its samples are long drained. Without that, a host that starts many short-lived
 * processes added snapshots until the symbolizer's budget let the oldest go.
 */
export class SnapshotRelease {
	readonly #symbolizer: Symbolizer;
	/** Processes the table has announced and not yet seen exit. */
	readonly #running = new Set<number>();
	readonly #exited = new Set<number>();
	/** When the previous window was sent (Date.now()). */
	#lastWindowAt: number;

	constructor(symbolizer: Symbolizer, now = Date.now()) {
		this.#symbolizer = symbolizer;
		this.#lastWindowAt = now;
	}

	started(pid: number): void {
		this.#running.add(pid);
	}

	exited(pid: number): void {
		this.#running.delete(pid);
		this.#exited.add(pid);
	}

	/** Call once a window is sent. */
	windowSent(now = Date.now()): void {
		for (const pid of this.#exited) this.#symbolizer.forget(pid);
		this.#exited.clear();
		const since = this.#lastWindowAt;
		this.#lastWindowAt = now;
		this.#symbolizer.forgetIf((pid, readAt) => !this.#running.has(pid) && readAt < since);
	}
}

/** Slots for requests at work; a waiter whose signal aborts leaves the queue. */
export class RequestGate {
	#free: number;
	readonly #waiting: (() => void)[] = [];
	readonly #maxWaiting: number;

	constructor(slots: number, maxWaiting: number) {
		this.#free = slots;
		this.#maxWaiting = maxWaiting;
	}

	/** Resolves with a release function, or null when the queue is full or the signal aborted. */
	enter(signal: AbortSignal): Promise<(() => void) | null> {
		const release = () => {
			const next = this.#waiting.shift();
			if (next) next();
			else this.#free++;
		};
		if (this.#free > 0) {
			this.#free--;
			return Promise.resolve(release);
		}
		if (this.#waiting.length >= this.#maxWaiting) return Promise.resolve(null);
		return new Promise((resolve) => {
			const go = () => {
				signal.removeEventListener('abort', leave);
				resolve(release);
			};
			const leave = () => {
				const i = this.#waiting.indexOf(go);
				if (i >= 0) this.#waiting.splice(i, 1);
				resolve(null);
			};
			this.#waiting.push(go);
			signal.addEventListener('abort', leave, { once: true });
		});
	}
}

import { randomBytes } from 'node:crypto';

/**
 * Browser sessions after a login: random ids, never the token itself, so a cookie that leaks
 * does not give away what collectors use. In memory: a restarted hub asks browsers to log in
 * again. Bounded: past `max` sessions the oldest is forgotten.
 */
export class Sessions {
	readonly #expires = new Map<string, number>();
	readonly #ttlMs: number;
	readonly #max: number;

	constructor(opts: { ttlMs: number; max: number }) {
		this.#ttlMs = opts.ttlMs;
		this.#max = opts.max;
	}

	get ttlMs(): number {
		return this.#ttlMs;
	}

	create(now = Date.now()): string {
		const id = randomBytes(32).toString('base64url');
		this.#expires.set(id, now + this.#ttlMs);
		if (this.#expires.size > this.#max) {
			// Maps iterate in insertion order: the first key is the oldest session.
			const oldest = this.#expires.keys().next().value;
			if (oldest !== undefined) this.#expires.delete(oldest);
		}
		return id;
	}

	valid(id: string | undefined, now = Date.now()): boolean {
		if (!id) return false;
		const expires = this.#expires.get(id);
		if (expires === undefined) return false;
		if (expires <= now) {
			this.#expires.delete(id);
			return false;
		}
		return true;
	}

	delete(id: string | undefined): void {
		if (id) this.#expires.delete(id);
	}
}

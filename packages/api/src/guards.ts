import { ApiError } from './errors.ts';
import { MAX_RANGE_MS } from './inputs.ts';

export function checkRange(q: { fromMs: number; toMs: number }): void {
	if (q.toMs - q.fromMs > MAX_RANGE_MS) {
		throw new ApiError('RANGE_TOO_LARGE', `a query may span at most ${MAX_RANGE_MS / 86_400_000} days`);
	}
}

/** Store failures surface as UNAVAILABLE with the reason, not as a stack trace. */
export async function guarded<T>(what: string, fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (err) {
		if (err instanceof ApiError) throw err;
		throw new ApiError('UNAVAILABLE', `${what}: ${(err as Error).message}`, err);
	}
}

/**
 * Reconnect delays: exponential from `baseMs` up to `maxMs`, with up to 20% jitter so that many
 * browsers do not reconnect in lockstep after a hub restart.
 */
export function backoffDelay(attempt: number, baseMs = 500, maxMs = 8_000, random = Math.random): number {
	const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
	return Math.round(exp * (0.8 + 0.2 * random()));
}

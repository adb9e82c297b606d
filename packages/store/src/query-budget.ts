import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a caller may still spend on the queries it makes: a signal (the client left, or its time
 * ran out) and a deadline. The deadline is for synchronous loops (SQLite): while one runs no
 * timer can fire to abort the signal, so the loop itself compares the clock.
 */
export interface QueryBudget {
	signal: AbortSignal;
	deadlineMs: number;
}

/** A query stopped because its caller's budget was spent; nobody is waiting for its answer. */
export class QueryAbortedError extends Error {
	constructor() {
		super('query aborted: its time budget ran out or its client left');
		this.name = 'QueryAbortedError';
	}
}

/**
 * Carried with the caller's async context rather than through every store method, so every query
 * a request makes, however deep in the API, stops when the request's budget is spent.
 */
const current = new AsyncLocalStorage<QueryBudget>();

/** Runs `fn` with every store query it makes (directly or through promises) under `budget`. */
export function withQueryBudget<T>(budget: QueryBudget, fn: () => T): T {
	return current.run(budget, fn);
}

/** The signal of the budget the current query runs under, for clients that take one (ClickHouse). */
export function querySignal(): AbortSignal | undefined {
	return current.getStore()?.signal;
}

/** Throws QueryAbortedError once the current budget is spent; cheap enough to call per window read. */
export function checkQueryBudget(): void {
	const budget = current.getStore();
	if (budget && (budget.signal.aborted || Date.now() >= budget.deadlineMs)) throw new QueryAbortedError();
}

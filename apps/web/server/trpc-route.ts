import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { appRouter, type ApiContext } from '@firesight/api';
import { QueryAbortedError, withQueryBudget } from '@firesight/store';
import type { HubMetrics } from './metrics.ts';
import { RequestGate } from './request-gate.ts';

/**
 * What one client may ask of the API. A batch of 120 flame queries once drove a hub to 4.3 GB;
 * these bound the calls per request, the requests at work at once, how long an answer may take
 * and how large it may be.
 */
export interface ApiBudget {
	/** Calls in one batch (tRPC's own limit; the dashboard's client batches fewer). */
	maxBatchSize: number;
	/** Bytes of a POST body. */
	maxBodyBytes: number;
	/** Bytes of one answer. */
	maxResponseBytes: number;
	/** From arrival to answer, waiting included. */
	timeMs: number;
	/** Requests being answered at once; the rest wait. */
	concurrent: number;
	/** Requests waiting; past this the hub answers 503 at once. */
	queued: number;
}

export const DEFAULT_API_BUDGET: ApiBudget = {
	maxBatchSize: 10,
	maxBodyBytes: 256 * 1024,
	maxResponseBytes: 64 * 1024 * 1024,
	timeMs: 30_000,
	concurrent: 4,
	queued: 64,
};

function headersOf(req: IncomingMessage): Headers {
	const headers = new Headers();
	for (const [key, value] of Object.entries(req.headers)) {
		if (key.startsWith(':')) continue;
		if (Array.isArray(value)) for (const v of value) headers.append(key, v);
		else if (value !== undefined) headers.append(key, value);
	}
	return headers;
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > max) return null;
		chunks.push(chunk);
	}
	return Buffer.concat(chunks);
}

/** The body, or null once it passes `max` bytes. */
async function readCapped(response: Response, max: number): Promise<Uint8Array | null> {
	if (!response.body) return new Uint8Array();
	const reader = response.body.getReader();
	const parts: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > max) {
			await reader.cancel();
			return null;
		}
		parts.push(value);
	}
	return Buffer.concat(parts);
}

/**
 * An error every tRPC client understands: one error per call of the batch, in the API's own
 * shape (`data.firesight`), so the dashboard shows the message.
 */
function sendError(req: IncomingMessage, res: ServerResponse, status: 413 | 503, message: string): void {
	if (res.headersSent) {
		res.destroy();
		return;
	}
	const url = new URL(req.url ?? '/', 'http://hub');
	const one = {
		error: {
			message,
			code: status === 413 ? TRPC_ERROR_CODES_BY_KEY.PAYLOAD_TOO_LARGE : TRPC_ERROR_CODES_BY_KEY.SERVICE_UNAVAILABLE,
			data: {
				code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'SERVICE_UNAVAILABLE',
				httpStatus: status,
				firesight: status === 413 ? 'BAD_INPUT' : 'UNAVAILABLE',
			},
		},
	};
	const calls = url.pathname.replace(/^\/trpc\/?/, '').split(',').length;
	const body = url.searchParams.get('batch') === '1' ? Array.from({ length: calls }, () => one) : one;
	res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
	res.end(JSON.stringify(body));
}

/** Whether a QueryAbortedError is somewhere down the error's causes (tRPC and the API wrap it). */
function abortedQuery(err: unknown): boolean {
	for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
		if (e instanceof QueryAbortedError) return true;
	}
	return false;
}

/** `/trpc/*` through tRPC's fetch adapter, inside the budget. */
export function createTrpcRoute(opts: {
	ctx: ApiContext;
	metrics: HubMetrics;
	budget?: Partial<ApiBudget>;
	log(line: string): void;
	/** Who is asking (the context's `requester`). */
	requester?(req: IncomingMessage): string;
}) {
	const budget = { ...DEFAULT_API_BUDGET, ...opts.budget };
	const gate = new RequestGate(budget.concurrent, budget.queued);
	const refused = new Counter({
		name: 'firesight_hub_api_refused_total',
		help: 'API requests refused for going over budget: batch size, busy, time, body size, answer size',
		labelNames: ['reason'] as const,
		registers: [opts.metrics.registry],
	});
	const abandoned = new Counter({
		name: 'firesight_hub_api_queries_aborted_total',
		help: 'Store queries stopped before their end because the API request they served ran out of time or its client left',
		registers: [opts.metrics.registry],
	});

	return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		// tRPC refuses a batch over maxBatchSize itself, but uncounted: refused here first, by reason.
		const url = new URL(req.url ?? '/', 'http://hub');
		const calls = url.pathname.replace(/^\/trpc\/?/, '').split(',').length;
		if (url.searchParams.get('batch') === '1' && calls > budget.maxBatchSize) {
			refused.inc({ reason: 'batch' });
			return sendError(req, res, 413, `a batch of ${calls} calls is over the API's limit of ${budget.maxBatchSize}`);
		}
		let body: Buffer | undefined;
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			const read = await readBody(req, budget.maxBodyBytes);
			if (!read) {
				refused.inc({ reason: 'body' });
				return sendError(req, res, 413, `request body over the API's limit of ${budget.maxBodyBytes} bytes`);
			}
			body = read;
		}
		const deadlineMs = Date.now() + budget.timeMs;
		const ac = new AbortController();
		const onClose = () => {
			if (!res.writableEnded) ac.abort();
		};
		res.once('close', onClose);
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			ac.abort();
		}, budget.timeMs);
		try {
			const release = await gate.enter(ac.signal);
			if (!release) {
				if (res.destroyed) return;
				refused.inc({ reason: timedOut ? 'time' : 'busy' });
				return sendError(
					req,
					res,
					503,
					timedOut ? `the hub could not start this query within ${budget.timeMs} ms` : 'the hub is busy with other queries; try again',
				);
			}
			const request = new Request(new URL(req.url ?? '/', 'http://hub'), {
				method: req.method ?? 'GET',
				headers: headersOf(req),
				signal: ac.signal,
				...(body ? { body: new Uint8Array(body) } : {}),
			});
			// The slot is given back when the work ends, not when the client gave up on it, so
			// abandoned queries still count against the hub's capacity.
			// The store queries this request makes stop once its budget is spent, instead of running to
			// their end for an answer nobody waits for.
			const work = withQueryBudget({ signal: ac.signal, deadlineMs }, () =>
				fetchRequestHandler({
					endpoint: '/trpc',
					req: request,
					router: appRouter,
					createContext: () => (opts.requester ? { ...opts.ctx, requester: opts.requester(req) } : opts.ctx),
					maxBatchSize: budget.maxBatchSize,
					onError({ error, path }) {
						if (abortedQuery(error)) abandoned.inc();
						else if (error.code === 'INTERNAL_SERVER_ERROR') opts.log(`trpc ${path ?? '?'}: ${error.message}`);
					},
				}),
			).finally(release);
			const aborted = new Promise<null>((resolve) => {
				if (ac.signal.aborted) resolve(null);
				ac.signal.addEventListener('abort', () => resolve(null), { once: true });
			});
			const response = await Promise.race([work, aborted]);
			if (!response) {
				if (res.destroyed) return;
				refused.inc({ reason: 'time' });
				return sendError(req, res, 503, `the query took longer than the API's budget of ${budget.timeMs} ms`);
			}
			const bytes = await Promise.race([readCapped(response, budget.maxResponseBytes), aborted]);
			if (!bytes) {
				if (res.destroyed) return;
				refused.inc({ reason: timedOut ? 'time' : 'size' });
				return sendError(
					req,
					res,
					503,
					timedOut
						? `the query took longer than the API's budget of ${budget.timeMs} ms`
						: `the answer is over the API's limit of ${budget.maxResponseBytes} bytes; ask for less`,
				);
			}
			const headers: Record<string, string> = {};
			response.headers.forEach((value, key) => {
				headers[key] = value;
			});
			res.writeHead(response.status, { ...headers, 'content-length': String(bytes.byteLength) });
			res.end(req.method === 'HEAD' ? undefined : bytes);
		} finally {
			clearTimeout(timer);
			res.off('close', onClose);
		}
	};
}

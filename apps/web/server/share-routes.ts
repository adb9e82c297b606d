import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import { ApiError, PUBLIC_SHARE_PROCEDURES, shareFromFile, type ApiContext } from '@firesight/api';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from '@firesight/profile';
import { isShareId } from '@firesight/store';
import type { HubMetrics } from './metrics.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Share reads anyone holding a share's id may make without logging in: the page `/s/<id>` (and
 * `/s/<id>/sandwich`, `/s/<id>/diff/<other id>`),
 * the share's pprof or folded download, and the tRPC reads of one share (every call of a batch
 * must be one). The unguessable id is the capability; nothing else becomes public.
 */
export function isPublicShareRead(method: string | undefined, path: string, search: URLSearchParams): boolean {
	if (!SAFE_METHODS.has(method ?? 'GET')) return false;
	// A share, its sandwich view, and a diff of two shares (whoever has both ids).
	if (/^\/s\/[^/]+(?:\/sandwich|\/diff\/[^/]+)?$/.test(path)) return true;
	if (path === '/api/pprof') return search.has('share') && !search.has('from') && !search.has('to');
	if (path.startsWith('/trpc/')) {
		const procedures = decoded(path.slice('/trpc/'.length)).split(',');
		return procedures.length > 0 && procedures.every((p) => PUBLIC_SHARE_PROCEDURES.includes(p));
	}
	return false;
}

/** A path segment decoded; a malformed escape (`%E0%A4%A`) stays as it is, matching nothing. */
function decoded(segment: string): string {
	try {
		return decodeURIComponent(segment);
	} catch {
		return segment;
	}
}

/** The header by which the hub tells the share page its id is unknown, so it answers 404. */
export const SHARE_MISSING_HEADER = 'x-firesight-share-missing';

/**
 * Before `/s/<id>` reaches the dashboard: looks the id up, so an unknown or malformed one gets
 * the not-found page with status 404 rather than a page that finds nothing later.
 */
export async function markSharePage(req: IncomingMessage, path: string, ctx: ApiContext): Promise<void> {
	// Only the hub says so; a client's own header would only hide a share from itself, but still.
	delete req.headers[SHARE_MISSING_HEADER];
	const match = /^\/s\/([^/]+)$/.exec(path);
	if (!match) return;
	const id = decoded(match[1]!);
	// The summary only: decoding the whole profile here would delay the page by as much again.
	const known = isShareId(id) && (await ctx.storage.shares.summary(id)) !== null;
	if (!known) req.headers[SHARE_MISSING_HEADER] = '1';
}

export interface ImportRouteOptions {
	ctx: ApiContext;
	metrics: HubMetrics;
	limits?: ImportLimits | undefined;
	/** Who is asking: the share's maker when the upload names none. */
	requester?(req: IncomingMessage): string;
}

const STATUS = { BAD_INPUT: 400, RANGE_TOO_LARGE: 400, TOO_LARGE: 413, NOT_FOUND: 404, UNAVAILABLE: 503, INTERNAL: 500 } as const;

function text(res: ServerResponse, status: number, body: string): void {
	res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
	res.end(body.endsWith('\n') ? body : body + '\n');
}

/**
 * `POST /api/import?name=FILE` with the file as the body: a pprof, folded, perf script or
 * .cpuprofile file becomes a share, answered as JSON `{ id, path, ...summary }`. A bad file is
 * 400 and one line, a file over the limit 413; nothing is stored either way.
 */
export function createImportRoute(options: ImportRouteOptions): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
	const maxBytes = options.limits?.maxBytes ?? DEFAULT_IMPORT_LIMITS.maxBytes;
	const imports = new Counter({
		name: 'firesight_hub_imports_total',
		help: 'Profile files posted to /api/import, by result (stored, refused, too_large, failed)',
		labelNames: ['result'] as const,
		registers: [options.metrics.registry],
	});
	return async (req, res, url) => {
		if (req.method !== 'POST') {
			res.setHeader('allow', 'POST');
			return text(res, 405, 'use POST with the file as the body');
		}
		const declared = Number(req.headers['content-length'] ?? Number.NaN);
		if (declared > maxBytes) {
			imports.inc({ result: 'too_large' });
			res.setHeader('connection', 'close');
			text(res, 413, `the file is larger than ${maxBytes} bytes, the import limit`);
			req.destroy();
			return;
		}
		const chunks: Buffer[] = [];
		let size = 0;
		for await (const chunk of req as AsyncIterable<Buffer>) {
			size += chunk.length;
			if (size > maxBytes) {
				imports.inc({ result: 'too_large' });
				res.setHeader('connection', 'close');
				text(res, 413, `the file is larger than ${maxBytes} bytes, the import limit`);
				req.destroy();
				return;
			}
			chunks.push(chunk);
		}
		try {
			const summary = await shareFromFile(options.ctx, Buffer.concat(chunks), {
				filename: url.searchParams.get('name') ?? undefined,
				creator: url.searchParams.get('creator') || options.requester?.(req),
				limits: options.limits,
			});
			imports.inc({ result: 'stored' });
			res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' });
			res.end(JSON.stringify({ ...summary, path: `/s/${summary.id}` }));
		} catch (err) {
			if (!(err instanceof ApiError)) throw err;
			imports.inc({ result: err.firesight === 'TOO_LARGE' ? 'too_large' : err.firesight === 'BAD_INPUT' ? 'refused' : 'failed' });
			text(res, STATUS[err.firesight], err.message);
		}
	};
}

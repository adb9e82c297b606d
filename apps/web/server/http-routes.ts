import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, profileExport, type ApiContext } from '@firesight/api';
import type { HubMetrics } from './metrics.ts';

const STATUS = { BAD_INPUT: 400, RANGE_TOO_LARGE: 400, TOO_LARGE: 413, NOT_FOUND: 404, UNAVAILABLE: 503, INTERNAL: 500 } as const;

function text(res: ServerResponse, status: number, body: string): void {
	res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
	res.end(body.endsWith('\n') ? body : body + '\n');
}

/** GET /api/pprof?from=&to=&host=&pid=&comm= or ?share=ID, with format=folded for folded text → a download. */
export async function servePprof(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
	if (req.method !== 'GET' && req.method !== 'HEAD') {
		res.setHeader('allow', 'GET, HEAD');
		return text(res, 405, 'use GET');
	}
	try {
		const out = await profileExport(ctx, url.searchParams);
		res.writeHead(200, {
			'content-type': out.contentType,
			'content-length': out.body.byteLength,
			'content-disposition': `attachment; filename="${out.filename}"`,
			'cache-control': 'no-store',
			'x-firesight-samples': String(out.totalSamples),
		});
		res.end(req.method === 'HEAD' ? undefined : out.body);
	} catch (err) {
		if (err instanceof ApiError) return text(res, STATUS[err.firesight], err.message);
		throw err;
	}
}

export async function serveMetrics(res: ServerResponse, metrics: HubMetrics): Promise<void> {
	const body = await metrics.registry.metrics();
	res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
	res.end(body);
}

export function serveText(res: ServerResponse, status: number, body: string): void {
	text(res, status, body);
}

import { toPprof, totalWeight } from '@firesight/profile';
import { formatZodError } from '@firesight/protocol';
import { ApiError } from './errors.ts';
import type { ApiContext } from './context.ts';
import { MAX_RANGE_MS, profileQueryInput } from './inputs.ts';

export interface ProfileExport {
	/** Gzipped pprof. */
	body: Uint8Array;
	filename: string;
	totalSamples: number;
}

function num(v: string | null): number | undefined {
	if (v === null || v === '') return undefined;
	return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
}

/**
 * The pprof download behind `GET /api/pprof?from=&to=&host=&pid=&comm=` (epoch ms). tRPC
 * carries JSON, so binary export is a plain route sharing the same validation and errors.
 */
export async function profileExport(ctx: ApiContext, params: URLSearchParams): Promise<ProfileExport> {
	const parsed = profileQueryInput.safeParse({
		fromMs: num(params.get('from')),
		toMs: num(params.get('to')),
		host: params.get('host') || undefined,
		pid: num(params.get('pid')),
		comm: params.get('comm') || undefined,
	});
	if (!parsed.success)
		throw new ApiError(
			'BAD_INPUT',
			formatZodError(parsed.error)
				.replace(/fromMs/g, 'from')
				.replace(/toMs/g, 'to'),
		);
	const q = parsed.data;
	if (q.toMs - q.fromMs > MAX_RANGE_MS) throw new ApiError('RANGE_TOO_LARGE', 'range too large');
	let result;
	try {
		result = await ctx.storage.profiles.query(q);
	} catch (err) {
		throw new ApiError('UNAVAILABLE', `profile query failed: ${(err as Error).message}`, err);
	}
	const stamp = new Date(q.fromMs)
		.toISOString()
		.replace(/[:.]/g, '-')
		.replace(/-\d\d\dZ$/, 'Z');
	const who = q.pid !== undefined ? `-pid${q.pid}` : q.comm !== undefined ? `-${q.comm.replace(/[^\w.-]/g, '_')}` : '';
	return { body: toPprof(result.profile), filename: `firesight${who}-${stamp}.pb.gz`, totalSamples: totalWeight(result.profile) };
}

import { toFolded, toPprof, totalWeight, type Profile } from '@firesight/profile';
import { isShareId } from '@firesight/store';
import { formatZodError } from '@firesight/protocol';
import { ApiError } from './errors.ts';
import type { ApiContext } from './context.ts';
import { queryProfiles } from './host-selection.ts';
import { MAX_RANGE_MS, profileSelectionInput } from './inputs.ts';

export interface ProfileExport {
	/** Gzipped pprof, or folded text as UTF-8. */
	body: Uint8Array;
	contentType: string;
	filename: string;
	totalSamples: number;
}

/** The download formats: pprof (`.pb.gz`, what go tool pprof reads) and folded stacks. */
export const EXPORT_FORMATS = ['pprof', 'folded'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

function encoded(profile: Profile, format: ExportFormat, base: string): ProfileExport {
	const totalSamples = totalWeight(profile);
	if (format === 'folded') {
		return {
			body: new TextEncoder().encode(toFolded(profile)),
			contentType: 'text/plain; charset=utf-8',
			filename: `${base}.folded.txt`,
			totalSamples,
		};
	}
	return { body: toPprof(profile), contentType: 'application/octet-stream', filename: `${base}.pb.gz`, totalSamples };
}

function num(v: string | null): number | undefined {
	if (v === null || v === '') return undefined;
	return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
}

/**
 * The download behind `GET /api/pprof?from=&to=&host=&pid=&comm=&endpoint=&request=` (epoch ms) and
 * `GET /api/pprof?share=<id>`, as pprof or, with `format=folded`, folded text. tRPC carries
 * JSON, so binary export is a plain route sharing the same validation and errors.
 */
export async function profileExport(ctx: ApiContext, params: URLSearchParams): Promise<ProfileExport> {
	const formatText = params.get('format') || 'pprof';
	if (!(EXPORT_FORMATS as readonly string[]).includes(formatText)) {
		throw new ApiError('BAD_INPUT', `format must be one of ${EXPORT_FORMATS.join(', ')}`);
	}
	const format = formatText as ExportFormat;
	const shareId = params.get('share');
	if (shareId !== null) {
		const share = isShareId(shareId)
			? await ctx.storage.shares.get(shareId).catch((err: Error) => {
					throw new ApiError('UNAVAILABLE', `share lookup failed: ${err.message}`, err);
				})
			: null;
		if (share === null) throw new ApiError('NOT_FOUND', `no share with id '${shareId.slice(0, 64)}'`);
		return encoded(share.profile, format, `firesight-share-${share.id}`);
	}
	// `host` may repeat: several hosts, merged.
	const hosts = params.getAll('host').filter((h) => h !== '');
	const parsed = profileSelectionInput.safeParse({
		fromMs: num(params.get('from')),
		toMs: num(params.get('to')),
		host: hosts.length === 0 ? undefined : hosts.length === 1 ? hosts[0] : hosts,
		pid: num(params.get('pid')),
		comm: params.get('comm') || undefined,
		endpoint: params.get('endpoint') || undefined,
		requestId: params.get('request') || undefined,
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
		result = await queryProfiles(ctx.storage.profiles, q);
	} catch (err) {
		throw new ApiError('UNAVAILABLE', `profile query failed: ${(err as Error).message}`, err);
	}
	const stamp = new Date(q.fromMs)
		.toISOString()
		.replace(/[:.]/g, '-')
		.replace(/-\d\d\dZ$/, 'Z');
	const who = q.pid !== undefined ? `-pid${q.pid}` : q.comm !== undefined ? `-${q.comm.replace(/[^\w.-]/g, '_')}` : '';
	return encoded(result.profile, format, `firesight${who}-${stamp}`);
}

import { importProfile, ImportError, type ImportLimits, type Profile } from '@firesight/profile';
import { MAX_SHARE_PROCESSES, type ShareSource, type ShareSummary, type ShareViewState } from '@firesight/store';
import type { ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import { checkRange, guarded } from './guards.ts';
import type { ProfileQueryInput } from './inputs.ts';

/** The distinct processes of a profile, heaviest first. */
function processesOf(profile: Profile): ShareSource['processes'] {
	const weights = new Map<string, { pid: number; comm: string; weight: number }>();
	for (const s of profile.samples) {
		const key = `${s.pid}|${s.comm}`;
		const entry = weights.get(key) ?? { pid: s.pid, comm: s.comm, weight: 0 };
		entry.weight += s.weight;
		weights.set(key, entry);
	}
	return [...weights.values()]
		.sort((a, b) => b.weight - a.weight || a.pid - b.pid)
		.slice(0, MAX_SHARE_PROCESSES)
		.map(({ pid, comm }) => ({ pid, comm }));
}

export interface ShareMeta {
	creator?: string | undefined;
	viewState?: ShareViewState | undefined;
}

/**
 * Snapshots what a profile query answers into a share. Only the merged profile goes in (frames
 * and counted stacks): nothing of captured requests, payloads, connections or tokens.
 */
export async function shareFromQuery(ctx: ApiContext, query: ProfileQueryInput, meta: ShareMeta): Promise<ShareSummary> {
	checkRange(query);
	const filter = { host: query.host, pid: query.pid, comm: query.comm };
	const { profile, windows } = await guarded('profile query failed', () => ctx.storage.profiles.query({ fromMs: query.fromMs, toMs: query.toMs, ...filter }));
	if (windows === 0 || profile.samples.length === 0) throw new ApiError('BAD_INPUT', 'nothing to share: no samples match this range and filter');
	// The store merges hosts; the ones with windows in the range are what went in.
	const hosts =
		query.host !== undefined
			? [query.host]
			: (await guarded('host list failed', () => ctx.storage.profiles.listHosts())).filter((h) => h.firstMs < query.toMs && h.lastMs > query.fromMs).map((h) => h.host);
	const source: ShareSource = {
		kind: 'query',
		fromMs: query.fromMs,
		toMs: query.toMs,
		hosts,
		processes: processesOf(profile),
		filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
	};
	return guarded('share failed', () => ctx.storage.shares.create({ profile, source, creator: meta.creator ?? null, viewState: meta.viewState ?? null }));
}

export interface ImportOptions extends ShareMeta {
	/** The file's name as the user gave it, shown with the share. */
	filename?: string | undefined;
	limits?: ImportLimits | undefined;
}

/**
 * Imports a profile file (pprof, folded, perf script, .cpuprofile) as a new share. Bad files are
 * BAD_INPUT or TOO_LARGE with one line, and nothing is stored.
 */
export async function shareFromFile(ctx: ApiContext, bytes: Uint8Array, options: ImportOptions = {}): Promise<ShareSummary> {
	let imported;
	try {
		imported = importProfile(bytes, options.limits);
	} catch (err) {
		if (err instanceof ImportError) throw new ApiError(err.tooLarge ? 'TOO_LARGE' : 'BAD_INPUT', err.message);
		throw new ApiError('BAD_INPUT', `the file could not be read: ${(err as Error).message.split('\n')[0]}`);
	}
	const { profile, format } = imported;
	const name = (options.filename ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(-200) || 'upload';
	const source: ShareSource = {
		kind: 'import',
		fromMs: profile.startMs,
		toMs: profile.startMs + profile.durationMs,
		hosts: [],
		processes: processesOf(profile),
		file: { name, format },
	};
	return guarded('import failed', () => ctx.storage.shares.create({ profile, source, creator: options.creator ?? null, viewState: options.viewState ?? null }));
}

import { importProfile, ImportError, ProfileBuilder, type ImportLimits, type Profile } from '@firesight/profile';
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
export async function shareFromQuery(
	ctx: ApiContext,
	query: ProfileQueryInput & { pids?: number[] | undefined },
	meta: ShareMeta,
): Promise<ShareSummary> {
	checkRange(query);
	// Several pids are one query each, added up: the store filters by one pid at a time.
	const pids = [...new Set([...(query.pid !== undefined ? [query.pid] : []), ...(query.pids ?? [])])];
	const filter = { host: query.host, ...(pids.length === 1 ? { pid: pids[0] } : pids.length > 1 ? { pids } : {}), comm: query.comm };
	const answers = await guarded('profile query failed', () =>
		Promise.all(
			(pids.length > 0 ? pids : [undefined]).map((pid) =>
				ctx.storage.profiles.query({
					fromMs: query.fromMs,
					toMs: query.toMs,
					host: query.host,
					comm: query.comm,
					endpoint: query.endpoint,
					requestId: query.requestId,
					pid,
				}),
			),
		),
	);
	const windows = answers.reduce((n, a) => n + a.windows, 0);
	let profile: Profile = answers[0]!.profile;
	if (answers.length > 1) {
		const builder = new ProfileBuilder(answers.find((a) => a.windows > 0)?.profile ?? profile);
		for (const a of answers) builder.appendProfile(a.profile);
		profile = builder.build();
	}
	if (windows === 0 || profile.samples.length === 0)
		throw new ApiError('BAD_INPUT', 'nothing to share: no samples match this range and filter');
	// The store merges hosts; the ones with windows in the range are what went in.
	const hosts =
		query.host !== undefined
			? [query.host]
			: (await guarded('host list failed', () => ctx.storage.profiles.listHosts()))
					.filter((h) => h.firstMs < query.toMs && h.lastMs > query.fromMs)
					.map((h) => h.host);
	const source: ShareSource = {
		kind: 'query',
		fromMs: query.fromMs,
		toMs: query.toMs,
		hosts,
		processes: processesOf(profile),
		filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)),
	};
	return guarded('share failed', () =>
		ctx.storage.shares.create({ profile, source, creator: meta.creator ?? null, viewState: meta.viewState ?? null }),
	);
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
	// eslint-disable-next-line no-control-regex -- control characters are what a file name shown on a page must lose
	const name = (options.filename ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(-200) || 'upload';
	const source: ShareSource = {
		kind: 'import',
		fromMs: profile.startMs,
		toMs: profile.startMs + profile.durationMs,
		hosts: [],
		processes: processesOf(profile),
		file: { name, format },
	};
	return guarded('import failed', () =>
		ctx.storage.shares.create({ profile, source, creator: options.creator ?? null, viewState: options.viewState ?? null }),
	);
}

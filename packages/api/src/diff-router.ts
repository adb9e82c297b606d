import { z } from 'zod';
import { diffFunctions, diffProfiles, type DiffFunctionRow, type DiffNode, type Profile } from '@firesight/profile';
import { isShareId, type ShareSummary } from '@firesight/store';
import type { ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import { checkRange, guarded } from './guards.ts';
import { DEFAULT_MIN_FRACTION, profileQueryInput, type ProfileQueryInput } from './inputs.ts';
import { loadShare } from './share-cache.ts';
import { t } from './trpc.ts';

const shareSide = z.object({ share: z.string().max(64) });
/** One side of a diff: a share (an immutable snapshot) or a profile query run now. */
export const diffSideInput = z.union([shareSide, z.object({ query: profileQueryInput })]);
export type DiffSideInput = z.infer<typeof diffSideInput>;

const diffOptions = {
	minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
	/** Rows of the function table for each of its four orders (self and total, up and down). */
	topLimit: z.number().int().min(0).max(1000).default(50),
	/** Keep the process (comm) level; off lines up two differently named processes by frames. */
	byProcess: z.boolean().default(true),
};
export const diffInput = z.object({ baseline: diffSideInput, comparison: diffSideInput, ...diffOptions });
/** The public form: both sides are shares, so the two ids are the capability, as for one share. */
export const diffSharesInput = z.object({ baseline: shareSide, comparison: shareSide, ...diffOptions });

/** What one side was: the share it came from, or the query it ran. */
export type DiffSide = { kind: 'share'; share: ShareSummary } | { kind: 'query'; query: ProfileQueryInput; windows: number };

export interface DiffResult {
	/** Widths are each side's share of its own total added up; the root is 2 when both have samples. */
	tree: DiffNode;
	nodes: number;
	prunedNodes: number;
	minFraction: number;
	baselineTotal: number;
	comparisonTotal: number;
	/** The largest regressions and improvements by self and by total: the union of the four top lists. */
	functions: DiffFunctionRow[];
	baseline: DiffSide;
	comparison: DiffSide;
}

interface LoadedSide {
	profile: Profile;
	side: DiffSide;
	/** For a share: computes a value of it once (shares never change). */
	derive?: <T>(key: string, make: () => T) => T;
}

async function loadSide(ctx: ApiContext, side: DiffSideInput, which: string): Promise<LoadedSide> {
	if ('share' in side) {
		const share = isShareId(side.share) ? await guarded('share lookup failed', () => loadShare(ctx.storage.shares, side.share)) : null;
		if (share === null) throw new ApiError('NOT_FOUND', `${which}: no share with id '${side.share.slice(0, 64)}'`);
		return { profile: share.profile, side: { kind: 'share', share: share.summary }, derive: share.derive };
	}
	const q = side.query;
	checkRange(q);
	const { profile, windows } = await guarded('profile query failed', () =>
		ctx.storage.profiles.query({
			fromMs: q.fromMs,
			toMs: q.toMs,
			host: q.host,
			pid: q.pid,
			comm: q.comm,
			endpoint: q.endpoint,
			requestId: q.requestId,
		}),
	);
	return { profile, side: { kind: 'query', query: q, windows } };
}

function countNodes(node: DiffNode): number {
	let n = 1;
	for (const c of node.children) n += countNodes(c);
	return n;
}

/** The rows worth a table: the top `limit` by each delta in each direction, without repeats. */
export function topDiffRows(rows: DiffFunctionRow[], limit: number): DiffFunctionRow[] {
	const picked = new Set<DiffFunctionRow>();
	// One sort per delta: the head holds the largest growths, the tail the largest shrinks.
	for (const delta of [(r: DiffFunctionRow) => r.selfDelta, (r: DiffFunctionRow) => r.totalDelta]) {
		const sorted = [...rows].sort((a, b) => delta(b) - delta(a));
		for (const row of sorted.slice(0, limit)) picked.add(row);
		for (const row of sorted.slice(Math.max(limit, sorted.length - limit))) picked.add(row);
	}
	return [...picked];
}

async function diff(ctx: ApiContext, input: z.infer<typeof diffInput>): Promise<DiffResult> {
	const [baseline, comparison] = await Promise.all([
		loadSide(ctx, input.baseline, 'baseline'),
		loadSide(ctx, input.comparison, 'comparison'),
	]);
	const compute = (): Omit<DiffResult, 'baseline' | 'comparison'> => {
		const tree = diffProfiles(baseline.profile, comparison.profile, { minFraction: input.minFraction, byProcess: input.byProcess });
		return {
			tree: tree.root,
			nodes: countNodes(tree.root),
			prunedNodes: tree.pruned,
			minFraction: input.minFraction,
			baselineTotal: tree.baselineTotal,
			comparisonTotal: tree.comparisonTotal,
			functions: topDiffRows(diffFunctions(baseline.profile, comparison.profile), input.topLimit),
		};
	};
	// A diff of two shares never changes either: computed once, kept with the baseline share.
	const both = 'share' in input.comparison && baseline.derive !== undefined && comparison.derive !== undefined;
	const key = both ? `diff:${JSON.stringify([input.comparison, input.minFraction, input.topLimit, input.byProcess])}` : '';
	const result = both ? baseline.derive!(key, compute) : compute();
	return { ...result, baseline: baseline.side, comparison: comparison.side };
}

export const diffRouter = t.router({
	/** A diff of any two sides: ranges, processes, hosts (queries) or shares. */
	flame: t.procedure.input(diffInput).query(({ input, ctx }) => diff(ctx, input)),
	/** A diff of two shares, readable by whoever holds both ids. Public. */
	shares: t.procedure.input(diffSharesInput).query(({ input, ctx }) => diff(ctx, input)),
});

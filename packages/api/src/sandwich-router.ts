import { z } from 'zod';
import { sandwich, type FlameNode, type Profile, type Sandwich } from '@firesight/profile';
import { isShareId } from '@firesight/store';
import type { ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import { checkRange, guarded } from './guards.ts';
import { queryProfiles } from './host-selection.ts';
import { DEFAULT_MIN_FRACTION, profileSelectionInput } from './inputs.ts';
import { loadShare } from './share-cache.ts';
import { t } from './trpc.ts';

const functionFields = {
	name: z.string().min(1).max(2000),
	module: z.string().max(2000).optional(),
	/** Drop nodes below this share of the function's total, after computing on the full profile. */
	minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
};
export const sandwichQueryInput = profileSelectionInput.and(z.object(functionFields));
export const sandwichShareInput = z.object({ id: z.string().max(64), ...functionFields });

export interface SandwichResult extends Sandwich {
	/** Nodes dropped from the callers and callees trees by `minFraction`. */
	prunedNodes: number;
	/** Every sample of the profile, for percentages. */
	profileTotal: number;
}

/** Drops subtrees narrower than `threshold`; their weight stays in the parent, as in the flame graph. */
function prune(node: FlameNode, threshold: number, counter: { pruned: number }): FlameNode {
	const children: FlameNode[] = [];
	for (const child of node.children) {
		if (child.value < threshold) counter.pruned += size(child);
		else children.push(prune(child, threshold, counter));
	}
	return { ...node, children };
}

function size(node: FlameNode): number {
	let n = 1;
	for (const c of node.children) n += size(c);
	return n;
}

function result(profile: Profile, input: { name: string; module?: string | undefined; minFraction: number }): SandwichResult {
	const found = sandwich(profile, { name: input.name, module: input.module });
	if (!found) throw new ApiError('NOT_FOUND', `no sample has the function '${input.name.slice(0, 200)}'`);
	const counter = { pruned: 0 };
	const threshold = input.minFraction * found.total;
	let profileTotal = 0;
	for (const s of profile.samples) profileTotal += s.weight;
	return {
		...found,
		callers: prune(found.callers, threshold, counter),
		callees: prune(found.callees, threshold, counter),
		prunedNodes: counter.pruned,
		profileTotal,
	};
}

async function shareProfile(ctx: ApiContext, id: string): Promise<Profile> {
	const share = isShareId(id) ? await guarded('share lookup failed', () => loadShare(ctx.storage.shares, id)) : null;
	if (share === null) throw new ApiError('NOT_FOUND', `no share with id '${id.slice(0, 64)}'`);
	return share.profile;
}

export const sandwichRouter = t.router({
	/** Callers and callees of one function in what a profile query answers. */
	query: t.procedure.input(sandwichQueryInput).query(async ({ input, ctx }): Promise<SandwichResult> => {
		checkRange(input);
		const { profile } = await guarded('profile query failed', () =>
			queryProfiles(ctx.storage.profiles, {
				fromMs: input.fromMs,
				toMs: input.toMs,
				host: input.host,
				pid: input.pid,
				comm: input.comm,
				endpoint: input.endpoint,
				requestId: input.requestId,
			}),
		);
		return result(profile, input);
	}),
	/** The same in a share. Public, like the share. */
	share: t.procedure
		.input(sandwichShareInput)
		.query(async ({ input, ctx }): Promise<SandwichResult> => result(await shareProfile(ctx, input.id), input)),
});

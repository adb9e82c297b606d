import { z } from 'zod';
import { pidSchema } from '@firesight/protocol';
import { isShareId, type ShareSummary } from '@firesight/store';
import { ApiError } from './errors.ts';
import { flameResult, type FlameResult } from './flame-result.ts';
import { guarded } from './guards.ts';
import { DEFAULT_MIN_FRACTION, profileQueryInput } from './inputs.ts';
import { loadShare } from './share-cache.ts';
import { shareFromQuery } from './share-snapshot.ts';
import { t } from './trpc.ts';

/** A share id as the API accepts it; anything else is NOT_FOUND, like an unknown one. */
const shareIdInput = z.object({ id: z.string().max(64) });

/** The Profiles page's URL parameters, kept with a share so its link reopens that view. */
export const viewStateSchema = z
	// A zoom path down a deep stack of long C++ names runs to thousands of characters.
	.record(z.string().regex(/^[a-z][a-zA-Z0-9_]{0,31}$/), z.string().max(16_000))
	.refine((v) => Object.keys(v).length <= 32, { message: 'at most 32 view parameters' });

export const shareCreateInput = profileQueryInput.and(
	z.object({
		viewState: viewStateSchema.optional(),
		/** More processes beside `pid`, added up into one snapshot. */
		pids: z.array(pidSchema).min(1).max(64).optional(),
		/** Who makes it, when known (the CLI sends user@host). */
		creator: z.string().min(1).max(200).optional(),
	}),
);

/** The procedures anyone with a share's id may call, without logging in: reads of shares (a diff needs both ids). */
export const PUBLIC_SHARE_PROCEDURES: readonly string[] = ['shares.get', 'shares.flame', 'diff.shares', 'sandwich.share'];

export interface ShareFlameResult extends FlameResult {
	share: ShareSummary;
}

async function found<T>(id: string, load: () => Promise<T | null>): Promise<T> {
	const value = isShareId(id) ? await guarded('share lookup failed', load) : null;
	if (value === null) throw new ApiError('NOT_FOUND', `no share with id '${id.slice(0, 64)}'`);
	return value;
}

export const sharesRouter = t.router({
	/** Snapshots what the profile query answers; the link is `/s/<id>`. */
	create: t.procedure
		.input(shareCreateInput)
		.mutation(({ input, ctx }) => shareFromQuery(ctx, input, { creator: input.creator ?? ctx.requester, viewState: input.viewState })),
	/** What a share was taken from, without its profile. Public. */
	get: t.procedure.input(shareIdInput).query(async ({ input, ctx }): Promise<ShareSummary> => {
		// The summary alone: no profile to decode.
		return found(input.id, () => ctx.storage.shares.summary(input.id));
	}),
	/** The share drawn as the Profiles page draws a query. Public. */
	flame: t.procedure
		.input(
			shareIdInput.extend({
				minFraction: z.number().min(0).max(0.5).default(DEFAULT_MIN_FRACTION),
				topLimit: z.number().int().min(0).max(10_000).default(500),
			}),
		)
		.query(async ({ input, ctx }): Promise<ShareFlameResult> => {
			const cached = await found(input.id, () => loadShare(ctx.storage.shares, input.id));
			// A snapshot stands for its windows: the rate it states is the one they had. The tree
			// and table are computed once per share and width (shares never change).
			const result = await flameResult(cached.profile, cached.summary.source, 1, input, cached.derive, cached.hit);
			return { ...result, share: cached.summary };
		}),
	list: t.procedure.query(({ ctx }) => guarded('share list failed', () => ctx.storage.shares.list())),
	delete: t.procedure.input(shareIdInput).mutation(async ({ input, ctx }) => {
		const deleted = isShareId(input.id) && (await guarded('share delete failed', () => ctx.storage.shares.delete(input.id)));
		if (!deleted) throw new ApiError('NOT_FOUND', `no share with id '${input.id.slice(0, 64)}'`);
		return { deleted: true as const, id: input.id };
	}),
});

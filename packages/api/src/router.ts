import { toFolded, totalWeight } from '@firesight/profile';
import type { HostStatus } from '@firesight/protocol';
import type { ProfileQuery } from '@firesight/store';
import { flameResult, type FlameResult } from './flame-result.ts';
import { flameSearch, flameSubtree, type FlameSearchResult, type FlameSubtree } from './flame-subtree.ts';
import { mergedView } from './merged-range.ts';
import { checkRange, guarded } from './guards.ts';
import { networkRouter } from './network-router.ts';
import { requestsRouter } from './requests-router.ts';
import { sharesRouter } from './shares-router.ts';
import { diffRouter } from './diff-router.ts';
import { sandwichRouter } from './sandwich-router.ts';
import { timelineProcedure } from './timeline-procedure.ts';
import { endpointCpuProcedure } from './endpoint-cpu-router.ts';
import { queryProfiles } from './host-selection.ts';
import { flameInput, flameSearchInput, flameSubtreeInput, foldedInput, processFindInput, type HostSelection } from './inputs.ts';
import { t } from './trpc.ts';

function storeQuery(q: Omit<ProfileQuery, 'host'> & { host?: HostSelection | undefined }) {
	return { fromMs: q.fromMs, toMs: q.toMs, host: q.host, pid: q.pid, comm: q.comm, endpoint: q.endpoint, requestId: q.requestId };
}

export type { FlameResult } from './flame-result.ts';
export type { FlameSubtree, FlameSearchResult } from './flame-subtree.ts';

export interface HostInfo extends HostStatus {
	/** Retained profile data for the host, when any. */
	firstMs: number | null;
	lastMs: number | null;
	windows: number;
}

export const appRouter = t.router({
	profile: t.router({
		flame: t.procedure.input(flameInput).query(async ({ input, ctx }): Promise<FlameResult> => {
			checkRange(input);
			const view = await guarded('profile query failed', () =>
				mergedView(ctx.storage.profiles, storeQuery(input), input.groupByProcess, input.groupByEndpoint),
			);
			return await flameResult(view.profile, input, view.windows, input, view.derive, view.cached);
		}),
		/** Zooming in: the subtree at a path of the same query, at full resolution. */
		subtree: t.procedure.input(flameSubtreeInput).query(async ({ input, ctx }): Promise<FlameSubtree> => {
			checkRange(input);
			const view = await guarded('profile query failed', () =>
				mergedView(ctx.storage.profiles, storeQuery(input), input.groupByProcess, input.groupByEndpoint),
			);
			return flameSubtree(view.profile, input.path, input.minFraction, view.cached);
		}),
		/** A search's share, counted on every sample (not the pruned tree), or under the zoomed path. */
		search: t.procedure.input(flameSearchInput).query(async ({ input, ctx }): Promise<FlameSearchResult> => {
			checkRange(input);
			const view = await guarded('profile query failed', () =>
				mergedView(ctx.storage.profiles, storeQuery(input), input.groupByProcess, input.groupByEndpoint),
			);
			return flameSearch(view.profile, input.term, input.path, view.cached);
		}),
		timeline: timelineProcedure,
		/** CPU of one endpoint, or during one request, with its share of the process's CPU. */
		endpoint: endpointCpuProcedure,
		folded: t.procedure.input(foldedInput).query(async ({ input, ctx }) => {
			checkRange(input);
			const { profile, windows } = await guarded('profile query failed', () => queryProfiles(ctx.storage.profiles, storeQuery(input)));
			return { text: toFolded(profile, { pids: input.pids }), totalSamples: totalWeight(profile), windows };
		}),
	}),
	hosts: t.router({
		/** Every host seen live or with retained data; live status wins where both exist. */
		list: t.procedure.query(async ({ ctx }): Promise<HostInfo[]> => {
			const stored = await guarded('host list failed', () => ctx.storage.profiles.listHosts());
			const byHost = new Map<string, HostInfo>();
			for (const s of stored) {
				byHost.set(s.host, {
					host: s.host,
					connected: false,
					lastSeenMs: s.lastMs,
					frequencyHz: s.frequencyHz,
					drops: {},
					firstMs: s.firstMs,
					lastMs: s.lastMs,
					windows: s.windows,
				});
			}
			for (const h of ctx.live.hosts()) {
				const s = byHost.get(h.host);
				byHost.set(h.host, { ...h, firstMs: s?.firstMs ?? null, lastMs: s?.lastMs ?? null, windows: s?.windows ?? 0 });
			}
			return [...byHost.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
		}),
	}),
	processes: t.router({
		/**
		 * Whether a pid is known, live or in retained profiles: tells "unknown pid" apart from
		 * "no samples in this range".
		 */
		find: t.procedure.input(processFindInput).query(async ({ input, ctx }) => {
			for (const snap of ctx.live.processes(input.host)) {
				const row = snap.rows.find((r) => r.pid === input.pid);
				if (row) return { known: true as const, live: true, host: snap.host, comm: row.comm, cmdline: row.cmdline, lastMs: snap.ts };
			}
			const seen = await guarded('process lookup failed', () => ctx.storage.profiles.findProcess(input.pid, input.host));
			if (seen) return { known: true as const, live: false, host: seen.host, comm: seen.comm, cmdline: null, lastMs: seen.lastMs };
			return { known: false as const };
		}),
	}),
	network: networkRouter,
	requests: requestsRouter,
	shares: sharesRouter,
	diff: diffRouter,
	sandwich: sandwichRouter,
});

export type AppRouter = typeof appRouter;

/** A server-side caller, for tests and for the hub's own HTTP routes. */
export const createCaller = t.createCallerFactory(appRouter);

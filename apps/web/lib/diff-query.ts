import {
	defaultProfileQuery,
	parseProfileQuery,
	resolveRange,
	toSearchParams,
	type Orientation,
	type QueryWarning,
	type TimeRange,
} from './profile-query.ts';
import { isShareId } from './share-links.ts';

/**
 * The diff page's state in its URL: `/diff?base=SIDE&cmp=SIDE`, where a side is a share id or
 * the Profiles page's query parameters (`range=15m&pid=7`, `from=...&to=...&host=h1`), so a side
 * reads as the Profiles page's query bar does. A diff of two shares is `/s/BASE/diff/CMP`.
 */
export type DiffSideState =
	| { kind: 'share'; id: string }
	/** `endpoint`: only the samples attributed to it (`endpoint=GET /api/users/:id`), so two endpoints compare. */
	| { kind: 'query'; range: TimeRange; pid: number | null; comm: string; host: string; endpoint?: string | undefined };

/** How the table ranks functions: by the change of their self or of their total share. */
export const DIFF_RANKS = ['self', 'total'] as const;
export type DiffRank = (typeof DIFF_RANKS)[number];

export interface DiffViewState {
	orientation: Orientation;
	search: string;
	/** Keep the process (comm) level; off lines up two differently named processes by frames. */
	byProcess: boolean;
	rank: DiffRank;
}

export interface DiffQueryState extends DiffViewState {
	baseline: DiffSideState;
	comparison: DiffSideState;
}

export const defaultDiffView: DiffViewState = { orientation: 'icicle', search: '', byProcess: true, rank: 'self' };

export const defaultSide: DiffSideState = { kind: 'query', range: defaultProfileQuery.range, pid: null, comm: '', host: '' };

export function parseSide(text: string | null): DiffSideState {
	const value = (text ?? '').trim();
	if (isShareId(value)) return { kind: 'share', id: value };
	const { state } = parseProfileQuery(new URLSearchParams(value));
	return {
		kind: 'query',
		range: state.range,
		pid: state.pid,
		comm: state.comm,
		host: state.hosts.length === 1 ? (state.hosts[0] ?? '') : '',
		...(state.endpoint ? { endpoint: state.endpoint } : {}),
	};
}

export function formatSide(side: DiffSideState): string {
	if (side.kind === 'share') return side.id;
	return toSearchParams({
		...defaultProfileQuery,
		range: side.range,
		pid: side.pid,
		comm: side.comm,
		hosts: side.host ? [side.host] : [],
		endpoint: side.endpoint,
	}).toString();
}

interface ParamsLike {
	get(name: string): string | null;
}

export function parseDiffView(params: ParamsLike): DiffViewState {
	const orient = params.get('orient');
	const rank = params.get('rank');
	return {
		orientation: orient === 'flame' ? 'flame' : 'icicle',
		search: params.get('q') ?? '',
		byProcess: params.get('procs') !== '0',
		rank: rank === 'total' ? 'total' : 'self',
	};
}

/**
 * What a side of the link asked for that the diff cannot honour (`base=pid=abc` compares every
 * process): each query side's Profiles warnings, named `base.pid` or `cmp.range`.
 */
export function diffQueryWarnings(params: ParamsLike): QueryWarning[] {
	const out: QueryWarning[] = [];
	for (const side of ['base', 'cmp'] as const) {
		const value = (params.get(side) ?? '').trim();
		if (value === '' || isShareId(value)) continue;
		for (const w of parseProfileQuery(new URLSearchParams(value)).warnings) out.push({ ...w, param: `${side}.${w.param}` });
	}
	return out;
}

export function parseDiffQuery(params: ParamsLike): DiffQueryState {
	return { ...parseDiffView(params), baseline: parseSide(params.get('base')), comparison: parseSide(params.get('cmp')) };
}

/** The view parameters that differ from the defaults. */
export function diffViewParams(view: DiffViewState): URLSearchParams {
	const params = new URLSearchParams();
	if (view.orientation !== defaultDiffView.orientation) params.set('orient', view.orientation);
	if (view.search) params.set('q', view.search);
	if (!view.byProcess) params.set('procs', '0');
	if (view.rank !== defaultDiffView.rank) params.set('rank', view.rank);
	return params;
}

export function diffHref(state: DiffQueryState): string {
	const params = new URLSearchParams({ base: formatSide(state.baseline), cmp: formatSide(state.comparison) });
	for (const [name, value] of diffViewParams(state)) params.set(name, value);
	return `/diff?${params.toString()}`;
}

/** The link of a diff of two shares: readable by whoever holds it, like a share's. */
export function sharedDiffHref(baselineId: string, comparisonId: string, view: DiffViewState = defaultDiffView): string {
	const query = diffViewParams(view).toString();
	return `/s/${baselineId}/diff/${comparisonId}${query ? `?${query}` : ''}`;
}

/** A side as the API takes it; relative ranges end at `now`. */
export function sideInput(
	side: DiffSideState,
	now: number,
): { share: string } | { query: { fromMs: number; toMs: number; pid?: number; comm?: string; host?: string; endpoint?: string } } {
	if (side.kind === 'share') return { share: side.id };
	const { from, to } = resolveRange(side.range, now);
	return {
		query: {
			fromMs: from,
			toMs: to,
			...(side.pid !== null ? { pid: side.pid } : {}),
			...(side.comm ? { comm: side.comm } : {}),
			...(side.host ? { host: side.host } : {}),
			...(side.endpoint ? { endpoint: side.endpoint } : {}),
		},
	};
}

/**
 * The change of a node's share between the sides, relative to the baseline share: +1 when the
 * share doubled, -1 when gone, Infinity when new. The same rule as `normalizedChange` in the
 * profile package, which a page cannot import (it brings the importers' node modules along).
 */
export function shareChange(baseline: number, baselineTotal: number, comparison: number, comparisonTotal: number): number {
	const before = baselineTotal > 0 ? baseline / baselineTotal : 0;
	const after = comparisonTotal > 0 ? comparison / comparisonTotal : 0;
	if (before === 0) return after === 0 ? 0 : Number.POSITIVE_INFINITY;
	return (after - before) / before;
}

/**
 * The colour of a diff node: red where the comparison spends a larger share than the baseline
 * (slower), green where smaller (faster), grey where equal; stronger as the change grows, full
 * at +-100% and for a frame on one side only. `change` is `normalizedChange`'s answer.
 */
export function diffColor(change: number): string {
	if (Number.isNaN(change) || change === 0) return 'rgb(190,190,190)';
	const strength = Math.min(1, Math.abs(change));
	// From light grey toward a saturated red or green; a minimum step so a small change still shows.
	const t = 0.15 + 0.85 * strength;
	const mix = (from: number, to: number) => Math.round(from + (to - from) * t);
	return change > 0 ? `rgb(${mix(220, 215)},${mix(220, 48)},${mix(220, 39)})` : `rgb(${mix(220, 26)},${mix(220, 152)},${mix(220, 80)})`;
}

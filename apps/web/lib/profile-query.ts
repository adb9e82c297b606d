/**
 * The Profiles page's state as it lives in the URL, so a copied link reproduces the same view.
 * Defaults are left out of the URL to keep links short.
 */

export const RANGE_PRESETS = [
	{ id: '5m', short: '5 min', label: 'Last 5 minutes', ms: 5 * 60_000 },
	{ id: '15m', short: '15 min', label: 'Last 15 minutes', ms: 15 * 60_000 },
	{ id: '1h', short: '1 hour', label: 'Last hour', ms: 60 * 60_000 },
] as const;

export type RangePresetId = (typeof RANGE_PRESETS)[number]['id'];

export type TimeRange = { kind: 'relative'; preset: RangePresetId } | { kind: 'absolute'; from: number; to: number };

export type ProfileView = 'both' | 'graph' | 'table';
export type Orientation = 'icicle' | 'flame';

export interface ProfileQueryState {
	range: TimeRange;
	pid: number | null;
	comm: string;
	host: string;
	live: boolean;
	view: ProfileView;
	orientation: Orientation;
	search: string;
}

export const DEFAULT_PRESET: RangePresetId = '15m';

export const defaultProfileQuery: ProfileQueryState = {
	range: { kind: 'relative', preset: DEFAULT_PRESET },
	pid: null,
	comm: '',
	host: '',
	live: false,
	view: 'both',
	orientation: 'icicle',
	search: '',
};

interface ParamsLike {
	get(name: string): string | null;
}

/** Accepts epoch milliseconds or anything Date.parse understands (ISO 8601 in links we write). */
export function parseTime(text: string | null): number | null {
	if (!text) return null;
	if (/^\d+$/.test(text)) return Number(text);
	const ms = Date.parse(text);
	return Number.isNaN(ms) ? null : ms;
}

export function parsePid(text: string | null | undefined): number | null {
	if (!text || !/^\s*\d+\s*$/.test(text)) return null;
	const pid = Number(text);
	return pid > 0 && pid <= 0x3fffffff ? pid : null;
}

function isPreset(text: string | null): text is RangePresetId {
	return RANGE_PRESETS.some((preset) => preset.id === text);
}

export function parseProfileQuery(params: ParamsLike): ProfileQueryState {
	const from = parseTime(params.get('from'));
	const to = parseTime(params.get('to'));
	const preset = params.get('range');
	const range: TimeRange =
		from !== null && to !== null && from < to
			? { kind: 'absolute', from, to }
			: { kind: 'relative', preset: isPreset(preset) ? preset : DEFAULT_PRESET };
	const view = params.get('view');
	return {
		range,
		pid: parsePid(params.get('pid')),
		comm: params.get('comm')?.trim() ?? '',
		host: params.get('host')?.trim() ?? '',
		// An absolute range is a fixed window in the past: following new data makes no sense there.
		live: params.get('live') === '1' && range.kind === 'relative',
		view: view === 'graph' || view === 'table' ? view : 'both',
		orientation: params.get('orient') === 'flame' ? 'flame' : 'icicle',
		search: params.get('q') ?? '',
	};
}

export function toSearchParams(state: ProfileQueryState): URLSearchParams {
	const params = new URLSearchParams();
	if (state.range.kind === 'absolute') {
		params.set('from', new Date(state.range.from).toISOString());
		params.set('to', new Date(state.range.to).toISOString());
	} else if (state.range.preset !== DEFAULT_PRESET) {
		params.set('range', state.range.preset);
	}
	if (state.pid !== null) params.set('pid', String(state.pid));
	if (state.comm) params.set('comm', state.comm);
	if (state.host) params.set('host', state.host);
	if (state.live && state.range.kind === 'relative') params.set('live', '1');
	if (state.view !== 'both') params.set('view', state.view);
	if (state.orientation !== 'icicle') params.set('orient', state.orientation);
	if (state.search) params.set('q', state.search);
	return params;
}

export function resolveRange(range: TimeRange, now: number): { from: number; to: number } {
	if (range.kind === 'absolute') return { from: range.from, to: range.to };
	const preset = RANGE_PRESETS.find((candidate) => candidate.id === range.preset) ?? RANGE_PRESETS[1];
	return { from: now - preset.ms, to: now };
}

export function profileHref(partial: Partial<ProfileQueryState>): string {
	const query = toSearchParams({ ...defaultProfileQuery, ...partial }).toString();
	return query ? `/profiles?${query}` : '/profiles';
}

export interface ProfileFilter {
	from: number;
	to: number;
	pid: number | null;
	comm: string;
	host: string;
}

/** The pprof export of exactly what the page shows. */
export function pprofHref(filter: ProfileFilter): string {
	const params = new URLSearchParams({ from: String(Math.floor(filter.from)), to: String(Math.ceil(filter.to)) });
	if (filter.pid !== null) params.set('pid', String(filter.pid));
	if (filter.comm) params.set('comm', filter.comm);
	if (filter.host) params.set('host', filter.host);
	return `/api/pprof?${params.toString()}`;
}

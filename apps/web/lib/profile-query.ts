/**
 * The Profiles page's state as it lives in the URL, so a copied link reproduces the same view.
 * Defaults are left out of the URL to keep links short. A parameter the page cannot honour is
 * never dropped silently: parsing returns the state it used and a warning for each such parameter.
 */

import { COLOR_MODES, type ColorMode } from './frame-colors.ts';
import { parseHostSelection } from './host-selection.ts';

export interface RangePreset {
	id: string;
	/** On the range buttons. */
	short: string;
	/** In titles and messages; reads after "the", lowercased ("showing the last hour"). */
	label: string;
	ms: number;
}

/** The relative ranges the page offers; the buttons, the parser and its messages all read this list. */
export const RANGE_PRESETS = [
	{ id: '5m', short: '5 min', label: 'Last 5 minutes', ms: 5 * 60_000 },
	{ id: '15m', short: '15 min', label: 'Last 15 minutes', ms: 15 * 60_000 },
	{ id: '1h', short: '1 hour', label: 'Last hour', ms: 60 * 60_000 },
	{ id: '6h', short: '6 h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
	{ id: '24h', short: '24 h', label: 'Last 24 hours', ms: 24 * 3_600_000 },
	{ id: '7d', short: '7 d', label: 'Last 7 days', ms: 7 * 86_400_000 },
] as const satisfies readonly RangePreset[];

type OfferedPreset = (typeof RANGE_PRESETS)[number];
export type RangePresetId = OfferedPreset['id'];

export type TimeRange = { kind: 'relative'; preset: RangePresetId } | { kind: 'absolute'; from: number; to: number };

export const PROFILE_VIEWS = ['both', 'graph', 'table'] as const;
export type ProfileView = (typeof PROFILE_VIEWS)[number];
export const ORIENTATIONS = ['icicle', 'flame'] as const;
export type Orientation = (typeof ORIENTATIONS)[number];

export interface ProfileQueryState {
	range: TimeRange;
	pid: number | null;
	comm: string;
	/** The host selector's hosts (repeated `host` parameters); empty for every host, merged. */
	hosts: readonly string[];
	live: boolean;
	view: ProfileView;
	orientation: Orientation;
	search: string;
	/** The flame graph's zoom: frame names from the process (comm) down; absent when not zoomed. */
	zoom?: readonly string[];
	/** The top functions table's order; absent for the default (self, largest first). */
	sort?: TableSort;
	/** Frame fills by kind (kernel, user, JIT families) or by module; `color=module`. */
	color?: ColorMode;
	/** A `comm (pid)` level under each command; `group=process`. */
	groupByProcess?: boolean;
	/** Only samples attributed to this endpoint, `METHOD /path/template`; `endpoint=GET /api/users/:id`. */
	endpoint?: string;
	/** An endpoint level under each process; `group=endpoint` (with the process level, `group=process,endpoint`). */
	groupByEndpoint?: boolean;
}

export const TABLE_SORT_COLUMNS = ['name', 'self', 'total'] as const;
export interface TableSort {
	columnId: (typeof TABLE_SORT_COLUMNS)[number];
	direction: 'asc' | 'desc';
}

/** `total`, `name-asc`: a column and, when not its natural one, a direction. */
function parseSort(text: string): TableSort | null {
	const m = /^(name|self|total)(?:-(asc|desc))?$/.exec(text);
	if (!m) return null;
	const columnId = m[1] as TableSort['columnId'];
	return { columnId, direction: (m[2] as TableSort['direction'] | undefined) ?? (columnId === 'name' ? 'asc' : 'desc') };
}

function formatSort(sort: TableSort): string | null {
	const natural = sort.columnId === 'name' ? 'asc' : 'desc';
	if (sort.columnId === 'self' && sort.direction === 'desc') return null;
	return sort.direction === natural ? sort.columnId : `${sort.columnId}-${sort.direction}`;
}

export const DEFAULT_PRESET: RangePresetId = '15m';

export const defaultProfileQuery: ProfileQueryState = {
	range: { kind: 'relative', preset: DEFAULT_PRESET },
	pid: null,
	comm: '',
	hosts: [],
	live: false,
	view: 'both',
	orientation: 'icicle',
	search: '',
};

/** The URL parameter names, one per field of the state (a range is `range` or `from` and `to`). */
const PARAMS = [
	'range',
	'from',
	'to',
	'pid',
	'comm',
	'endpoint',
	'host',
	'live',
	'view',
	'orient',
	'q',
	'zoom',
	'sort',
	'color',
	'group',
] as const;

/** A parameter the page could not honour, and why. */
export interface QueryWarning {
	param: string;
	value: string;
	reason: string;
}

export interface ParsedProfileQuery {
	/** What the page shows: every parameter it could honour, defaults for the rest. */
	state: ProfileQueryState;
	warnings: QueryWarning[];
}

interface ParamsLike {
	get(name: string): string | null;
	getAll(name: string): string[];
	forEach(visit: (value: string, name: string) => void): void;
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

export function findPreset(id: string): OfferedPreset | undefined {
	return RANGE_PRESETS.find((preset) => preset.id === id);
}

function isPreset(text: string): text is RangePresetId {
	return findPreset(text) !== undefined;
}

function oneOf<T extends string>(choices: readonly T[], text: string): text is T {
	return (choices as readonly string[]).includes(text);
}

function presetLabel(id: string): string {
	return (findPreset(id)?.label ?? id).toLowerCase();
}

export function parseProfileQuery(params: ParamsLike): ParsedProfileQuery {
	const warnings: QueryWarning[] = [];
	const ignore = (param: string, value: string, reason: string) => warnings.push({ param, value, reason });
	// An empty parameter (`pid=`) means "not set", as the empty inputs of the page do.
	const given = (name: string): string | null => {
		const value = params.get(name);
		return value === null || value.trim() === '' ? null : value.trim();
	};

	let range: TimeRange = { kind: 'relative', preset: DEFAULT_PRESET };
	const fromText = given('from');
	const toText = given('to');
	if (fromText !== null || toText !== null) {
		const from = parseTime(fromText);
		const to = parseTime(toText);
		if (fromText !== null && from === null) ignore('from', fromText, 'not a time');
		if (toText !== null && to === null) ignore('to', toText, 'not a time');
		if (to !== null && fromText === null) ignore('to', toText ?? '', 'a range needs from as well');
		if (from !== null && toText === null) ignore('from', fromText ?? '', 'a range needs to as well');
		if (from !== null && to !== null) {
			if (from < to) range = { kind: 'absolute', from, to };
			else ignore('from', fromText ?? '', `not before to=${toText}`);
		}
	}
	const presetText = given('range');
	if (presetText !== null) {
		if (range.kind === 'absolute') ignore('range', presetText, 'from and to set the range');
		else if (isPreset(presetText)) range = { kind: 'relative', preset: presetText };
		else ignore('range', presetText, `not one of ${RANGE_PRESETS.map((preset) => preset.id).join(', ')}`);
	}
	// Say which range is shown instead of the one the link asked for (only range warnings exist yet).
	const shown = range;
	if (shown.kind === 'relative') {
		for (const warning of warnings) warning.reason += `; showing the ${presetLabel(shown.preset)}`;
	}

	const pidText = given('pid');
	const pid = parsePid(pidText);
	if (pidText !== null && pid === null) ignore('pid', pidText, 'not a process id; showing every process');

	const liveText = given('live');
	let live = false;
	if (liveText === '1') {
		// An absolute range is a fixed window in the past: following new data makes no sense there.
		if (range.kind === 'relative') live = true;
		else ignore('live', liveText, 'live mode follows relative ranges only');
	} else if (liveText !== null && liveText !== '0') {
		ignore('live', liveText, 'not 1 or 0');
	}

	const viewText = given('view');
	let view: ProfileView = defaultProfileQuery.view;
	if (viewText !== null) {
		if (oneOf(PROFILE_VIEWS, viewText)) view = viewText;
		else ignore('view', viewText, `not one of ${PROFILE_VIEWS.join(', ')}`);
	}
	const orientText = given('orient');
	let orientation: Orientation = defaultProfileQuery.orientation;
	if (orientText !== null) {
		if (oneOf(ORIENTATIONS, orientText)) orientation = orientText;
		else ignore('orient', orientText, `not one of ${ORIENTATIONS.join(', ')}`);
	}

	params.forEach((value, name) => {
		if (!oneOf(PARAMS, name)) ignore(name, value, 'not a parameter of this page');
	});
	const sortText = given('sort');
	const sort = sortText === null ? null : parseSort(sortText);
	if (sortText !== null && sort === null) ignore('sort', sortText, 'not name, self or total, with -asc or -desc');
	const zoomText = given('zoom');
	const colorText = given('color');
	const color = colorText !== null && oneOf(COLOR_MODES, colorText) ? colorText : null;
	if (colorText !== null && color === null) ignore('color', colorText, `not one of ${COLOR_MODES.join(', ')}`);
	const groupText = given('group');
	const groups = groupText === null ? [] : groupText.split(',').map((g) => g.trim());
	if (groups.some((g) => g !== 'process' && g !== 'endpoint')) ignore('group', groupText ?? '', 'not process, endpoint or both');
	const endpoint = given('endpoint');

	return {
		state: {
			range,
			pid,
			comm: given('comm') ?? '',
			hosts: parseHostSelection(params),
			live,
			view,
			orientation,
			search: params.get('q') ?? '',
			...(zoomText !== null ? { zoom: zoomText.split(';') } : {}),
			...(sort !== null ? { sort } : {}),
			...(color !== null && color !== 'kind' ? { color } : {}),
			...(groups.includes('process') ? { groupByProcess: true } : {}),
			...(groups.includes('endpoint') ? { groupByEndpoint: true } : {}),
			...(endpoint !== null ? { endpoint } : {}),
		},
		warnings,
	};
}

/** Values longer than this are cut in messages: a pasted URL can carry anything. */
const WARNING_VALUE_CHARS = 40;

/** `Ignored pid=abc: not a process id; showing every process` */
export function formatWarning(warning: QueryWarning): string {
	const value = warning.value.length > WARNING_VALUE_CHARS ? `${warning.value.slice(0, WARNING_VALUE_CHARS - 1)}…` : warning.value;
	return `Ignored ${warning.param}=${value}: ${warning.reason}`;
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
	if (state.endpoint) params.set('endpoint', state.endpoint);
	for (const host of state.hosts) params.append('host', host);
	if (state.live && state.range.kind === 'relative') params.set('live', '1');
	if (state.view !== defaultProfileQuery.view) params.set('view', state.view);
	if (state.orientation !== defaultProfileQuery.orientation) params.set('orient', state.orientation);
	if (state.search) params.set('q', state.search);
	if (state.zoom && state.zoom.length > 0) params.set('zoom', state.zoom.join(';'));
	const sort = state.sort ? formatSort(state.sort) : null;
	if (sort !== null) params.set('sort', sort);
	if (state.color && state.color !== 'kind') params.set('color', state.color);
	const groups = [...(state.groupByProcess ? ['process'] : []), ...(state.groupByEndpoint ? ['endpoint'] : [])];
	if (groups.length > 0) params.set('group', groups.join(','));
	return params;
}

export function resolveRange(range: TimeRange, now: number): { from: number; to: number } {
	if (range.kind === 'absolute') return { from: range.from, to: range.to };
	const preset = findPreset(range.preset) ?? findPreset(DEFAULT_PRESET);
	return { from: now - (preset?.ms ?? 0), to: now };
}

/** The longest relative range on offer, if it is longer than `range`: where to look next. */
export function widerPreset(range: TimeRange): OfferedPreset | null {
	if (range.kind === 'absolute') return null;
	const current = findPreset(range.preset)?.ms ?? 0;
	const widest = RANGE_PRESETS.reduce<OfferedPreset | null>((best, preset) => (best === null || preset.ms > best.ms ? preset : best), null);
	return widest && widest.ms > current ? widest : null;
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
	hosts: readonly string[];
	endpoint?: string | undefined;
}

/** The pprof export of exactly what the page shows. */
export function pprofHref(filter: ProfileFilter): string {
	const params = new URLSearchParams({ from: String(Math.floor(filter.from)), to: String(Math.ceil(filter.to)) });
	if (filter.pid !== null) params.set('pid', String(filter.pid));
	if (filter.comm) params.set('comm', filter.comm);
	if (filter.endpoint) params.set('endpoint', filter.endpoint);
	for (const host of filter.hosts) params.append('host', host);
	return `/api/pprof?${params.toString()}`;
}

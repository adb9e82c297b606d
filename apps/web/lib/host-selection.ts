/**
 * The dashboard's host selector: which hosts every page shows, kept in the URL as repeated
 * `host` parameters (`?host=a&host=b`). None means every host, merged.
 */

export const HOST_PARAM = 'host';

interface ParamsLike {
	getAll(name: string): string[];
}

/** The selected hosts, trimmed, without repeats, in URL order; empty for every host. */
export function parseHostSelection(params: ParamsLike): string[] {
	return [...new Set(params.getAll(HOST_PARAM).map((h) => h.trim()))].filter((h) => h !== '');
}

/** `params` with the selection replaced, every other parameter kept. */
export function withHostSelection(params: URLSearchParams, hosts: readonly string[]): URLSearchParams {
	const next = new URLSearchParams(params);
	next.delete(HOST_PARAM);
	for (const host of new Set(hosts)) next.append(HOST_PARAM, host);
	return next;
}

/** Whether a host's data belongs on the page. */
export function isSelected(hosts: readonly string[], host: string): boolean {
	return hosts.length === 0 || hosts.includes(host);
}

/** The API's `host` field for a selection: absent for every host, a name, or a list merged. */
export function hostInput(hosts: readonly string[]): { host?: string | string[] } {
	if (hosts.length === 0) return {};
	if (hosts.length === 1) return { host: hosts[0]! };
	return { host: [...hosts] };
}

/** What the selector's button says. */
export function selectionLabel(hosts: readonly string[]): string {
	if (hosts.length === 0) return 'All hosts';
	if (hosts.length === 1) return hosts[0]!;
	return `${hosts.length} hosts`;
}

/** Toggles one host; selecting every known host is the same as selecting none. */
export function toggleHost(hosts: readonly string[], host: string, known: readonly string[]): string[] {
	const next = hosts.includes(host) ? hosts.filter((h) => h !== host) : [...hosts, host];
	return known.length > 0 && known.every((k) => next.includes(k)) && next.every((h) => known.includes(h)) ? [] : next;
}

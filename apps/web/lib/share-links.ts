/**
 * Share links: `/s/<id>` with the Profiles page's view parameters (view mode, flame or icicle,
 * search, zoom path and table order: `view`, `orient`, `q`, `zoom`, `sort`)
 * after it, and the downloads of a share. The id is 128 random bits as base64url.
 */

const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

export function isShareId(id: string): boolean {
	return SHARE_ID.test(id);
}

/** The view parameters a share keeps and its link carries; the rest of the URL is the query. */
export const VIEW_PARAMS = ['view', 'orient', 'q', 'zoom', 'sort'] as const;

/** The view parameters of a URL query, as a share's view state. */
export function viewStateOf(params: { get(name: string): string | null }): Record<string, string> {
	const state: Record<string, string> = {};
	for (const name of VIEW_PARAMS) {
		const value = params.get(name);
		if (value) state[name] = value;
	}
	return state;
}

export function shareHref(id: string, viewState: Record<string, string> | null = null): string {
	const query = new URLSearchParams(viewState ?? {}).toString();
	return `/s/${id}${query ? `?${query}` : ''}`;
}

export function shareDownloadHref(id: string, format: 'pprof' | 'folded'): string {
	return `/api/pprof?share=${encodeURIComponent(id)}${format === 'folded' ? '&format=folded' : ''}`;
}

/** Posts a profile file to the hub; resolves with the new share's id or rejects with the hub's one line. */
export async function importProfileFile(file: File): Promise<string> {
	const res = await fetch(`/api/import?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file });
	const text = await res.text();
	if (!res.ok) throw new Error(text.trim() || `the hub answered HTTP ${res.status}`);
	return (JSON.parse(text) as { id: string }).id;
}

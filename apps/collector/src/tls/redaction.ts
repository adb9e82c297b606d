import type { ParsedMessage } from '@firesight/http1';

export const REDACTED = 'REDACTED';

/** Headers whose values are credentials. Compared case-insensitively. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Lengths of the names above: most headers are told apart by length, without lower-casing. */
const SECRET_LENGTHS = new Set([...SECRET_HEADERS].map((h) => h.length));

/** A copy with secret values replaced; headers that are not secret keep their pairs. */
export function redactHeaders(headers: readonly [string, string][]): [string, string][] {
	return headers.map((h) =>
		SECRET_LENGTHS.has(h[0].length) && SECRET_HEADERS.has(h[0].toLowerCase()) ? [h[0], REDACTED] : h,
	);
}

/**
 * Keeps the path and the names of query parameters, replaces every value (and any bare part,
 * which may itself be a token) and drops the fragment: `/s?q=x&flag` -> `/s?q=REDACTED&REDACTED`.
 */
export function redactUrl(url: string): string {
	const hash = url.indexOf('#');
	const noFrag = hash >= 0 ? url.slice(0, hash) : url;
	const q = noFrag.indexOf('?');
	if (q < 0) return noFrag;
	const query = noFrag.slice(q + 1);
	if (query === '') return noFrag;
	const parts = query.split('&').map((part) => {
		const eq = part.indexOf('=');
		return eq > 0 ? `${part.slice(0, eq)}=${REDACTED}` : REDACTED;
	});
	return `${noFrag.slice(0, q)}?${parts.join('&')}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A captured body as text, for the processes bodies were asked for; undefined otherwise. */
export function bodyText(m: ParsedMessage): string | undefined {
	return m.body ? utf8.decode(m.body) : undefined;
}

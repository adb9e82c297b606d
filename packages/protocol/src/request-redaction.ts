import type { RequestBatch, RequestRecord } from './requests.ts';

/** The value collectors put in place of a secret; the same word the collector's redaction uses. */
export const REDACTED_VALUE = 'REDACTED';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

function headers(list: readonly [string, string][]): [string, string][] {
	return list.map(([name, value]) => [name, SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED_VALUE : value]);
}

/** Query values (and bare query parts) replaced, fragment dropped; idempotent. */
export function redactRequestPath(path: string): string {
	const hash = path.indexOf('#');
	const noFrag = hash >= 0 ? path.slice(0, hash) : path;
	const q = noFrag.indexOf('?');
	if (q < 0 || q === noFrag.length - 1) return noFrag;
	const parts = noFrag.slice(q + 1).split('&').map((part) => {
		const eq = part.indexOf('=');
		return eq > 0 ? `${part.slice(0, eq)}=${REDACTED_VALUE}` : REDACTED_VALUE;
	});
	return `${noFrag.slice(0, q)}?${parts.join('&')}`;
}

/**
 * The hub's second line of defence: collectors redact before sending, and the hub applies the
 * same rules again before storing or serving, so a collector with a bug (or an old one) cannot
 * put a credential in storage. Applying it to already redacted data changes nothing.
 */
export function redactRequestRecord(r: RequestRecord): RequestRecord {
	return {
		...r,
		path: redactRequestPath(r.path),
		endpoint: redactRequestPath(r.endpoint),
		requestHeaders: headers(r.requestHeaders),
		responseHeaders: headers(r.responseHeaders),
	};
}

export function redactRequestBatch(batch: RequestBatch): RequestBatch {
	return { ...batch, requests: batch.requests.map(redactRequestRecord) };
}

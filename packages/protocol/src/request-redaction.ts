import type { RequestBatch, RequestRecord } from './requests.ts';

/** The value collectors put in place of a secret; the same word the collector's redaction uses. */
export const REDACTED_VALUE = 'REDACTED';

/** Which request and response headers hold credentials; names compare case-insensitively. */
export interface RedactionRules {
	/** Whole header names. */
	headers: readonly string[];
	/** A header whose name contains one of these is a secret too (`x-upstream-token`, `api_key`). */
	nameParts: readonly string[];
}

export const DEFAULT_REDACTION: RedactionRules = {
	headers: ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token'],
	nameParts: ['token', 'secret', 'password', 'session', 'key'],
};

/** The default rules plus more names (`--redact-header`); parts stay the default's. */
export function redactionRules(extraHeaders: readonly string[] = []): RedactionRules {
	return {
		headers: [...DEFAULT_REDACTION.headers, ...extraHeaders.map((h) => h.toLowerCase())],
		nameParts: DEFAULT_REDACTION.nameParts,
	};
}

const compiled = new WeakMap<RedactionRules, (name: string) => boolean>();

/**
 * This runs on every header of every captured request, and services send the same few header
 * names over and over: each name's answer is kept (a bounded cache, emptied when full), so most
 * headers cost one map lookup.
 */
function matcher(rules: RedactionRules): (name: string) => boolean {
	let m = compiled.get(rules);
	if (!m) {
		const names = new Set(rules.headers.map((h) => h.toLowerCase()));
		const parts = rules.nameParts.map((p) => p.toLowerCase());
		const seen = new Map<string, boolean>();
		m = (name) => {
			let secret = seen.get(name);
			if (secret === undefined) {
				const lower = name.toLowerCase();
				secret = names.has(lower) || parts.some((p) => lower.includes(p));
				if (seen.size >= 4096) seen.clear();
				seen.set(name, secret);
			}
			return secret;
		};
		compiled.set(rules, m);
	}
	return m;
}

export function isSecretHeader(name: string, rules: RedactionRules = DEFAULT_REDACTION): boolean {
	return matcher(rules)(name);
}

/** A copy with secret values replaced; other pairs are kept as they are. */
export function redactHeaders(list: readonly [string, string][], rules: RedactionRules = DEFAULT_REDACTION): [string, string][] {
	const secret = matcher(rules);
	const out: [string, string][] = new Array(list.length);
	for (let i = 0; i < list.length; i++) {
		const h = list[i]!;
		out[i] = secret(h[0]) ? [h[0], REDACTED_VALUE] : h;
	}
	return out;
}

/** Query values (and bare query parts) replaced, fragment dropped; idempotent. */
export function redactRequestPath(path: string): string {
	const hash = path.indexOf('#');
	const noFrag = hash >= 0 ? path.slice(0, hash) : path;
	const q = noFrag.indexOf('?');
	if (q < 0 || q === noFrag.length - 1) return noFrag;
	const parts = noFrag
		.slice(q + 1)
		.split('&')
		.map((part) => {
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
export function redactRequestRecord(r: RequestRecord, rules: RedactionRules = DEFAULT_REDACTION): RequestRecord {
	return {
		...r,
		path: redactRequestPath(r.path),
		endpoint: redactRequestPath(r.endpoint),
		requestHeaders: redactHeaders(r.requestHeaders, rules),
		responseHeaders: redactHeaders(r.responseHeaders, rules),
	};
}

export function redactRequestBatch(batch: RequestBatch, rules: RedactionRules = DEFAULT_REDACTION): RequestBatch {
	return { ...batch, requests: batch.requests.map((r) => redactRequestRecord(r, rules)) };
}

/** Options that take a credential as their value: `-u user:pass` (curl), `--user`. */
const CREDENTIAL_OPTIONS = new Set(['-u', '--user', '--proxy-user']);

/**
 * A process's command line with the credentials it was given replaced: the values of header
 * arguments whose names are secret (`-H 'Authorization: Bearer …'`), of options and `key=value`
 * pairs whose names are (`--api-token x`, `--password=x`, `PGPASSWORD=x`, `?api_key=x`), and the
 * passwords of `user:pass` arguments and URLs. The argument boundaries are gone by the time the
 * hub sees the text, so it works on words: a secret header's value is redacted up to the next
 * option or URL, which may take a harmless word with it. Idempotent.
 */
export function redactCommandLine(cmdline: string, rules: RedactionRules = DEFAULT_REDACTION): string {
	const secret = matcher(rules);
	const words = cmdline.split(' ');
	const out: string[] = [];
	// Words still to redact: the value of a secret header or option.
	let skipping: 'header' | 'option' | undefined;
	for (const word of words) {
		if (skipping !== undefined) {
			if (word === '' || (skipping === 'header' && !word.startsWith('-') && !word.includes('://'))) {
				if (word !== '' && out.at(-1) !== REDACTED_VALUE) out.push(REDACTED_VALUE);
				continue;
			}
			if (skipping === 'option' && !word.startsWith('-')) {
				out.push(REDACTED_VALUE);
				skipping = undefined;
				continue;
			}
			skipping = undefined;
		}
		const header = /^(-H)?([A-Za-z0-9_-]+):(.*)$/.exec(word);
		if (header && !header[3]!.startsWith('//') && secret(header[2]!)) {
			if (header[3] === '') {
				out.push(word);
				skipping = 'header';
			} else out.push(`${header[1] ?? ''}${header[2]}:${REDACTED_VALUE}`);
			continue;
		}
		const option = /^--?([A-Za-z0-9_.-]+)$/.exec(word);
		if (option && (CREDENTIAL_OPTIONS.has(word) || secret(option[1]!))) {
			out.push(word);
			skipping = 'option';
			continue;
		}
		out.push(redactWord(word, secret));
	}
	return out.join(' ');
}

/** `key=value` with a secret key, URL passwords and secret query parameters, in one word. */
function redactWord(word: string, secret: (name: string) => boolean): string {
	return word
		.replace(/^(-{0,2}[A-Za-z0-9_.-]+)=(.+)$/, (all, key: string, value: string) =>
			secret(key.replace(/^-+/, '')) && value !== REDACTED_VALUE ? `${key}=${REDACTED_VALUE}` : all,
		)
		.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@/\s]+@/i, `$1:${REDACTED_VALUE}@`)
		.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (all, sep: string, key: string) =>
			secret(decodeURIComponentSafe(key)) ? `${sep}${key}=${REDACTED_VALUE}` : all,
		);
}

function decodeURIComponentSafe(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

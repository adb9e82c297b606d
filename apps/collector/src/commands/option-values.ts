import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { limits } from '@firesight/protocol/limits';
import { parseStorageUrl } from '@firesight/store/storage-url';
import { normalizeHubUrl } from '../hub-url.ts';

/**
 * The zod schemas of option values the commands share. Each turns the text of one option into
 * its value, or fails with a phrase that follows the option's name ("--pid must be ...").
 */

/** A whole number from min to max, written in decimal digits. */
export function wholeNumber(min: number, max: number) {
	const message = `must be a whole number from ${min} to ${max}`;
	return z
		.string()
		.regex(/^\s*\d{1,16}\s*$/, message)
		.transform(Number)
		.pipe(z.number().min(min, message).max(max, message));
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `90000` → `90s`, `86400000` → `1d`: the largest unit that says it exactly. */
export function formatDuration(ms: number): string {
	for (const unit of ['d', 'h', 'm', 's'] as const) {
		if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
	}
	return `${ms}ms`;
}

/** A duration such as 90s, 5m, 1h or 2d (a bare number is seconds), in milliseconds, from minMs to maxMs. */
export function duration(minMs: number, maxMs: number) {
	const message = `must be a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, such as 30s, 5m or 1h`;
	return z.string().transform((text, ctx) => {
		const m = /^(\d{1,12}(?:\.\d{1,9})?)(ms|s|m|h|d)?$/.exec(text.trim());
		const ms = m ? Number(m[1]) * UNIT_MS[(m[2] as keyof typeof UNIT_MS | undefined) ?? 's'] : NaN;
		if (!(ms >= minMs && ms <= maxMs)) {
			ctx.addIssue({ code: 'custom', message });
			return z.NEVER;
		}
		return ms;
	});
}

/** One of a few words. */
export function choice<const T extends readonly [string, ...string[]]>(words: T) {
	return z.enum(words, { error: `must be ${words.slice(0, -1).join(', ')} or ${words.at(-1)}` });
}

/** A host or command name as the wire carries it. */
export const name = z
	.string()
	.regex(/^[^\p{Cc}]*$/u, 'must not hold control characters')
	.min(1, `must be 1 to ${limits.shortString} characters`)
	.max(limits.shortString, `must be 1 to ${limits.shortString} characters`);

/** An endpoint as the Requests page and the request labels of samples name it: `GET /api/users/:id`. */
export const endpoint = z
	.string()
	.max(limits.shortString, `must be at most ${limits.shortString} characters`)
	.regex(/^[A-Z][A-Z-]* \/\S*$/, "must be METHOD and path template, such as 'GET /api/users/:id'");

/** An HTTP header name, as RFC 9110 spells a token. */
export const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,200}$/, 'must be a header name such as X-Signature');

/** A file to write. */
export const filePath = z
	.string()
	.min(1, 'must name a file')
	.regex(/^[^\0]*$/, 'must not hold a NUL character');

/** A directory. */
export const directoryPath = z
	.string()
	.min(1, 'must name a directory')
	.regex(/^[^\0]*$/, 'must not hold a NUL character');

/** A bearer token as the collector sends it in an HTTP header. */
export function bearerToken(minLength: number) {
	return z
		.string()
		.regex(new RegExp(`^[\\x21-\\x7e]{${minLength},512}$`), `must be ${minLength} to 512 visible ASCII characters without spaces`);
}

/**
 * A file holding a bearer token (a Kubernetes Secret, a systemd credential): read at the start,
 * with surrounding whitespace (the trailing newline an editor leaves) taken off.
 */
export function tokenFile(minLength: number) {
	const token = bearerToken(minLength);
	return filePath.transform((path, ctx) => {
		let text: string;
		try {
			text = readFileSync(path, 'utf8').trim();
		} catch (err) {
			ctx.addIssue({ code: 'custom', message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
			return z.NEVER;
		}
		const checked = token.safeParse(text);
		if (!checked.success) {
			ctx.addIssue({ code: 'custom', message: `holds no usable token (it ${checked.error.issues[0]?.message ?? 'must be a token'})` });
			return z.NEVER;
		}
		return checked.data;
	});
}

/** Where a hub stores: `sqlite:PATH`, `sqlite:DIR/` or `clickhouse://HOST:PORT/DB`. */
export const storeUrl = z.string().transform((text, ctx) => {
	try {
		return parseStorageUrl(text);
	} catch {
		ctx.addIssue({ code: 'custom', message: 'must be sqlite:PATH, sqlite:DIR/ or clickhouse://HOST:PORT/DB' });
		return z.NEVER;
	}
});

/** The hub a collector streams to: an http(s) or ws(s) URL. */
export const collectorHubUrl = z
	.string()
	.refine((s) => URL.canParse(s) && /^(https?|wss?):$/.test(new URL(s).protocol), 'must be a URL such as http://127.0.0.1:7300');

/** The hub a query reads from: a URL, or host:port; normalized without a trailing slash. */
export const queryHubUrl = z.string().transform((text, ctx) => {
	try {
		return normalizeHubUrl(text);
	} catch {
		ctx.addIssue({ code: 'custom', message: 'must be an http or https URL such as http://127.0.0.1:7300' });
		return z.NEVER;
	}
});

/** pprof when the file name says so, else folded: what --format defaults to. */
export function outputFormat(format: 'pprof' | 'folded' | undefined, output: string | undefined): 'pprof' | 'folded' {
	return format ?? (output && /\.(pb\.gz|pprof)$/.test(output) ? 'pprof' : 'folded');
}

const SIZE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** A size such as 256M, 1G or 65536 (bytes); K, M and G are powers of 1024 (KiB, MiB, GiB too). */
export function byteSize(min: number, max: number) {
	const message = `must be a size from ${min} bytes to ${max / 1024 ** 3} GiB, such as 64M or 1G`;
	return z.string().transform((text, ctx) => {
		const m = /^(\d{1,15})\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
		const bytes = m ? Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase() as keyof typeof SIZE_UNITS] : NaN;
		if (!(bytes >= min && bytes <= max)) {
			ctx.addIssue({ code: 'custom', message });
			return z.NEVER;
		}
		return bytes;
	});
}

import { z } from 'zod';
import { defineOptions, flagOption, textOption, type Environment } from '../command.ts';
import { DEFAULT_HUB_URL } from '../hub-url.ts';
import { bearerToken, duration, formatDuration, name, queryHubUrl, wholeNumber } from './option-values.ts';

/** The filters and output choice every listing `firesight query` subcommand takes. */
export interface ListingArgs {
	sinceMs: number;
	pid: number | undefined;
	host: string | undefined;
	json: boolean;
	hub: string;
	/** The hub's token, for a hub with auth on. */
	token: string | undefined;
}

/** The options every `firesight query` subcommand takes. */
export const queryOptions = {
	since: textOption(duration(1000, 366 * 86_400_000).default(5 * 60_000), { short: 's' }),
	pid: textOption(wholeNumber(0, 2 ** 32 - 1).optional(), { short: 'p' }),
	host: textOption(name.optional()),
	hub: textOption(queryHubUrl.default(DEFAULT_HUB_URL)),
	token: textOption(bearerToken(1).optional(), { env: 'FIRESIGHT_TOKEN', secret: true }),
};

const listingOptions = defineOptions({ ...queryOptions, json: flagOption(z.boolean().default(false)) });

/** Parses --since --pid --host --json --hub. */
export function parseListingArgs(argv: readonly string[], env?: Environment): ListingArgs {
	const { since: sinceMs, ...rest } = listingOptions.parse(argv, env);
	return { ...rest, sinceMs };
}

/** "Nothing in the last 5m for pid 7, host h" on standard error. */
export function reportNothing(nothing: string, sinceMs: number, filters: Record<string, string | number | undefined>): void {
	const what = Object.entries(filters)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${k} ${v}`)
		.join(', ');
	console.error(`firesight query: no ${nothing} in the last ${formatDuration(sinceMs)}${what ? ` for ${what}` : ''}`);
}

/** How a listing prints its rows; a HOST column or field is added when rows span hosts. */
export interface ListingFormat<R> {
	/** What there is none of, for the message when nothing came back: "HTTPS requests". */
	nothing: string;
	/** One JSON line per row (--json). */
	json(row: R): Record<string, unknown>;
	header: string[];
	/** Columns aligned right. */
	numeric: number[];
	cells(row: R): string[];
}

/** Prints rows as JSON lines or a text table, or says on standard error that there are none. */
export async function printListing<R extends { host: string }>(
	args: ListingArgs,
	rows: readonly R[],
	format: ListingFormat<R>,
): Promise<void> {
	const multiHost = manyHosts(rows, args.host);
	let out = '';
	if (args.json) {
		out = rows.map((r) => JSON.stringify({ ...format.json(r), ...(multiHost ? { host: r.host } : {}) }) + '\n').join('');
	} else if (rows.length === 0) {
		reportNothing(format.nothing, args.sinceMs, { pid: args.pid, host: args.host });
	} else {
		const header = [...format.header, ...(multiHost ? ['HOST'] : [])];
		const body = rows.map((r) => [...format.cells(r), ...(multiHost ? [r.host] : [])]);
		out = textTable(header, body, new Set(format.numeric));
	}
	await writeStdout(out);
}

/** Whether rows from more than one host came back, so that each row must say its host. */
function manyHosts(rows: readonly { host: string }[], hostFilter: string | undefined): boolean {
	return hostFilter === undefined && new Set(rows.map((r) => r.host)).size > 1;
}

/** Left-aligned columns, numbers right-aligned, two spaces apart. */
export function textTable(header: string[], rows: string[][], numeric: ReadonlySet<number>): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) =>
		cells
			.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
			.join('  ')
			.trimEnd();
	return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Writes to standard output and waits until it is flushed (a pipe may be slower than the exit). */
export function writeStdout(out: string | Uint8Array): Promise<void> {
	return new Promise<void>((resolve, reject) => process.stdout.write(out, (err) => (err ? reject(err) : resolve())));
}

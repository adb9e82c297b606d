/**
 * SQL text for ClickHouse 18.16, which has no server-side query parameters: every value a query
 * names is written here, as a literal that cannot end its quotes.
 */

/** A string literal: backslash, quote and control characters escaped. */
export function str(s: string): string {
	// eslint-disable-next-line no-control-regex
	return `'${s.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => (c === '\\' || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

/** A number literal; refuses NaN and infinities, which would change a query's meaning. */
export function num(n: number): string {
	if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
	return Number.isInteger(n) ? n.toFixed(0) : String(n);
}

export const DAY_MS = 86_400_000;
/**
 * The last day ClickHouse 18.16's toDate() reads (2105-12-31); a later date string becomes
 * 0000-00-00, which made `day <= toDate(...)` match nothing for a range ending past it. Later
 * times share this day's partition.
 */
const LAST_DAY = Date.UTC(2105, 11, 31) / DAY_MS;

/** The UTC day (days since 1970) a time falls in, within what a Date column holds. */
export function dayNumber(ms: number): number {
	return Math.min(LAST_DAY, Math.max(0, Math.floor(ms / DAY_MS)));
}

/** The `Date` value of a day number, as JSON input and queries write it. */
export function dateString(day: number): string {
	return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `day` between the days of two times: lets a query skip every other partition. */
export function dayRange(fromMs: number, toMs: number): string {
	return `day >= toDate(${str(dateString(dayNumber(fromMs)))}) AND day <= toDate(${str(dateString(dayNumber(toMs)))})`;
}

/** A partition id (toYYYYMMDD) of a day number, and back. */
export function partitionOf(day: number): string {
	return dateString(day).replaceAll('-', '');
}

export function dayOfPartition(id: string): number | undefined {
	const m = /^(\d{4})(\d{2})(\d{2})$/.exec(id);
	if (!m) return undefined;
	return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS);
}

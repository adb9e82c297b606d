import type { z } from 'zod';
import { collectorMessageSchema, type CollectorMessage } from './ingest.ts';
import { liveServerMessageSchema, type LiveServerMessage } from './browser.ts';
import { repairProfileMessage, type WindowRepair } from './profile-window-repair.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** One line naming the first few problems, e.g. `stacks.0.count: Too small: expected number to be >0`. */
export function formatZodError(error: z.ZodError): string {
	const parts = error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
	const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
	return parts.join('; ') + more;
}

function parseJson<T>(text: string, schema: z.ZodType<T>): ParseResult<T> {
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch (err) {
		return { ok: false, error: `not JSON: ${(err as Error).message}` };
	}
	const r = schema.safeParse(raw);
	return r.success ? { ok: true, value: r.data } : { ok: false, error: formatZodError(r.error) };
}

/**
 * Parses and validates one collector→hub message; never throws. With `onRepair`, a profile
 * window with a bad field or stack is repaired (see repairProfileMessage) instead of rejected,
 * and each repair is reported once the window passes. Repairing only after a failed parse is
 * the same as repairing first (a valid window has nothing to repair) and costs a valid one
 * nothing.
 */
export function parseCollectorMessage(
	text: string,
	onRepair?: (repair: WindowRepair, count: number) => void,
): ParseResult<CollectorMessage> {
	const first = parseJson(text, collectorMessageSchema);
	if (first.ok || !onRepair) return first;
	let raw: unknown;
	try {
		raw = JSON.parse(text);
	} catch {
		return first;
	}
	const repaired = repairProfileMessage(raw);
	if (!repaired) return first;
	const r = collectorMessageSchema.safeParse(repaired.message);
	if (!r.success) return first;
	for (const [repair, count] of repaired.repairs) onRepair(repair, count);
	return { ok: true, value: r.data };
}

/** Parses and validates one hub→browser message; never throws. */
export function parseLiveServerMessage(text: string): ParseResult<LiveServerMessage> {
	return parseJson(text, liveServerMessageSchema);
}

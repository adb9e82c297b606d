/**
 * How a sample's `requestId` label names requests. An unambiguous sample names its one request.
 * A sample taken while several requests were open on its thread (ambiguous) names every slow
 * request whose lifetime on that thread may hold it, oldest first, separated by a space; an id
 * ends in `+` when the sample may have been taken after that request ended. "CPU during this
 * request" is then every sample whose list holds the request. Ids themselves hold neither a
 * space nor a `+` (they are `boot:number`).
 */
export const REQUEST_ID_SEPARATOR = ' ';
/** Marks a request the sample may have been taken after. */
export const MAY_BE_AFTER = '+';

export interface RequestIdEntry {
	requestId: string;
	/** The sample may come from after this request ended (its thread's lifetime view over-counts). */
	mayBeAfter: boolean;
}

/** The requests a `requestId` label names. */
export function parseRequestIds(label: string): RequestIdEntry[] {
	const out: RequestIdEntry[] = [];
	for (const t of label.split(REQUEST_ID_SEPARATOR)) {
		if (t === '') continue;
		out.push(
			t.endsWith(MAY_BE_AFTER) ? { requestId: t.slice(0, -MAY_BE_AFTER.length), mayBeAfter: true } : { requestId: t, mayBeAfter: false },
		);
	}
	return out;
}

/** The entry for `requestId` in a sample's label, or undefined when the label does not name it. */
export function requestIdEntry(label: string | undefined, requestId: string): RequestIdEntry | undefined {
	if (label === undefined) return undefined;
	if (label === requestId) return { requestId, mayBeAfter: false };
	return parseRequestIds(label).find((e) => e.requestId === requestId);
}

/** A label for these entries, in the order given. */
export function formatRequestIds(entries: readonly RequestIdEntry[]): string {
	return entries.map((e) => (e.mayBeAfter ? e.requestId + MAY_BE_AFTER : e.requestId)).join(REQUEST_ID_SEPARATOR);
}

/** Marks where a string was cut to fit a wire limit. */
export const CUT_MARK = '…';

/** A UTF-16 index that does not split a surrogate pair (moves forward past a low surrogate). */
function pairSafe(s: string, i: number): number {
	const c = s.charCodeAt(i);
	return c >= 0xdc00 && c <= 0xdfff ? i + 1 : i;
}

/**
 * `s` in at most `max` UTF-16 units, keeping its end: a C++ or Rust function name's end is the
 * method and its arguments, the part a person reads. `…std::vector<…>::push_back(int&&)`.
 */
export function cutKeepingEnd(s: string, max: number): string {
	if (s.length <= max) return s;
	return CUT_MARK + s.slice(pairSafe(s, s.length - (max - CUT_MARK.length)));
}

/** `s` in at most `max` UTF-16 units, keeping its start (command lines, paths of a module). */
export function cutKeepingStart(s: string, max: number): string {
	if (s.length <= max) return s;
	let end = max - CUT_MARK.length;
	const c = s.charCodeAt(end - 1);
	if (c >= 0xd800 && c <= 0xdbff) end--; // do not leave a high surrogate without its pair
	return s.slice(0, end) + CUT_MARK;
}

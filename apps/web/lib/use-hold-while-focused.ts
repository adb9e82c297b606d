'use client';

import { useCallback, useMemo, useState, type FocusEvent } from 'react';

/**
 * A live list that stands still while focus is inside it. A table taking 100 rows a second
 * pushes a focused row out of its drawn window, and so out of the DOM, within a quarter of a
 * second: the keyboard user's place is lost and their Enter lands nowhere. While held, the list
 * is the one focus came in to, and `newer` counts the rows that arrived since. Focus leaving
 * (to the filter, a drawer, the page) lets it run again.
 */
export function useHoldWhileFocused<Row>(rows: readonly Row[]) {
	const [held, setHeld] = useState<readonly Row[] | null>(null);
	const onFocus = useCallback(() => setHeld((current) => current ?? rows), [rows]);
	const onBlur = useCallback((event: FocusEvent<HTMLElement>) => {
		if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setHeld(null);
	}, []);
	// Live rows are the same objects from snapshot to snapshot, so identity tells new from held.
	const newer = useMemo(() => {
		if (!held) return 0;
		const kept = new Set(held);
		return rows.reduce((n, row) => (kept.has(row) ? n : n + 1), 0);
	}, [held, rows]);
	return { rows: held ?? rows, held: held !== null, newer, onFocus, onBlur };
}

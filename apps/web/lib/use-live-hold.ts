'use client';

import { useCallback, useMemo, useRef, useState, type FocusEvent, type PointerEvent } from 'react';

/**
 * A live list that stands still while the user is at it: while focus is inside it, or the pointer
 * is on one of its rows.
 *
 * - A table taking 100 rows a second pushes a focused row out of its drawn window, and so out of
 *   the DOM, within a quarter of a second: the keyboard user's Enter lands nowhere.
 * - A table sorted by a live value (CPU) reorders every second: a row moved between the press and
 *   the release of a click is not clicked, and one moved before the press opens another process.
 *
 * While held, the list is the one the user came to, and `newer` counts the rows that arrived since.
 * Focus leaving (to the filter, a drawer, the page) and the pointer leaving the rows let it run.
 */
export function useLiveHold<Row>(rows: readonly Row[]) {
	const [held, setHeld] = useState<readonly Row[] | null>(null);
	const engaged = useRef({ focus: false, pointer: false });
	// The rows of this render are the ones on screen: those are what a hold keeps.
	const settle = useCallback(() => {
		const { focus, pointer } = engaged.current;
		setHeld((current) => (focus || pointer ? (current ?? rows) : null));
	}, [rows]);
	const onFocus = useCallback(() => {
		engaged.current.focus = true;
		settle();
	}, [settle]);
	const onBlur = useCallback(
		(event: FocusEvent<HTMLElement>) => {
			if (event.currentTarget.contains(event.relatedTarget as Node | null)) return;
			engaged.current.focus = false;
			settle();
		},
		[settle],
	);
	// On the rows, not the header: sorting by a column is a request for the live order.
	const onPointerOver = useCallback(
		(event: PointerEvent<HTMLElement>) => {
			const onRows = (event.target as Element).closest('tbody') !== null;
			if (onRows === engaged.current.pointer) return;
			engaged.current.pointer = onRows;
			settle();
		},
		[settle],
	);
	const onPointerLeave = useCallback(() => {
		engaged.current.pointer = false;
		settle();
	}, [settle]);
	// Rows that stay from snapshot to snapshot are the same objects (the request list's are), so
	// identity tells new from held.
	const newer = useMemo(() => {
		if (!held) return 0;
		const kept = new Set(held);
		return rows.reduce((n, row) => (kept.has(row) ? n : n + 1), 0);
	}, [held, rows]);
	return { rows: held ?? rows, held: held !== null, newer, handlers: { onFocus, onBlur, onPointerOver, onPointerLeave } };
}

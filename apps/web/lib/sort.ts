export type SortDirection = 'asc' | 'desc';

export interface SortState {
	columnId: string;
	direction: SortDirection;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function compareValues(a: number | string, b: number | string): number {
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	return collator.compare(String(a), String(b));
}

/** A sorted copy; ties keep their input order so rows do not jump between live updates. */
export function sortRows<Row>(rows: readonly Row[], value: (row: Row) => number | string, direction: SortDirection): Row[] {
	const sign = direction === 'asc' ? 1 : -1;
	return rows
		.map((row, index) => ({ row, index, key: value(row) }))
		.sort((a, b) => sign * compareValues(a.key, b.key) || a.index - b.index)
		.map(({ row }) => row);
}

/** Clicking the current column flips it; another column starts in its natural direction. */
export function nextSort(current: SortState, columnId: string, naturalDirection: SortDirection): SortState {
	if (current.columnId === columnId) return { columnId, direction: current.direction === 'asc' ? 'desc' : 'asc' };
	return { columnId, direction: naturalDirection };
}

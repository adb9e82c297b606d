import type { ReactNode } from 'react';
import type { SortDirection } from '../../lib/sort.ts';

/**
 * One column of a DataTable. Tables are lists of these, so a later feature adds a column
 * (requests/s, p99, retransmits…) by adding one entry.
 */
export interface Column<Row> {
	id: string;
	header: string;
	/** Shown on hover over the header: what the number means and over which interval. */
	description?: string;
	align?: 'left' | 'right';
	/** CSS width, e.g. `6rem`; the column without a width takes the remaining space. */
	width?: string;
	/** The value to sort by (and to display when there is no `render`). */
	value(row: Row): number | string;
	render?(row: Row): ReactNode;
	/** Numbers read best largest first. */
	firstSort?: SortDirection;
}

/** A column of amounts (counts, rates, sizes, latencies): right-aligned, and sorted largest first. */
export function amountColumn<Row>(column: Omit<Column<Row>, 'align' | 'firstSort'>): Column<Row> {
	return { ...column, align: 'right', firstSort: 'desc' };
}

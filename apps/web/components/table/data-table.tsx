'use client';

import { useMemo, type ReactNode } from 'react';
import { sortRows, type SortState } from '../../lib/sort.ts';
import type { Column } from './column.ts';
import { BodyRow, ColumnWidths, SortHeader, sortColumnOf, type RowBehavior } from './table-parts.tsx';

export type { RowBehavior } from './table-parts.tsx';

interface DataTableProps<Row> {
	columns: readonly Column<Row>[];
	rows: readonly Row[];
	rowKey(row: Row): string;
	sort: SortState;
	onSortChange(sort: SortState): void;
	rowBehavior?(row: Row): RowBehavior;
	empty?: ReactNode;
	testId?: string;
	/** Long tables render the first rows only; the footer says how many were left out. */
	limit?: number;
	caption?: string;
}

export function DataTable<Row>({
	columns,
	rows,
	rowKey,
	sort,
	onSortChange,
	rowBehavior,
	empty,
	testId,
	limit,
	caption,
}: DataTableProps<Row>) {
	const sortColumn = sortColumnOf(columns, sort);
	const sorted = useMemo(
		() => (sortColumn ? sortRows(rows, (row) => sortColumn.value(row), sort.direction) : [...rows]),
		[rows, sortColumn, sort.direction],
	);
	const shown = limit === undefined ? sorted : sorted.slice(0, limit);
	const hidden = sorted.length - shown.length;

	return (
		<div className="data-table-wrap">
			<table className="data-table" data-testid={testId}>
				{caption && <caption className="visually-hidden">{caption}</caption>}
				<ColumnWidths columns={columns} />
				<SortHeader columns={columns} sort={sort} onSortChange={onSortChange} />
				<tbody>
					{shown.map((row) => (
						<BodyRow key={rowKey(row)} row={row} columns={columns} behavior={rowBehavior?.(row)} />
					))}
				</tbody>
			</table>
			{sorted.length === 0 && empty}
			{hidden > 0 && <div className="table-footer">{hidden} more rows not shown; narrow the filter to see them.</div>}
		</div>
	);
}

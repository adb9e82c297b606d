'use client';

import {
	getCoreRowModel,
	getSortedRowModel,
	useReactTable,
	type ColumnDef,
	type Row as TableRow,
	type SortingState,
} from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useMemo, useRef, type ReactNode } from 'react';
import { compareValues, type SortState } from '../../lib/sort.ts';
import type { Column } from './column.ts';
import { BodyRow, ColumnWidths, SortHeader, sortColumnOf, type RowBehavior } from './table-parts.tsx';
import './virtual-table.css';

/** Every row is one line of text (cells ellipsize), so rows have one height the virtualizer can trust. */
const ROW_HEIGHT = 33;
/** Rows drawn beyond the visible ones on each side: scrolling shows drawn rows, not blanks. */
const OVERSCAN = 12;

interface VirtualTableProps<Row> {
	columns: readonly Column<Row>[];
	rows: readonly Row[];
	rowKey(row: Row): string;
	sort: SortState;
	onSortChange(sort: SortState): void;
	rowBehavior?(row: Row): RowBehavior;
	empty?: ReactNode;
	testId?: string;
	caption?: string;
	/** CSS height of the scrolling body, e.g. `60vh`; only the rows in view are in the DOM. */
	maxHeight?: string;
}

/**
 * A live table of any length: TanStack Table sorts, TanStack Virtual keeps only the rows in view
 * (plus a margin) in the DOM, so a thousand rows cost what thirty do. The columns are the same
 * `Column` entries DataTable takes; ties keep their input order so rows do not jump between
 * updates.
 */
export function VirtualTable<Row>({
	columns,
	rows,
	rowKey,
	sort,
	onSortChange,
	rowBehavior,
	empty,
	testId,
	caption,
	maxHeight = '70vh',
}: VirtualTableProps<Row>) {
	const definitions = useMemo<ColumnDef<Row>[]>(
		() =>
			columns.map((column) => ({
				id: column.id,
				accessorFn: (row: Row) => column.value(row),
				sortingFn: (a: TableRow<Row>, b: TableRow<Row>, id: string) => compareValues(a.getValue(id), b.getValue(id)),
			})),
		[columns],
	);
	const sortColumn = sortColumnOf(columns, sort);
	const sorting = useMemo<SortingState>(
		() => (sortColumn ? [{ id: sortColumn.id, desc: sort.direction === 'desc' }] : []),
		[sortColumn, sort.direction],
	);
	const table = useReactTable<Row>({
		data: rows as Row[],
		columns: definitions,
		state: { sorting },
		getRowId: rowKey,
		getCoreRowModel: getCoreRowModel(),
		getSortedRowModel: getSortedRowModel(),
		enableSortingRemoval: false,
	});
	const sorted = table.getRowModel().rows;

	const scrollRef = useRef<HTMLDivElement>(null);
	const virtualizer = useVirtualizer({
		count: sorted.length,
		getScrollElement: () => scrollRef.current,
		estimateSize: () => ROW_HEIGHT,
		overscan: OVERSCAN,
		getItemKey: (index) => sorted[index]?.id ?? index,
		// Before layout (and in the first paint) draw a screenful rather than nothing.
		initialRect: { width: 1200, height: 900 },
	});
	const items = virtualizer.getVirtualItems();
	const before = items[0]?.start ?? 0;
	const after = items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;

	return (
		<div className="data-table-wrap virtual-table-wrap" ref={scrollRef} style={{ maxHeight }} tabIndex={-1}>
			<table className="data-table" data-testid={testId} aria-rowcount={sorted.length + 1}>
				{caption && <caption className="visually-hidden">{caption}</caption>}
				<ColumnWidths columns={columns} />
				<SortHeader columns={columns} sort={sort} onSortChange={onSortChange} clipLabels rowIndex={1} />
				<tbody>
					{before > 0 && (
						<tr className="virtual-spacer" aria-hidden="true">
							<td colSpan={columns.length} style={{ height: before }} />
						</tr>
					)}
					{items.map((item) => {
						const row = sorted[item.index];
						if (!row) return null;
						return (
							<VirtualRow key={row.id} row={row.original} index={item.index} columns={columns} behavior={rowBehavior?.(row.original)} />
						);
					})}
					{after > 0 && (
						<tr className="virtual-spacer" aria-hidden="true">
							<td colSpan={columns.length} style={{ height: after }} />
						</tr>
					)}
				</tbody>
			</table>
			{sorted.length === 0 && empty}
		</div>
	);
}

interface VirtualRowProps<Row> {
	row: Row;
	index: number;
	columns: readonly Column<Row>[];
	behavior: RowBehavior | undefined;
}

function VirtualRowImpl<Row>({ row, index, columns, behavior }: VirtualRowProps<Row>) {
	return <BodyRow row={row} columns={columns} behavior={behavior} rowIndex={index + 2} />;
}

/**
 * A row re-renders only when its data object, place or look changes: a live snapshot that
 * brings the same object back (or the same rows scrolled) costs nothing.
 */
const VirtualRow = memo(VirtualRowImpl, (a, b) => {
	return (
		a.row === b.row &&
		a.index === b.index &&
		a.columns === b.columns &&
		a.behavior?.selected === b.behavior?.selected &&
		a.behavior?.testId === b.behavior?.testId &&
		a.behavior?.title === b.behavior?.title
	);
}) as typeof VirtualRowImpl;

'use client';

import { useMemo, type KeyboardEvent, type ReactNode } from 'react';
import { nextSort, sortRows, type SortState } from '../../lib/sort.ts';
import type { Column } from './column.ts';

export interface RowBehavior {
	testId?: string;
	selected?: boolean;
	title?: string;
	onActivate?(): void;
}

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
	const sortColumn = columns.find((column) => column.id === sort.columnId) ?? columns[0];
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
				<colgroup>
					{columns.map((column) => (
						<col key={column.id} style={column.width ? { width: column.width } : undefined} />
					))}
				</colgroup>
				<thead>
					<tr>
						{columns.map((column) => {
							const active = column.id === sortColumn?.id;
							const ariaSort = active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none';
							return (
								<th
									key={column.id}
									scope="col"
									aria-sort={ariaSort}
									className={column.align === 'right' ? 'num' : undefined}
									title={column.description}
								>
									<button
										type="button"
										className={`sort-button ${active ? 'active' : ''}`}
										data-testid={`sort-${column.id}`}
										onClick={() => onSortChange(nextSort(sort, column.id, column.firstSort ?? 'asc'))}
									>
										<span>{column.header}</span>
										<span className="sort-arrow" aria-hidden="true">
											{active ? (sort.direction === 'asc' ? '▲' : '▼') : '↕'}
										</span>
									</button>
								</th>
							);
						})}
					</tr>
				</thead>
				<tbody>
					{shown.map((row) => {
						const behavior = rowBehavior?.(row) ?? {};
						const activate = behavior.onActivate;
						const onKeyDown = activate
							? (event: KeyboardEvent<HTMLTableRowElement>) => {
									if (event.key === 'Enter' || event.key === ' ') {
										event.preventDefault();
										activate();
									}
								}
							: undefined;
						return (
							<tr
								key={rowKey(row)}
								data-testid={behavior.testId}
								className={`${activate ? 'clickable' : ''} ${behavior.selected ? 'selected' : ''}`}
								title={behavior.title}
								tabIndex={activate ? 0 : undefined}
								onClick={activate}
								onKeyDown={onKeyDown}
								aria-selected={behavior.selected || undefined}
							>
								{columns.map((column) => (
									<td key={column.id} className={column.align === 'right' ? 'num' : undefined}>
										{column.render ? column.render(row) : column.value(row)}
									</td>
								))}
							</tr>
						);
					})}
				</tbody>
			</table>
			{sorted.length === 0 && empty}
			{hidden > 0 && <div className="table-footer">{hidden} more rows not shown; narrow the filter to see them.</div>}
		</div>
	);
}

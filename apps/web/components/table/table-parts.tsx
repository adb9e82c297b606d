import type { KeyboardEvent } from 'react';
import { nextSort, type SortState } from '../../lib/sort.ts';
import type { Column } from './column.ts';

/** How a row behaves: its test id, whether it is selected, and what activating it (click, Enter, Space) does. */
export interface RowBehavior {
	testId?: string;
	selected?: boolean;
	title?: string;
	onActivate?(): void;
}

/** The column a sort names, or the first when it names none of them. */
export function sortColumnOf<Row>(columns: readonly Column<Row>[], sort: SortState): Column<Row> | undefined {
	return columns.find((column) => column.id === sort.columnId) ?? columns[0];
}

export function ColumnWidths<Row>({ columns }: { columns: readonly Column<Row>[] }) {
	return (
		<colgroup>
			{columns.map((column) => (
				<col key={column.id} style={column.width ? { width: column.width } : undefined} />
			))}
		</colgroup>
	);
}

interface SortHeaderProps<Row> {
	columns: readonly Column<Row>[];
	sort: SortState;
	onSortChange(sort: SortState): void;
	/** Cut long headers with an ellipsis (their title says the rest) instead of widening the column. */
	clipLabels?: boolean;
	/** The header's `aria-rowindex`, for a table that renders only some of its rows. */
	rowIndex?: number;
}

/** The header row: one sort button per column, the active one with its direction. */
export function SortHeader<Row>({ columns, sort, onSortChange, clipLabels, rowIndex }: SortHeaderProps<Row>) {
	const sortColumn = sortColumnOf(columns, sort);
	return (
		<thead>
			<tr aria-rowindex={rowIndex}>
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
								<span className={clipLabels ? 'sort-label' : undefined}>{column.header}</span>
								<span className="sort-arrow" aria-hidden="true">
									{active ? (sort.direction === 'asc' ? '▲' : '▼') : '↕'}
								</span>
							</button>
						</th>
					);
				})}
			</tr>
		</thead>
	);
}

interface BodyRowProps<Row> {
	row: Row;
	columns: readonly Column<Row>[];
	behavior?: RowBehavior | undefined;
	/** The row's `aria-rowindex`, for a table that renders only some of its rows. */
	rowIndex?: number;
}

/** One body row: its cells, and the click and keyboard activation its behavior asks for. */
export function BodyRow<Row>({ row, columns, behavior = {}, rowIndex }: BodyRowProps<Row>) {
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
			data-testid={behavior.testId}
			className={`${activate ? 'clickable' : ''} ${behavior.selected ? 'selected' : ''}`}
			title={behavior.title}
			tabIndex={activate ? 0 : undefined}
			onClick={activate}
			onKeyDown={onKeyDown}
			aria-selected={behavior.selected || undefined}
			aria-rowindex={rowIndex}
		>
			{columns.map((column) => (
				<td key={column.id} className={column.align === 'right' ? 'num' : undefined}>
					{column.render ? column.render(row) : column.value(row)}
				</td>
			))}
		</tr>
	);
}

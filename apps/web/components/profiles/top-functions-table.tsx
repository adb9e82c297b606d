'use client';

import { useMemo, useState } from 'react';
import type { FunctionRow } from '@firesight/profile';
import { matchesSearch } from '../../lib/flame-search.ts';
import { formatCompact, formatPercent } from '../../lib/format.ts';
import type { SortState } from '../../lib/sort.ts';
import { EmptyState } from '../common/empty-state.tsx';
import type { Column } from '../table/column.ts';
import { DataTable } from '../table/data-table.tsx';

function Share({ value, total }: { value: number; total: number }) {
	const percent = total > 0 ? (100 * value) / total : 0;
	return (
		<span className="share-cell" title={`${value} samples`}>
			<span className="share-bar" aria-hidden="true">
				<span style={{ width: `${Math.min(100, percent)}%` }} />
			</span>
			<span className="share-value">{formatPercent(percent)}</span>
			<span className="share-count">{formatCompact(value)}</span>
		</span>
	);
}

function functionColumns(total: number): Column<FunctionRow>[] {
	return [
		{
			id: 'name',
			header: 'Function',
			value: (row) => row.name,
			render: (row) => (
				<span className="ellipsis" title={`${row.name}${row.module ? `\n${row.module}` : ''}`}>
					<span className="mono strong">{row.name}</span>
					{row.module && <span className="dim"> · {row.module}</span>}
				</span>
			),
		},
		{
			id: 'self',
			header: 'Self',
			description: 'Samples where this function itself was running (the leaf of the stack).',
			width: '10.5rem',
			align: 'right',
			firstSort: 'desc',
			value: (row) => row.self,
			render: (row) => <Share value={row.self} total={total} />,
		},
		{
			id: 'total',
			header: 'Total',
			description: 'Samples where this function was anywhere on the stack (itself or its callees).',
			width: '10.5rem',
			align: 'right',
			firstSort: 'desc',
			value: (row) => row.total,
			render: (row) => <Share value={row.total} total={total} />,
		},
	];
}

interface TopFunctionsTableProps {
	functions: readonly FunctionRow[];
	totalSamples: number;
	search: string;
	onSelect(name: string): void;
	/** The order, when the page keeps it (in its URL); the table keeps its own otherwise. */
	sort?: SortState | undefined;
	onSortChange?(sort: SortState): void;
}

/** Functions by self and total time; a click searches the function in the flame graph. */
export function TopFunctionsTable({ functions, totalSamples, search, onSelect, sort: given, onSortChange }: TopFunctionsTableProps) {
	const [own, setOwn] = useState<SortState>({ columnId: 'self', direction: 'desc' });
	const sort = given ?? own;
	const setSort = (next: SortState) => (onSortChange ? onSortChange(next) : setOwn(next));
	const columns = useMemo(() => functionColumns(totalSamples), [totalSamples]);
	const rows = useMemo(() => (search.trim() ? functions.filter((row) => matchesSearch(row.name, search)) : functions), [functions, search]);
	return (
		<DataTable
			columns={columns}
			rows={rows}
			rowKey={(row) => `${row.kind}:${row.module}:${row.name}`}
			sort={sort}
			onSortChange={setSort}
			testId="top-functions"
			caption="Top functions"
			limit={500}
			rowBehavior={(row) => ({
				testId: 'top-function-row',
				selected: row.name === search.trim(),
				title: `Highlight ${row.name} in the flame graph`,
				onActivate: () => onSelect(row.name),
			})}
			empty={<EmptyState title={search.trim() ? `No function matches “${search.trim()}”` : 'No functions in this profile'} />}
		/>
	);
}

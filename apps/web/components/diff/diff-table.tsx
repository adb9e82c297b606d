'use client';

import type { DiffFunctionRow } from '@firesight/profile';
import type { DiffRank } from '../../lib/diff-query.ts';
import { rankDiffRows } from '../../lib/diff-rows.ts';
import { formatCompact, formatPercent } from '../../lib/format.ts';

interface DiffTableProps {
	rows: readonly DiffFunctionRow[];
	baselineTotal: number;
	comparisonTotal: number;
	rank: DiffRank;
	onRank(rank: DiffRank): void;
	onSelect(name: string): void;
	limit?: number;
}

function share(value: number, total: number): string {
	return total > 0 ? formatPercent((100 * value) / total) : '–';
}

function points(delta: number): string {
	const value = 100 * delta;
	return `${value > 0 ? '+' : value < 0 ? '−' : ''}${Math.abs(value).toFixed(Math.abs(value) >= 10 ? 1 : 2)} pp`;
}

function Rows({ title, rows, props, testId }: { title: string; rows: DiffFunctionRow[]; props: DiffTableProps; testId: string }) {
	const self = props.rank === 'self';
	return (
		<div className="diff-table" data-testid={testId}>
			<div className="panel-head">
				<span className="panel-title">{title}</span>
			</div>
			{rows.length === 0 ? (
				<p className="toolbar-note" style={{ padding: '8px 12px' }}>
					None.
				</p>
			) : (
				<div className="data-table-wrap">
					<table className="data-table">
						<thead>
							<tr>
								<th>Function</th>
								<th className="num">Baseline {self ? 'self' : 'total'}</th>
								<th className="num">Comparison {self ? 'self' : 'total'}</th>
								<th className="num">Change</th>
							</tr>
						</thead>
						<tbody>
							{rows.map((row) => {
								const before = self ? row.baselineSelf : row.baselineTotal;
								const after = self ? row.comparisonSelf : row.comparisonTotal;
								const delta = self ? row.selfDelta : row.totalDelta;
								return (
									<tr
										key={`${row.kind}|${row.module}|${row.name}`}
										className="clickable"
										tabIndex={0}
										onClick={() => props.onSelect(row.name)}
										onKeyDown={(event) => event.key === 'Enter' && props.onSelect(row.name)}
										data-testid="diff-row"
										data-name={row.name}
									>
										<td>
											<span className="ellipsis" title={`${row.name}${row.module ? `\n${row.module}` : ''}`}>
												<span className="mono strong">{row.name}</span>
												{row.module && <span className="dim"> · {row.module}</span>}
											</span>
										</td>
										<td className="num" title={`${before} samples`}>
											{share(before, props.baselineTotal)} <span className="dim">{formatCompact(before)}</span>
										</td>
										<td className="num" title={`${after} samples`}>
											{share(after, props.comparisonTotal)} <span className="dim">{formatCompact(after)}</span>
										</td>
										<td className={`num diff-change ${delta > 0 ? 'diff-up' : 'diff-down'}`}>{points(delta)}</td>
									</tr>
								);
							})}
						</tbody>
					</table>
				</div>
			)}
		</div>
	);
}

/** The largest regressions and improvements, as changes of each side's share of its total. */
export function DiffTable(props: DiffTableProps) {
	const { regressions, improvements } = rankDiffRows(props.rows, props.rank, props.limit ?? 20);
	return (
		<section className="panel" aria-label="Largest changes">
			<div className="panel-head">
				<span className="panel-title">Largest changes</span>
				<span className="toolbar-note">in points of each side&apos;s total · click one to find it in the graph</span>
				<div className="segmented" role="group" aria-label="Rank by">
					<button type="button" aria-pressed={props.rank === 'self'} onClick={() => props.onRank('self')} data-testid="diff-rank-self">
						Self
					</button>
					<button type="button" aria-pressed={props.rank === 'total'} onClick={() => props.onRank('total')} data-testid="diff-rank-total">
						Total
					</button>
				</div>
			</div>
			<div className="diff-tables">
				<Rows title="Regressions (slower)" rows={regressions} props={props} testId="diff-regressions" />
				<Rows title="Improvements (faster)" rows={improvements} props={props} testId="diff-improvements" />
			</div>
		</section>
	);
}

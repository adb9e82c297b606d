import type { DiffFunctionRow } from '@firesight/profile';
import type { DiffRank } from './diff-query.ts';

export interface RankedDiff {
	/** Largest growth of share first; only rows that grew. */
	regressions: DiffFunctionRow[];
	/** Largest shrink of share first; only rows that shrank. */
	improvements: DiffFunctionRow[];
}

/** The table's two lists, by the change of self or of total share. */
export function rankDiffRows(rows: readonly DiffFunctionRow[], rank: DiffRank, limit: number): RankedDiff {
	const delta = (row: DiffFunctionRow) => (rank === 'self' ? row.selfDelta : row.totalDelta);
	const byName = (a: DiffFunctionRow, b: DiffFunctionRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
	const regressions = rows.filter((row) => delta(row) > 0).sort((a, b) => delta(b) - delta(a) || byName(a, b));
	const improvements = rows.filter((row) => delta(row) < 0).sort((a, b) => delta(a) - delta(b) || byName(a, b));
	return { regressions: regressions.slice(0, limit), improvements: improvements.slice(0, limit) };
}

import { runCfaProgram, type FdeRows } from './cfa-program.ts';
import type { CfiEntries, CfiProblem, Fde } from './cfi-entries.ts';
import { MAX_LISTED_PROBLEMS } from './cfi-entries.ts';
import type { PointerBases } from './pointer-encoding.ts';
import { UnwindError } from './unwind-error.ts';
import { GAP_RULE, sameRule, type UnwindRule } from './unwind-rule.ts';
import { encodeTable, type UnwindTable } from './unwind-table.ts';

/** One section's entries, in priority order: where FDEs overlap, the earlier source wins. */
export interface CfiSource {
	readonly entries: CfiEntries;
	readonly bases: PointerBases;
}

/** A function's rows from elsewhere than a CFA program (Go's function table: go-rows.ts). */
export interface FunctionRows {
	readonly pcBegin: number;
	/** Exclusive. */
	readonly pcEnd: number;
	/** Where it is described, for problems. */
	readonly offset: number;
	/** Run only for a range no earlier source covers; throws `UnwindError` for a bad one. */
	rows(): FdeRows;
}

/** Sources in priority order, as for `CfiSource`. */
export type RowSource = CfiSource | { readonly functions: readonly FunctionRows[] };

export interface BuildTableOptions {
	/**
	 * Address ranges [start, end) holding code (executable segments). An FDE outside all of them
	 * is corrupt or describes nothing we can sample; skipping it also keeps one wild address
	 * from stretching the table past what its u32 offsets can span.
	 */
	readonly codeRanges?: readonly (readonly [number, number])[];
}

/** What went into a table: counters for /metrics and the first few problems for a log line. */
export interface TableStats {
	/** FDEs used (inside the code ranges, with a non-empty range). */
	readonly fdes: number;
	readonly cies: number;
	/** Entries (CIEs or FDEs) that could not be read, and FDEs whose program could not be run. */
	readonly skippedEntries: number;
	/** FDEs wholly or partly covered by an earlier one (duplicates across .eh_frame and .debug_frame). */
	readonly overlappingFdes: number;
	readonly rows: number;
	readonly rules: number;
	readonly problems: readonly CfiProblem[];
}

/**
 * Runs every FDE's program and lays the rows out as one sorted table: FDEs by start address,
 * identical neighbours collapsed, a gap row wherever no FDE covers the addresses that follow.
 * Where FDEs overlap, the one starting first (then the earlier source) keeps its range and the
 * other starts where it ends.
 */
export function buildTable(sources: readonly RowSource[], options: BuildTableOptions = {}): { table: UnwindTable; stats: TableStats } {
	const code = options.codeRanges;
	const problems: CfiProblem[] = [];
	let skipped = 0;
	let cies = 0;
	const all: { fde: FunctionRows; order: number }[] = [];
	for (const src of sources) {
		let fdes: readonly FunctionRows[];
		if ('functions' in src) {
			fdes = src.functions;
		} else {
			cies += src.entries.cieCount;
			skipped += src.entries.problemCount;
			for (const p of src.entries.problems) if (problems.length < MAX_LISTED_PROBLEMS) problems.push(p);
			fdes = src.entries.fdes.map((fde) => fdeRows(fde, src.bases));
		}
		for (const fde of fdes) {
			if (code !== undefined && !insideAny(code, fde.pcBegin, fde.pcEnd)) {
				skipped++;
				const error = new UnwindError(
					'malformed',
					`FDE for 0x${fde.pcBegin.toString(16)}..0x${fde.pcEnd.toString(16)} lies outside the file's code`,
				);
				if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ offset: fde.offset, error });
				continue;
			}
			all.push({ fde, order: all.length });
		}
	}
	all.sort((a, b) => a.fde.pcBegin - b.fde.pcBegin || a.order - b.order);

	const pcs: number[] = [];
	const ruleIndex: number[] = [];
	const rules: UnwindRule[] = [];
	// Interned by cfaOffset and rbx's rule (50 bits), then by every other field (45 bits).
	const interned = new Map<number, Map<number, number>>();
	let lastRule: UnwindRule | undefined;
	const push = (pc: number, rule: UnwindRule) => {
		if (lastRule !== undefined && sameRule(lastRule, rule)) return;
		const first = packFirst(rule);
		let byRest = interned.get(first);
		if (byRest === undefined) {
			byRest = new Map();
			interned.set(first, byRest);
		}
		const rest = packRest(rule);
		let k = byRest.get(rest);
		if (k === undefined) {
			k = rules.length;
			rules.push(rule);
			byRest.set(rest, k);
		}
		pcs.push(pc);
		ruleIndex.push(k);
		lastRule = rule;
	};

	let covered = -1;
	let overlapping = 0;
	for (const { fde } of all) {
		if (fde.pcEnd <= covered) {
			overlapping++;
			continue;
		}
		let rows;
		try {
			rows = fde.rows();
		} catch (err) {
			if (!(err instanceof UnwindError)) throw err;
			skipped++;
			if (problems.length < MAX_LISTED_PROBLEMS) problems.push({ offset: fde.offset, error: err });
			continue;
		}
		let start = fde.pcBegin;
		if (start < covered) {
			overlapping++;
			start = covered;
		} else if (covered >= 0 && start > covered) {
			push(covered, GAP_RULE);
		}
		// Rows before `start` (a clipped overlap) contribute the one in force at `start`.
		let i = 0;
		while (i + 1 < rows.pcs.length && rows.pcs[i + 1]! <= start) i++;
		for (; i < rows.pcs.length; i++) push(Math.max(rows.pcs[i]!, start), rows.rules[i]!);
		covered = fde.pcEnd;
	}
	if (covered >= 0) push(covered, GAP_RULE);
	const base = pcs.length > 0 ? pcs[0]! : 0;
	const table = encodeTable(base, pcs, ruleIndex, rules);
	return {
		table,
		stats: {
			fdes: all.length,
			cies,
			skippedEntries: skipped,
			overlappingFdes: overlapping,
			rows: pcs.length,
			rules: rules.length,
			problems,
		},
	};
}

function fdeRows(fde: Fde, bases: PointerBases): FunctionRows {
	return { pcBegin: fde.pcBegin, pcEnd: fde.pcEnd, offset: fde.offset, rows: () => runCfaProgram(fde, bases) };
}

function insideAny(ranges: readonly (readonly [number, number])[], begin: number, end: number): boolean {
	for (const [lo, hi] of ranges) if (begin >= lo && end <= hi) return true;
	return false;
}

/** A rule's cfaOffset and rbx rule as one exact number: 32 + 16 + 2 bits. */
function packFirst(r: UnwindRule): number {
	return ((r.cfaOffset + 0x8000_0000) * 0x10000 + (r.rbxOffset + 0x8000)) * 4 + r.rbx;
}

/** Every other field of a rule as one exact number: 16 + 16 + 4 + 2 + 2 + 1 + 4 bits. */
function packRest(r: UnwindRule): number {
	const kinds = ((r.cfa * 4 + r.rbp) * 4 + r.ra) * 2 + (r.signalFrame ? 1 : 0);
	return (((r.rbpOffset + 0x8000) * 0x10000 + (r.raOffset + 0x8000)) * 512 + kinds) * 16 + (r.pltThreshold & 0xf);
}

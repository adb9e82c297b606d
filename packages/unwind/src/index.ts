export { UnwindError, type UnwindErrorCode } from './unwind-error.ts';
export { CfaKind, SavedKind, RaKind, GAP_RULE, formatRule, sameRule, type UnwindRule } from './unwind-rule.ts';
export { UnwindTable, TABLE_VERSION, HEADER_SIZE, RULE_SIZE } from './unwind-table.ts';
export { readCfiEntries, type Cie, type Fde, type CfiEntries, type CfiProblem, type CfiSectionKind } from './cfi-entries.ts';
export { runCfaProgram, matchPltExpression, type FdeRows } from './cfa-program.ts';
export { buildTable, type BuildTableOptions, type CfiSource, type FunctionRows, type RowSource, type TableStats } from './build-table.ts';
export { buildElfUnwindTable, type ElfUnwindTable } from './elf-unwind.ts';
export type { PointerBases } from './pointer-encoding.ts';
export { UnwindTableCache, type UnwindTableCacheOptions, type CacheOutcome } from './table-cache.ts';

import { SymbolTable, sortAndMerge, type SymbolEntry } from './symbol-table.ts';

/**
 * Extent given to the last symbol of the kernel or of a module, whose successor belongs to someone
 * else (the gap before the module area is huge and is not code of the last core symbol).
 */
const LAST_SYMBOL_EXTENT = 0x10000n;

/**
 * Parses /proc/kallsyms text (`ADDR TYPE NAME [\t[MODULE]]`), keeping text symbols (t, T, w, W).
 * kallsyms has no sizes, so each symbol extends to the next one, as perf does. The module name
 * (without brackets) is the entry's tag. Returns an empty table when every address is zero,
 * which is what an unprivileged reader sees (kptr_restrict).
 */
export function parseKallsyms(text: string): SymbolTable {
	const entries: SymbolEntry[] = [];
	let nonZero = false;
	let p = 0;
	while (p < text.length) {
		let e = text.indexOf('\n', p);
		if (e < 0) e = text.length;
		const sp1 = text.indexOf(' ', p);
		if (sp1 > p && sp1 + 3 < e) {
			const type = text[sp1 + 1];
			if (type === 't' || type === 'T' || type === 'w' || type === 'W') {
				const rest = text.slice(sp1 + 3, e);
				const tab = rest.indexOf('\t');
				const name = tab < 0 ? rest : rest.slice(0, tab);
				let tag: string | undefined;
				if (tab >= 0) {
					const mod = rest.slice(tab + 1).trim();
					tag = mod.startsWith('[') && mod.endsWith(']') ? mod.slice(1, -1) : mod;
				}
				const start = BigInt(`0x${text.slice(p, sp1)}`);
				if (start !== 0n) nonZero = true;
				entries.push({ start, end: start, name, tag });
			}
		}
		p = e + 1;
	}
	if (!nonZero) return new SymbolTable([]);
	// Several names often share an address (_stext, _text, ...): prefer fewer leading underscores.
	const merged = sortAndMerge(entries, (a, b) => underscores(a.name) < underscores(b.name));
	for (let i = 0; i < merged.length; i++) {
		const cur = merged[i]!;
		const next = merged[i + 1];
		const cap = cur.start + LAST_SYMBOL_EXTENT;
		cur.end = next === undefined || (next.tag !== cur.tag && next.start > cap) ? cap : next.start;
	}
	return new SymbolTable(merged);
}

function underscores(s: string): number {
	let n = 0;
	while (n < s.length && s.charCodeAt(n) === 95) n++;
	return n;
}

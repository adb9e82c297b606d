import { SymbolTable, SymbolTableBuilder } from './symbol-table.ts';

/**
 * Extent given to the last symbol of the kernel or of a module, whose successor belongs to someone
 * else (the gap before the module area is huge and is not code of the last core symbol).
 */
const LAST_SYMBOL_EXTENT = 0x10000;

/**
 * Parses /proc/kallsyms (`ADDR TYPE NAME [\t[MODULE]]`), keeping text symbols (t, T, w, W).
 * kallsyms has no sizes, so each symbol extends to the next one, as perf does. The module name
 * (without brackets) is the entry's tag. Returns an empty table when every address is zero,
 * which is what an unprivileged reader sees (kptr_restrict). Works on the raw bytes: the file
 * holds a few hundred thousand lines and only the names that are hit are ever decoded.
 */
export function parseKallsyms(input: string | Buffer): SymbolTable {
	const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
	// Lines average about 40 bytes, and most are text symbols.
	const b = new SymbolTableBuilder(buf.length / 40);
	let nonZero = false;
	let lastTag = '';
	let lastTagId = 0;
	let p = 0;
	const len = buf.length;
	while (p < len) {
		// Byte loops rather than Buffer#indexOf: a native call per line costs more than the scan.
		let e = p;
		while (e < len && buf[e] !== 10) e++;
		// Address: hex digits up to the first space.
		let hi = 0;
		let lo = 0;
		let q = p;
		let ok = true;
		for (; q < e; q++) {
			const d = hexDigit(buf[q]!);
			if (d < 0) break;
			hi = (hi * 16 + Math.floor(lo / 0x1000_0000)) >>> 0;
			lo = ((lo * 16) % 0x1_0000_0000) + d;
			if (q - p >= 16) ok = false;
		}
		const type = buf[q + 1];
		if (ok && q > p && buf[q] === 32 && q + 3 < e && buf[q + 2] === 32 && (type === 116 || type === 84 || type === 119 || type === 87)) {
			const nameAt = q + 3;
			let nameEnd = nameAt;
			while (nameEnd < e && buf[nameEnd] !== 9) nameEnd++;
			let tag = 0;
			if (nameEnd < e) {
				let ms = nameEnd + 1;
				let me = e;
				while (ms < me && buf[ms] === 32) ms++;
				while (me > ms && (buf[me - 1] === 32 || buf[me - 1] === 13)) me--;
				if (buf[ms] === 91 && buf[me - 1] === 93) {
					ms++;
					me--;
				}
				const mod = buf.toString('latin1', ms, me);
				if (mod !== lastTag) {
					lastTag = mod;
					lastTagId = b.tagId(mod);
				}
				tag = lastTagId;
			}
			if (hi !== 0 || lo !== 0) nonZero = true;
			// Several names often share an address (_stext, _text, ...): prefer fewer leading underscores.
			b.addParts(lo, hi, 0, buf, nameAt, nameEnd, underscores(buf, nameAt, nameEnd), tag);
		}
		p = e + 1;
	}
	if (!nonZero) return new SymbolTable([]);
	const m = b.merge(false);
	for (let i = 0; i < m.length; i++) {
		const cap = m.starts[i]! + LAST_SYMBOL_EXTENT;
		const next = i + 1 < m.length ? m.starts[i + 1]! : undefined;
		m.ends[i] = next === undefined || (b.tag(m.pick[i + 1]!) !== b.tag(m.pick[i]!) && next > cap) ? cap : next;
	}
	return b.build(m);
}

function hexDigit(c: number): number {
	if (c >= 48 && c <= 57) return c - 48;
	if (c >= 97 && c <= 102) return c - 87;
	if (c >= 65 && c <= 70) return c - 55;
	return -1;
}

function underscores(buf: Buffer, from: number, to: number): number {
	let n = 0;
	while (from + n < to && buf[from + n] === 95) n++;
	return n;
}

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { cleanJitName } from './jit-name.ts';
import { SymbolTable, type SymbolEntry } from './symbol-table.ts';

/**
 * Parses perf map lines (`START SIZE name`, START and SIZE in hex, with or without 0x) into
 * entries in file order. Lines that do not parse are skipped.
 */
export function parsePerfMapLines(text: string): SymbolEntry[] {
	const out: SymbolEntry[] = [];
	for (const line of text.split('\n')) {
		const a = line.indexOf(' ');
		const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
		if (b < 0) continue;
		const start = hex(line.slice(0, a));
		const size = hex(line.slice(a + 1, b));
		const name = line.slice(b + 1).trim();
		if (start === undefined || size === undefined || name === '') continue;
		out.push({ start, end: start + size, name: cleanJitName(name) });
	}
	return out;
}

/**
 * Estimated bytes of one parsed entry besides its name's characters: the object with its three
 * fields, its two bigints, the name's string header and its slot in the array (64-bit V8), about
 * 130, and the text its name was sliced from. A heap measure of a map of 50,000 V8 entries found
 * 12.6 MB against an estimate of 12.6 MB at 160 (11.0 MB at 128).
 */
const ENTRY_BYTES = 160;

function hex(s: string): bigint | undefined {
	const t = s.startsWith('0x') || s.startsWith('0X') ? s.slice(2) : s;
	if (t === '' || !/^[0-9a-fA-F]+$/.test(t)) return undefined;
	return BigInt(`0x${t}`);
}

/**
 * A perf map file that JIT runtimes append to while they run. `refresh()` reads only what was
 * appended since the last read (complete lines), so re-reading a growing file stays cheap. When
 * code is moved or collected, the runtime appends a new line for the same range: later lines win.
 */
export class PerfMap {
	private entries: SymbolEntry[] = [];
	/** Characters of the entries' names, for `bytes`. */
	private nameChars = 0;
	private table: SymbolTable | undefined;
	/** Bytes consumed so far (up to the last complete line). */
	private consumed = 0;
	private ino = -1;

	constructor(readonly path: string) {}

	/** Reads appended lines if the file grew (or was replaced). Returns false if it cannot be read. */
	refresh(): boolean {
		let fd: number;
		try {
			fd = openSync(this.path, 'r');
		} catch {
			return false;
		}
		try {
			const st = fstatSync(fd);
			if (st.ino !== this.ino || st.size < this.consumed) {
				this.ino = st.ino;
				this.consumed = 0;
				this.entries = [];
				this.nameChars = 0;
				this.table = undefined;
			}
			if (st.size <= this.consumed) return true;
			const buf = Buffer.allocUnsafe(st.size - this.consumed);
			let n = 0;
			while (n < buf.length) {
				const r = readSync(fd, buf, n, buf.length - n, this.consumed + n);
				if (r === 0) break;
				n += r;
			}
			const lastNl = buf.lastIndexOf(10, n - 1);
			if (lastNl < 0) return true;
			const added = parsePerfMapLines(buf.toString('utf8', 0, lastNl));
			for (const e of added) this.nameChars += e.name.length;
			this.entries.push(...added);
			this.consumed += lastNl + 1;
			this.table = undefined;
			return true;
		} finally {
			closeSync(fd);
		}
	}

	/** Name for `addr`, or undefined. */
	lookup(addr: bigint): string | undefined {
		const t = (this.table ??= buildTable(this.entries));
		const i = t.find(addr);
		return i < 0 ? undefined : t.name(i);
	}

	get size(): number {
		return this.entries.length;
	}

	/**
	 * Estimated bytes held: the entries as parsed (kept to build the table again as the file grows)
	 * and the table's columns. A JIT runtime's map can run to hundreds of thousands of entries.
	 */
	get bytes(): number {
		return this.entries.length * ENTRY_BYTES + this.nameChars + (this.table?.bytes ?? 0);
	}
}

function buildTable(entries: readonly SymbolEntry[]): SymbolTable {
	// Stable sort keeps file order among equal starts; keep the last of each start.
	const order = entries.map((e, i) => ({ e, i }));
	order.sort((a, b) => (a.e.start < b.e.start ? -1 : a.e.start > b.e.start ? 1 : a.i - b.i));
	const out: SymbolEntry[] = [];
	for (const { e } of order) {
		const last = out[out.length - 1];
		if (last !== undefined && last.start === e.start) out[out.length - 1] = e;
		else out.push(e);
	}
	return new SymbolTable(out);
}

import type { ByteSource } from './byte-source.ts';
import { GoPclntab, GoPclntabError } from './go-pclntab.ts';
import { SymbolTableBuilder, type SymbolTable } from './symbol-table.ts';

/** ELF constants we use (see the System V ABI and the gABI). */
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const SHT_NOBITS = 8;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;
const NT_GNU_BUILD_ID = 3;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
/** Sanity bounds against corrupt headers. */
const MAX_HEADERS = 65536 * 4;
const MAX_NOTE_BYTES = 64 * 1024;

export class ElfError extends Error {}

export interface ElfSegment {
	readonly type: number;
	readonly flags: number;
	readonly offset: bigint;
	readonly vaddr: bigint;
	readonly filesz: bigint;
	readonly memsz: bigint;
}

export interface ElfSection {
	readonly name: string;
	readonly type: number;
	readonly addr: bigint;
	readonly offset: bigint;
	readonly size: bigint;
	readonly link: number;
	readonly entsize: bigint;
}

/**
 * A little-endian ELF64 file, read on demand: the constructor reads only the ELF header, program
 * headers, section headers with their names, and notes; `functions()` then reads the symbol
 * tables and their string tables. Nothing else (debug info, code) is ever read.
 */
export class ElfFile {
	readonly type: number;
	readonly segments: readonly ElfSegment[];
	readonly sections: readonly ElfSection[];
	readonly buildId: string | undefined;

	constructor(private readonly src: ByteSource) {
		const eh = src.read(0, EHDR_SIZE);
		if (eh.length < EHDR_SIZE || eh.readUInt32BE(0) !== 0x7f454c46) throw new ElfError('not an ELF file');
		if (eh[4] !== 2) throw new ElfError('not ELF64');
		if (eh[5] !== 1) throw new ElfError('not little-endian');
		this.type = eh.readUInt16LE(16);
		const phoff = eh.readBigUInt64LE(0x20);
		const shoff = eh.readBigUInt64LE(0x28);
		const phentsize = eh.readUInt16LE(0x36);
		let phnum = eh.readUInt16LE(0x38);
		const shentsize = eh.readUInt16LE(0x3a);
		let shnum = eh.readUInt16LE(0x3c);
		let shstrndx = eh.readUInt16LE(0x3e);

		// Extended numbering: the real counts live in section header 0.
		if (shoff !== 0n && (shnum === 0 || shstrndx === SHN_XINDEX || phnum === 0xffff)) {
			const s0 = src.read(Number(shoff), SHDR_SIZE);
			if (s0.length === SHDR_SIZE) {
				if (shnum === 0) shnum = Number(s0.readBigUInt64LE(32));
				if (shstrndx === SHN_XINDEX) shstrndx = s0.readUInt32LE(40);
				if (phnum === 0xffff) phnum = s0.readUInt32LE(44);
			}
		}
		this.segments = phoff === 0n || phentsize < PHDR_SIZE ? [] : this.readSegments(Number(phoff), phentsize, phnum);
		this.sections = shoff === 0n || shentsize < SHDR_SIZE ? [] : this.readSections(Number(shoff), shentsize, shnum, shstrndx);
		this.buildId = this.readBuildId();
	}

	/** See `textSegmentFor`. */
	textSegmentFor(off: bigint): ElfSegment | undefined {
		return textSegmentFor(this.segments, off);
	}

	/**
	 * Function symbols (STT_FUNC, STT_GNU_IFUNC) from .symtab, else .dynsym, keyed by virtual
	 * address. Where several names share an address the most readable wins: a sized symbol, then
	 * fewer leading underscores (`getpid` over `__getpid`), then global over weak over local, then
	 * the shorter name. Zero-size symbols extend to the next symbol or their section's end.
	 */
	functions(): SymbolTable {
		// A linker's .symtab holds every defined symbol .dynsym has, so with a .symtab the .dynsym
		// (and its string table: megabytes for a binary like node) is not read at all.
		const hasSymtab = this.sections.some((sec) => sec.type === SHT_SYMTAB && sec.size > 0n && sec.entsize >= BigInt(SYM_SIZE));
		const wanted = (sec: ElfSection) => sec.type === SHT_SYMTAB || (sec.type === SHT_DYNSYM && !hasSymtab);
		let count = 0;
		for (const sec of this.sections) {
			if (wanted(sec) && sec.entsize >= BigInt(SYM_SIZE)) count += Number(sec.size / sec.entsize);
		}
		// Function symbols are commonly about half of all symbols.
		const b = new SymbolTableBuilder(Math.min(count, 1 << 22) * 0.6);
		for (const sec of this.sections) {
			if (!wanted(sec)) continue;
			const strtab = this.sections[sec.link];
			if (strtab === undefined || strtab.type === SHT_NOBITS || sec.size === 0n) continue;
			const entsize = sec.entsize === 0n ? BigInt(SYM_SIZE) : sec.entsize;
			if (entsize < BigInt(SYM_SIZE)) continue;
			const syms = this.src.read(Number(sec.offset), Number(sec.size));
			const strs = this.src.read(Number(strtab.offset), Number(strtab.size));
			const step = Number(entsize);
			for (let p = step; p + SYM_SIZE <= syms.length; p += step) {
				const info = syms[p + 4]!;
				const stype = info & 0xf;
				if (stype !== STT_FUNC && stype !== STT_GNU_IFUNC) continue;
				const shndx = syms.readUInt16LE(p + 6);
				if (shndx === SHN_UNDEF || (shndx >= SHN_LORESERVE && shndx !== SHN_XINDEX)) continue;
				const lo = syms.readUInt32LE(p + 8);
				const hi = syms.readUInt32LE(p + 12);
				if (lo === 0 && hi === 0) continue;
				const nameOff = syms.readUInt32LE(p);
				if (nameOff >= strs.length) continue;
				let nameEnd = nameOff;
				while (nameEnd < strs.length && strs[nameEnd] !== 0) nameEnd++;
				if (nameEnd === nameOff) continue;
				// Sizes beyond 2^53 are corrupt; treat them as unknown.
				const size = syms.readUInt32LE(p + 20) < 0x20_0000 ? syms.readUInt32LE(p + 16) + syms.readUInt32LE(p + 20) * 0x1_0000_0000 : 0;
				const home = shndx === SHN_XINDEX ? undefined : this.sections[shndx];
				let extra = 0;
				if (home !== undefined) {
					const value = (BigInt(hi) << 32n) | BigInt(lo);
					const secEnd = home.addr + home.size;
					if (secEnd > value) extra = Number(secEnd - value);
				}
				b.addParts(lo, hi, size, strs, nameOff, nameEnd, rankSymbol(size > 0, strs, nameOff, nameEnd, info >> 4), 0, extra);
			}
		}
		// A stripped Go binary names its functions only in Go's own table.
		if (!hasSymtab) this.addGoFunctions(b);
		const m = b.merge(true);
		for (let i = 0; i < m.length; i++) {
			const start = m.starts[i]!;
			if (m.ends[i] !== start) continue;
			// Zero-size: up to the next symbol or the end of its section.
			let end = start + b.extra(m.pick[i]!);
			if (i + 1 < m.length && m.starts[i + 1]! < end) end = m.starts[i + 1]!;
			if (end > start) m.ends[i] = end;
		}
		return b.build(m);
	}

	close(): void {
		this.src.close();
	}

	private addGoFunctions(b: SymbolTableBuilder): void {
		let go: GoPclntab | undefined;
		try {
			go = GoPclntab.fromSections(this.src, this.sections);
		} catch (err) {
			// A malformed table names nothing; the symbols of .dynsym still do.
			if (err instanceof GoPclntabError) return;
			throw err;
		}
		if (go === undefined) return;
		const names = Buffer.from(go.funcs.map((f) => f.name).join('\0'));
		let at = 0;
		for (const f of go.funcs) {
			const end = at + Buffer.byteLength(f.name);
			b.addParts(f.entry % 2 ** 32, Math.floor(f.entry / 2 ** 32), f.end - f.entry, names, at, end, 0);
			at = end + 1;
		}
	}

	private readSegments(off: number, entsize: number, n: number): ElfSegment[] {
		if (n > MAX_HEADERS) throw new ElfError('too many program headers');
		const buf = this.src.read(off, entsize * n);
		const out: ElfSegment[] = [];
		for (let p = 0; p + PHDR_SIZE <= buf.length; p += entsize) {
			out.push({
				type: buf.readUInt32LE(p),
				flags: buf.readUInt32LE(p + 4),
				offset: buf.readBigUInt64LE(p + 8),
				vaddr: buf.readBigUInt64LE(p + 16),
				filesz: buf.readBigUInt64LE(p + 32),
				memsz: buf.readBigUInt64LE(p + 40),
			});
		}
		return out;
	}

	private readSections(off: number, entsize: number, n: number, shstrndx: number): ElfSection[] {
		if (n > MAX_HEADERS) throw new ElfError('too many section headers');
		const buf = this.src.read(off, entsize * n);
		const raw: Omit<ElfSection, 'name'>[] = [];
		const nameOffs: number[] = [];
		for (let p = 0; p + SHDR_SIZE <= buf.length; p += entsize) {
			nameOffs.push(buf.readUInt32LE(p));
			raw.push({
				type: buf.readUInt32LE(p + 4),
				addr: buf.readBigUInt64LE(p + 16),
				offset: buf.readBigUInt64LE(p + 24),
				size: buf.readBigUInt64LE(p + 32),
				link: buf.readUInt32LE(p + 40),
				entsize: buf.readBigUInt64LE(p + 56),
			});
		}
		const strSec = raw[shstrndx];
		const names =
			strSec !== undefined && strSec.type !== SHT_NOBITS && strSec.size < 1n << 24n
				? this.src.read(Number(strSec.offset), Number(strSec.size))
				: Buffer.alloc(0);
		return raw.map((s, i) => {
			const o = nameOffs[i]!;
			let e = o < names.length ? names.indexOf(0, o) : -1;
			if (e < 0) e = names.length;
			return { ...s, name: o < names.length ? names.toString('latin1', o, e) : '' };
		});
	}

	/** The GNU build-id from PT_NOTE segments, else from SHT_NOTE sections; lowercase hex. */
	private readBuildId(): string | undefined {
		const ranges: [bigint, bigint][] = [];
		for (const s of this.segments) if (s.type === PT_NOTE) ranges.push([s.offset, s.filesz]);
		if (ranges.length === 0) {
			for (const s of this.sections) if (s.type === SHT_NOTE) ranges.push([s.offset, s.size]);
		}
		for (const [off, size] of ranges) {
			if (size > BigInt(MAX_NOTE_BYTES)) continue;
			const id = findBuildIdNote(this.src.read(Number(off), Number(size)));
			if (id !== undefined) return id;
		}
		return undefined;
	}
}

/**
 * The executable PT_LOAD segment holding file offset `off`, else the first executable one. With it,
 * an address maps to an ELF virtual address whatever the load bias (PIE, shared library, or not):
 * vaddr = addr - map.start + map.offset - seg.offset + seg.vaddr.
 */
export function textSegmentFor(segments: readonly ElfSegment[], off: bigint): ElfSegment | undefined {
	let first: ElfSegment | undefined;
	for (const s of segments) {
		if (s.type !== PT_LOAD || (s.flags & PF_X) === 0) continue;
		first ??= s;
		if (off >= s.offset && off < s.offset + s.filesz) return s;
	}
	return first;
}

/** Parses a run of ELF notes (4-byte aligned) and returns the NT_GNU_BUILD_ID descriptor in hex. */
export function findBuildIdNote(buf: Buffer): string | undefined {
	let p = 0;
	while (p + 12 <= buf.length) {
		const namesz = buf.readUInt32LE(p);
		const descsz = buf.readUInt32LE(p + 4);
		const type = buf.readUInt32LE(p + 8);
		const nameAt = p + 12;
		const descAt = nameAt + align4(namesz);
		const next = descAt + align4(descsz);
		if (next > buf.length || next <= p) return undefined;
		if (type === NT_GNU_BUILD_ID && namesz === 4 && buf.toString('latin1', nameAt, nameAt + 3) === 'GNU') {
			return buf.toString('hex', descAt, descAt + descsz);
		}
		p = next;
	}
	return undefined;
}

function align4(n: number): number {
	return (n + 3) & ~3;
}

const BINDING_RANK: Record<number, number> = { [STB_GLOBAL]: 0, [STB_WEAK]: 1, [STB_LOCAL]: 2 };

/**
 * Where several names share an address the most readable wins (lower rank): a sized symbol, then
 * fewer leading underscores (`getpid` over `__getpid`), then global over weak over local; the
 * builder then prefers the shorter name, then the smaller one.
 */
function rankSymbol(sized: boolean, strs: Buffer, from: number, to: number, binding: number): number {
	let u = 0;
	while (from + u < to && strs[from + u] === 95) u++;
	return (sized ? 0 : 1 << 24) + Math.min(u, 0xffff) * 4 + (BINDING_RANK[binding] ?? 3);
}

import { inflateSync } from 'node:zlib';
import { ElfFile, FileSource, GoPclntab, type ByteSource, type ElfSection } from '@firesight/symbolize';
import { buildTable, type RowSource, type TableStats } from './build-table.ts';
import { readCfiEntries, type CfiSectionKind } from './cfi-entries.ts';
import { CRT_SECTIONS, crtSectionEntries } from './crt-init-cfi.ts';
import { goFunctionRows, readGo } from './go-rows.ts';
import type { PointerBases } from './pointer-encoding.ts';
import { UnwindError } from './unwind-error.ts';
import type { UnwindTable } from './unwind-table.ts';

const EM_X86_64 = 62;
const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800;
const ELFCOMPRESS_ZLIB = 1;
const PT_LOAD = 1;
const PF_X = 1;
/** The largest unwind section we read: node's .eh_frame is under 3 MiB. */
const MAX_SECTION_BYTES = 256 * 1024 * 1024;

export interface ElfUnwindTable {
	readonly table: UnwindTable;
	readonly stats: TableStats;
	/** GNU build-id in lowercase hex, when the file has one. */
	readonly buildId: string | undefined;
	/** Which sections went into the table, in priority order. */
	readonly sections: readonly (CfiSectionKind | 'gopclntab')[];
}

/**
 * The unwind table of an x86-64 ELF file from Go's function table (go-rows.ts), its .eh_frame
 * and, for ranges those do not cover, its .debug_frame, and the rules of crti's `.init` and
 * `.fini` (crt-init-cfi.ts). Reads only headers and those sections. Throws `UnwindError` alone.
 */
export function buildElfUnwindTable(pathOrSource: string | ByteSource): ElfUnwindTable {
	let src: ByteSource;
	try {
		src = typeof pathOrSource === 'string' ? new FileSource(pathOrSource) : pathOrSource;
	} catch (err) {
		throw new UnwindError('not-elf', `${String(pathOrSource)}: ${(err as Error).message}`);
	}
	try {
		let elf: ElfFile;
		try {
			elf = new ElfFile(src);
		} catch (err) {
			// Any failure to read the headers means the same to us: no table from this file.
			throw new UnwindError('not-elf', err instanceof Error ? err.message : String(err));
		}
		const machine = src.read(18, 2);
		if (machine.length < 2 || machine.readUInt16LE(0) !== EM_X86_64) throw new UnwindError('unsupported', 'not an x86-64 ELF file');
		const find = (name: string) => elf.sections.find((s) => s.name === name && s.type !== SHT_NOBITS && s.size > 0n);
		const text = find('.text');
		const got = find('.got');
		const base: Omit<PointerBases, 'section'> = {
			text: text === undefined ? 0 : Number(text.addr),
			data: got === undefined ? 0 : Number(got.addr),
			load: (vaddr) => loadPointer(src, elf, vaddr),
		};
		const sources: RowSource[] = [];
		const kinds: (CfiSectionKind | 'gopclntab')[] = [];
		const go = readGo(() => GoPclntab.fromSections(src, elf.sections));
		if (go !== undefined) {
			sources.push({ functions: goFunctionRows(go) });
			kinds.push('gopclntab');
		}
		for (const [name, kind] of [
			['.eh_frame', 'eh_frame'],
			['.debug_frame', 'debug_frame'],
		] as const) {
			const sec = find(name);
			if (sec === undefined) continue;
			const bytes = readSection(src, elf, sec);
			const bases: PointerBases = { ...base, section: Number(sec.addr) };
			sources.push({ entries: readCfiEntries(bytes, kind, bases), bases });
			kinds.push(kind);
		}
		// Last, so that a real FDE wins: crti's and crtn's .init and .fini, which have none.
		const crt = CRT_SECTIONS.map(find).filter((sec) => sec !== undefined && sec.size <= 0x10000n);
		if (crt.length > 0) {
			const sections = crt.map((sec) => ({ code: readSection(src, elf, sec!), addr: Number(sec!.addr) }));
			sources.push({ entries: crtSectionEntries(sections), bases: { ...base, section: 0 } });
		}
		const codeRanges: [number, number][] = [];
		for (const seg of elf.segments) {
			if (seg.type !== PT_LOAD || (seg.flags & PF_X) === 0) continue;
			const end = seg.vaddr + seg.memsz;
			if (end <= BigInt(Number.MAX_SAFE_INTEGER)) codeRanges.push([Number(seg.vaddr), Number(end)]);
		}
		// No executable segment (a relocatable object): nothing to check the FDEs against.
		const { table, stats } = buildTable(sources, codeRanges.length > 0 ? { codeRanges } : {});
		return { table, stats, buildId: elf.buildId, sections: kinds };
	} finally {
		src.close();
	}
}

function readSection(src: ByteSource, elf: ElfFile, sec: ElfSection): Uint8Array {
	if (sec.size > BigInt(MAX_SECTION_BYTES)) throw new UnwindError('too-large', `${sec.name} of ${sec.size} bytes`);
	const bytes = src.read(Number(sec.offset), Number(sec.size));
	if (bytes.length !== Number(sec.size)) throw new UnwindError('truncated', `${sec.name} runs past the end of the file`);
	if ((sectionFlags(src, elf, sec) & SHF_COMPRESSED) === 0) return bytes;
	// Elf64_Chdr: ch_type u32, reserved u32, ch_size u64, ch_addralign u64, then the stream.
	if (bytes.length < 24 || bytes.readUInt32LE(0) !== ELFCOMPRESS_ZLIB)
		throw new UnwindError('unsupported', `${sec.name}: compression other than zlib`);
	const size = bytes.readBigUInt64LE(8);
	if (size > BigInt(MAX_SECTION_BYTES)) throw new UnwindError('too-large', `${sec.name} of ${size} bytes uncompressed`);
	try {
		return inflateSync(bytes.subarray(24), { maxOutputLength: Number(size) });
	} catch (err) {
		throw new UnwindError('malformed', `${sec.name}: ${(err as Error).message}`);
	}
}

/** sh_flags, which `ElfSection` leaves out: read from the section header table directly. */
function sectionFlags(src: ByteSource, elf: ElfFile, sec: ElfSection): number {
	const eh = src.read(0, 64);
	const shoff = Number(eh.readBigUInt64LE(0x28));
	const shentsize = eh.readUInt16LE(0x3a);
	const index = elf.sections.indexOf(sec);
	const hdr = src.read(shoff + index * shentsize + 8, 8);
	return hdr.length === 8 ? hdr.readUInt32LE(0) : 0;
}

/** The 8 bytes stored at a virtual address, through the PT_LOAD segment holding it. */
function loadPointer(src: ByteSource, elf: ElfFile, vaddr: number): number | undefined {
	const v = BigInt(vaddr);
	for (const seg of elf.segments) {
		if (seg.type !== PT_LOAD || v < seg.vaddr || v + 8n > seg.vaddr + seg.filesz) continue;
		const b = src.read(Number(v - seg.vaddr + seg.offset), 8);
		if (b.length !== 8) return undefined;
		const value = b.readBigUInt64LE(0);
		return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
	}
	return undefined;
}

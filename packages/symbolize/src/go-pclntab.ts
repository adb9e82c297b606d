import type { ByteSource } from './byte-source.ts';
import type { ElfSection } from './elf-file.ts';

/*
 * Go's function table (.gopclntab), which every Go binary keeps, stripped or not: the runtime's
 * own tracebacks read it. It names each function and says, per pc, how far the stack pointer is
 * below the function's entry (pcsp), which is what a stripped Go binary has in place of unwind
 * info. The layout is the runtime's pcHeader and _func (runtime/runtime2.go, runtime/symtab.go)
 * of Go 1.18 and later; older tables are not read.
 *
 *   pcHeader: magic u32, pad u16, minLC u8, ptrSize u8, nfunc, nfiles, textStart,
 *             funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset (ptrSize each)
 *   functab at pclnOffset: nfunc + 1 pairs (entryoff u32, funcoff u32); the last entry's
 *             entryoff is the end of the last function
 *   _func at pclnOffset + funcoff: entryoff u32, nameoff i32, args i32, deferreturn u32,
 *             pcsp u32, pcfile u32, pcln u32, npcdata u32, cuOffset u32, [startLine i32 from
 *             Go 1.20,] funcID u8, flag u8
 */

/** Go 1.18 and 1.19. */
const MAGIC_GO118 = 0xfffffff0;
/** Go 1.20 and later: _func gained startLine before funcID. */
const MAGIC_GO120 = 0xfffffff1;
/** A table larger than any real program's (Kubernetes' biggest binaries hold about 100,000). */
const MAX_FUNCS = 4_000_000;
const MAX_NAME = 4096;

/** runtime.funcFlag bits. */
export const GoFuncFlag = {
	/** The outermost frame of a stack: goexit, mstart, rt0_go. Nothing calls it. */
	topFrame: 1,
	/** Writes the stack pointer other than by a fixed adjustment: systemstack, mcall, morestack. */
	spWrite: 2,
} as const;

export interface GoFunc {
	/** Virtual address of the entry. */
	readonly entry: number;
	/** Virtual address past the end (the next function's entry). */
	readonly end: number;
	readonly name: string;
	/** GoFuncFlag bits. */
	readonly flag: number;
	/** Offset of its pcsp table in `pctab`, 0 for none. */
	readonly pcsp: number;
}

export class GoPclntab {
	readonly funcs: readonly GoFunc[];
	private readonly pctab: Buffer;

	private constructor(funcs: GoFunc[], pctab: Buffer) {
		this.funcs = funcs;
		this.pctab = pctab;
	}

	/**
	 * The table of an ELF file's `.gopclntab` section, undefined where it has none or one of an
	 * older Go; a malformed table throws. `text` is the .text section, whose address stands for
	 * a textStart the header leaves for a relocation to fill (position-independent builds).
	 */
	static fromSections(src: ByteSource, sections: readonly ElfSection[]): GoPclntab | undefined {
		const sec = sections.find((s) => s.name === '.gopclntab' && s.size > 0n && s.type !== SHT_NOBITS);
		if (sec === undefined || sec.size > 1n << 31n) return undefined;
		const text = sections.find((s) => s.name === '.text');
		return GoPclntab.parse(src.read(Number(sec.offset), Number(sec.size)), text === undefined ? 0 : Number(text.addr));
	}

	static parse(buf: Buffer, textAddr: number): GoPclntab | undefined {
		if (buf.length < 8) return undefined;
		const magic = buf.readUInt32LE(0);
		if (magic !== MAGIC_GO118 && magic !== MAGIC_GO120) return undefined;
		const minLC = buf[6]!;
		const ptrSize = buf[7]!;
		if (ptrSize !== 8 || minLC !== 1) throw new GoPclntabError(`pointer size ${ptrSize}, instruction size ${minLC}`);
		const word = (i: number) => {
			const at = 8 + 8 * i;
			if (at + 8 > buf.length) throw new GoPclntabError('header runs past the section');
			const v = buf.readBigUInt64LE(at);
			if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GoPclntabError(`header field ${i} is 0x${v.toString(16)}`);
			return Number(v);
		};
		const nfunc = word(0);
		const textStart = word(2) || textAddr;
		const funcnames = word(3);
		const pctab = word(6);
		const functab = word(7);
		if (nfunc > MAX_FUNCS) throw new GoPclntabError(`${nfunc} functions`);
		if (functab + (nfunc + 1) * 8 > buf.length) throw new GoPclntabError('function table runs past the section');
		const idAt = magic === MAGIC_GO120 ? 40 : 36;
		const funcs: GoFunc[] = [];
		for (let i = 0; i < nfunc; i++) {
			const entryoff = buf.readUInt32LE(functab + 8 * i);
			const endoff = buf.readUInt32LE(functab + 8 * i + 8);
			const at = functab + buf.readUInt32LE(functab + 8 * i + 4);
			if (at + idAt + 2 > buf.length || endoff < entryoff) throw new GoPclntabError(`function ${i} lies outside the section`);
			const nameAt = funcnames + buf.readInt32LE(at + 4);
			let nameEnd = nameAt;
			while (nameEnd < buf.length && buf[nameEnd] !== 0 && nameEnd - nameAt < MAX_NAME) nameEnd++;
			funcs.push({
				entry: textStart + entryoff,
				end: textStart + endoff,
				name: buf.toString('utf8', nameAt, nameEnd),
				flag: buf[at + idAt + 1]!,
				pcsp: buf.readUInt32LE(at + 16),
			});
		}
		return new GoPclntab(funcs, buf.subarray(pctab));
	}

	/**
	 * How far the stack pointer is below its value at the function's entry, as runs: `pcs[i]`
	 * starts a run of `values[i]` that lasts to `pcs[i + 1]` (the last to the function's end).
	 * The runtime's pcvalue encoding: from value -1 at the entry, pairs of a zigzag value delta
	 * and a pc delta, both varints, until a zero value delta.
	 */
	spDeltas(fn: GoFunc): { pcs: number[]; values: number[] } {
		const pcs: number[] = [];
		const values: number[] = [];
		if (fn.pcsp === 0) return { pcs, values };
		const p = this.pctab;
		let at = fn.pcsp;
		let pc = fn.entry;
		let value = -1;
		const varint = () => {
			let v = 0;
			for (let shift = 0; shift < 35; shift += 7) {
				if (at >= p.length) throw new GoPclntabError(`${fn.name}: pcsp runs past the section`);
				const b = p[at++]!;
				v += (b & 0x7f) * 2 ** shift;
				if ((b & 0x80) === 0) return v;
			}
			throw new GoPclntabError(`${fn.name}: pcsp varint too long`);
		};
		while (pc < fn.end) {
			const uvdelta = varint();
			if (uvdelta === 0 && pcs.length > 0) break;
			value += uvdelta % 2 === 1 ? -((uvdelta - 1) / 2) - 1 : uvdelta / 2;
			const next = pc + varint();
			if (next <= pc) throw new GoPclntabError(`${fn.name}: pcsp does not advance`);
			pcs.push(pc);
			values.push(value);
			pc = next;
		}
		return { pcs, values };
	}
}

export class GoPclntabError extends Error {}

const SHT_NOBITS = 8;

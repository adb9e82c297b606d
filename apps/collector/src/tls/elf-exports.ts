import { ElfFile, FileSource } from '@firesight/symbolize';

const SHT_DYNSYM = 11;
const SYM_SIZE = 24;
const SHN_UNDEF = 0;

/**
 * Whether the ELF file defines `name` in its dynamic symbol table: the test for an executable
 * that carries its own OpenSSL (node does) rather than importing it from libssl. Only .dynsym is
 * read: uprobes by name resolve through it, and stripped binaries keep it.
 */
export function exportsSymbol(path: string, name: string): boolean {
	let src: FileSource | undefined;
	try {
		src = new FileSource(path);
		const elf = new ElfFile(src);
		const want = Buffer.from(name + '\0', 'latin1');
		for (const sec of elf.sections) {
			if (sec.type !== SHT_DYNSYM) continue;
			const strtab = elf.sections[sec.link];
			if (!strtab) continue;
			const strs = src.read(Number(strtab.offset), Number(strtab.size));
			// Cheap rejection before walking the symbols: the name must be in the string table.
			if (strs.indexOf(want) < 0) return false;
			const syms = src.read(Number(sec.offset), Number(sec.size));
			const step = Number(sec.entsize) || SYM_SIZE;
			for (let p = step; p + SYM_SIZE <= syms.length; p += step) {
				if (syms.readUInt16LE(p + 6) === SHN_UNDEF) continue;
				const off = syms.readUInt32LE(p);
				if (off + want.length <= strs.length && strs.compare(want, 0, want.length, off, off + want.length) === 0) return true;
			}
		}
		return false;
	} catch {
		return false; // not ELF, unreadable, gone: not a target
	} finally {
		src?.close();
	}
}

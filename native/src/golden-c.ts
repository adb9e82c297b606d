import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bpfDir = fileURLToPath(new URL('../../bpf/', import.meta.url));

/**
 * Compiles a C program (with bpf/ on the include path) and returns what it writes: decoder tests
 * take their golden bytes from the C compiler, so a field that moves in a bpf/<tool>.h header
 * breaks them.
 */
export function goldenBytes(program: string): Buffer {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-golden-'));
	try {
		const src = join(dir, 'golden.c');
		writeFileSync(src, program);
		execFileSync('cc', ['-Wall', '-Werror', '-I', bpfDir, '-o', join(dir, 'golden'), src]);
		return execFileSync(join(dir, 'golden'));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** The bytes of a Buffer as an ArrayBuffer of their own, as the addon hands them over. */
export function toArrayBuffer(b: Buffer): ArrayBuffer {
	return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

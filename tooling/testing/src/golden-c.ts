import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bpfDir = fileURLToPath(new URL('../../../bpf/', import.meta.url));
const nativeDir = fileURLToPath(new URL('../../../native/src/', import.meta.url));

/*
 * What every golden program starts with: dump() writes bytes as they are, dump_record() writes
 * them as one ring-buffer record, framed the way the addon frames them (ring-buffer-frame.h).
 */
const prelude = `#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "ring-buffer-frame.h"

static inline void dump(const void *p, size_t n)
{
	fwrite(p, 1, n, stdout);
}

static inline void dump_record(const void *p, size_t n)
{
	static const unsigned char zeros[RING_BUFFER_FRAME_ALIGN];
	struct ring_buffer_frame frame;

	memset(&frame, 0, sizeof(frame));
	frame.len = n;
	dump(&frame, sizeof(frame));
	dump(p, n);
	dump(zeros, (RING_BUFFER_FRAME_ALIGN - n % RING_BUFFER_FRAME_ALIGN) % RING_BUFFER_FRAME_ALIGN);
}
`;

/**
 * Compiles a C program (bpf/ and native/src/ on the include path, after a prelude with dump() and
 * dump_record()) and returns what it writes: decoder tests take their golden bytes from the C
 * compiler, so a field that moves in a bpf/<tool>.h header or in the addon's framing breaks them.
 */
export function goldenBytes(program: string): Buffer {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-golden-'));
	try {
		const src = join(dir, 'golden.c');
		writeFileSync(src, prelude + program);
		execFileSync('cc', ['-Wall', '-Werror', '-I', bpfDir, '-I', nativeDir, '-o', join(dir, 'golden'), src]);
		return execFileSync(join(dir, 'golden'));
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

/** goldenBytes of a main() with this body, after #include "<header>" (a bpf/<tool>.h). */
export function goldenMain(header: string, body: string): Buffer {
	return goldenBytes(`#include "${header}"\nint main(void)\n{\n${body}\nreturn 0;\n}\n`);
}

/** The bytes of a Buffer as an ArrayBuffer of their own, as the addon hands them over. */
export function toArrayBuffer(b: Buffer): ArrayBuffer {
	return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

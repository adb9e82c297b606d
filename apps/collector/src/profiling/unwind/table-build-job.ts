import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULT_UNWIND_ROWS } from '@firesight/native';
import { ElfFile, FileSource, type ElfSegment } from '@firesight/symbolize';
import { UnwindError, UnwindTableCache } from '@firesight/unwind';

/** What the main thread asks: the table of the file reached by the first readable path. */
export interface TableBuildRequest {
	readonly id: number;
	readonly paths: readonly string[];
}

export type TableBuildReply =
	| {
			readonly id: number;
			readonly ok: true;
			/** The disk cache's key: `b-<build-id>`, else the file's identity. */
			readonly key: string;
			readonly segments: readonly ElfSegment[];
			/** The serialized table; undefined when the file has no unwind info at all. */
			readonly bytes: Uint8Array | undefined;
			readonly rows: number;
			readonly from: 'disk' | 'built';
			readonly ms: number;
	  }
	| {
			readonly id: number;
			readonly ok: false;
			readonly error: string;
			/** The file's unwind info is beyond what the walker's maps could hold: not built at all. */
			readonly tooLarge?: boolean;
			/** No path reached the file: the process (or its mapping) went away first. Not the file's fault. */
			readonly gone?: boolean;
			/** The file has more unwind info than deferAbove: its table is built once a sample lands in it. */
			readonly deferred?: boolean;
	  };

/**
 * The most rows one file's table may take: half the walker's row budget (DEFAULT_UNWIND_ROWS,
 * 2^21), so that no one file leaves the rest of the host without tables. Node's table takes
 * 410,000 rows; Next.js's SWC addon, which the dashboard's server maps and hardly runs, would take
 * 1.6 million, and with it loaded a busy host had 149 other files refused for want of room
 * (their stacks then broke at the first frame without a frame pointer). Past it the file is
 * walked without a table and counted (unwindTablesFull), as a table that finds no room is.
 */
export const MAX_TABLE_ROWS = DEFAULT_UNWIND_ROWS / 2;

/**
 * The most .eh_frame plus .debug_frame bytes a file may have for its table to be built: 8 bytes
 * for each row of MAX_TABLE_ROWS. Tables run to a row per 5 to 7 bytes of unwind info (node:
 * 2.5 MiB; the SWC addon: 8 MiB), so a larger file's table would be over MAX_TABLE_ROWS too, and
 * its build is not worth its memory. A table built under it is held to MAX_TABLE_ROWS itself.
 */
export const MAX_UNWIND_SECTION_BYTES = MAX_TABLE_ROWS * 8;

/**
 * Files with more .eh_frame plus .debug_frame bytes than this have their table built and loaded
 * only once a sample lands in their code: a quarter of the row budget at 8 bytes a row (4 MiB).
 * Measured: node has 2.7 MiB (410,000 rows) and runs in every node process, so it loads as soon
 * as its process is read; the big ones over it are libraries a process maps and mostly does not
 * run: Next.js's SWC addon (8 MiB, 1.6 million rows) in the dashboard's server, LLVM's (5 MiB,
 * 950,000 rows) and clang's (5 MiB, a million rows). Two such tables would take the whole budget.
 */
export const DEFER_UNWIND_SECTION_BYTES = MAX_UNWIND_SECTION_BYTES / 2;

/** How many bytes of .gopclntab make as many rows as one of .eh_frame. */
const GOPCLNTAB_BYTES_PER_UNWIND_BYTE = 6n;

/**
 * The table of the file at the first readable path, from the disk cache, else built when the
 * file has at most `buildUpTo` bytes of unwind info; past that 'miss' says it must be built
 * elsewhere; past `deferAbove` bytes, 'deferred': neither built nor looked for on disk until
 * wanted. The worker thread builds anything (node's table takes a good part of a second of CPU
 * and a hundred MiB); the main thread only small files, a few milliseconds each.
 */
export function handleTableBuild(
	cache: UnwindTableCache,
	req: TableBuildRequest,
	maxSectionBytes: number,
	buildUpTo: number,
	deferAbove = Number.POSITIVE_INFINITY,
): TableBuildReply | 'miss' {
	let lastError = 'no path to the file';
	let gone = true;
	for (const path of req.paths) {
		const t0 = performance.now();
		let segments: readonly ElfSegment[];
		let unwindBytes = 0n;
		try {
			const src = new FileSource(path);
			try {
				const elf = new ElfFile(src);
				segments = elf.segments;
				for (const s of elf.sections) {
					if (s.name === '.eh_frame' || s.name === '.debug_frame') unwindBytes += s.size;
					// Go's function table is mostly line tables: esbuild's 3.6 MiB make 72,000 rows, as
					// 0.6 MiB of .eh_frame would.
					else if (s.name === '.gopclntab') unwindBytes += s.size / GOPCLNTAB_BYTES_PER_UNWIND_BYTE;
				}
			} finally {
				src.close();
			}
		} catch (err) {
			lastError = `${path}: ${(err as Error).message}`;
			const code = (err as NodeJS.ErrnoException).code;
			if (code !== 'ENOENT' && code !== 'ESRCH') gone = false;
			continue;
		}
		if (unwindBytes > deferAbove) {
			return { id: req.id, ok: false, error: `${path}: ${unwindBytes} bytes of unwind info, built once wanted`, deferred: true };
		}
		if (unwindBytes > BigInt(maxSectionBytes)) {
			return { id: req.id, ok: false, error: `${path}: ${unwindBytes} bytes of unwind info`, tooLarge: true };
		}
		try {
			const found = Number(unwindBytes) <= buildUpTo ? cache.tableFor(path) : cache.cachedTableFor(path);
			if (found === undefined) return 'miss';
			const { table, key, from } = found;
			if (table.rowCount > maxSectionBytes / 8) {
				return { id: req.id, ok: false, error: `${path}: ${table.rowCount} unwind rows`, tooLarge: true };
			}
			// A table of one gap row: the file has no .eh_frame or .debug_frame.
			const bytes = table.rowCount > 1 ? ownBuffer(table.bytes) : undefined;
			return { id: req.id, ok: true, key, segments, bytes, rows: table.rowCount, from, ms: performance.now() - t0 };
		} catch (err) {
			if (!(err instanceof UnwindError)) throw err;
			lastError = err.message;
			gone = false;
		}
	}
	return { id: req.id, ok: false, error: lastError, ...(gone ? { gone } : {}) };
}

/** The bytes in an ArrayBuffer of their own, so it can be transferred instead of copied. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
	return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

if (parentPort) {
	const port = parentPort;
	const data = workerData as { cacheDir: string; maxSectionBytes: number };
	const cache = new UnwindTableCache(data.cacheDir);
	port.on('message', (req: TableBuildRequest) => {
		let reply: TableBuildReply;
		try {
			const r = handleTableBuild(cache, req, data.maxSectionBytes, Number.POSITIVE_INFINITY);
			reply = r === 'miss' ? { id: req.id, ok: false, error: 'not built' } : r;
		} catch (err) {
			reply = { id: req.id, ok: false, error: (err as Error).message };
		}
		port.postMessage(reply, reply.ok && reply.bytes ? [reply.bytes.buffer as ArrayBuffer] : []);
	});
}

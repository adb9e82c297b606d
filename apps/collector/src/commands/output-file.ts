import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { quote, UsageError, UserError } from '../command.ts';

/** A file opened when a command starts and written when it ends. */
export interface OutputFile {
	readonly path: string;
	/** Replaces the file's content with `data` and closes it. */
	write(data: string | Uint8Array): void;
	/** Closes it; removes it when it was created for this run and never written. */
	discard(): void;
}

/**
 * Opens `--output` at the start, so a path that cannot be written is refused before minutes of
 * recording rather than after. Opened for appending, an existing file keeps its content until the
 * new one is written.
 */
export function openOutput(path: string): OutputFile {
	let created = true;
	let fd: number;
	try {
		try {
			fd = openSync(path, 'wx');
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
			created = false;
			fd = openSync(path, 'a');
		}
	} catch (err) {
		const e = err as NodeJS.ErrnoException;
		// A file system can refuse a new name with ENOENT in a directory that exists (`/proc/x`).
		const why =
			e.code === 'ENOENT' && !existsSync(dirname(path))
				? 'its directory does not exist'
				: e.code === 'EISDIR'
					? 'is a directory'
					: `cannot be written (${e.code ?? e.message})`;
		throw new UsageError(`--output ${quote(path)}: ${why}`);
	}
	let open = true;
	let written = false;
	const close = () => {
		if (open) closeSync(fd);
		open = false;
	};
	return {
		path,
		write(data) {
			try {
				// Only a regular file has old content to drop; /dev/null or a pipe cannot be truncated.
				if (fstatSync(fd).isFile()) ftruncateSync(fd);
				const bytes = typeof data === 'string' ? Buffer.from(data) : data;
				for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
				written = true;
				close();
			} catch (err) {
				close();
				throw new UserError(`cannot write ${quote(path)}: ${(err as Error).message}`);
			}
		},
		discard() {
			close();
			if (created && !written) {
				try {
					unlinkSync(path);
				} catch {
					// Already gone: nothing to clean up.
				}
			}
		},
	};
}

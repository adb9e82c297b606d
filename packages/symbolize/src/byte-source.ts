import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Positioned reads from a file or a memory image, so the ELF reader never loads whole files. */
export interface ByteSource {
	/** Up to `length` bytes at `position`; shorter only at the end of the source. */
	read(position: number, length: number): Buffer;
	/** Bytes readable from position 0. */
	readonly size: number;
	close(): void;
}

/** Refuse single reads above this: a corrupt header must not make us allocate gigabytes. */
export const MAX_READ = 256 * 1024 * 1024;

export class FileSource implements ByteSource {
	readonly size: number;
	readonly dev: number;
	readonly ino: number;
	private fd: number | undefined;

	constructor(path: string) {
		this.fd = openSync(path, 'r');
		try {
			const st = fstatSync(this.fd);
			if (!st.isFile()) throw new Error(`${path}: not a regular file`);
			this.size = st.size;
			this.dev = st.dev;
			this.ino = st.ino;
		} catch (err) {
			closeSync(this.fd);
			this.fd = undefined;
			throw err;
		}
	}

	read(position: number, length: number): Buffer {
		if (this.fd === undefined) throw new Error('source closed');
		if (length > MAX_READ || position < 0) throw new RangeError(`read of ${length} at ${position}`);
		const len = Math.max(0, Math.min(length, this.size - position));
		const buf = Buffer.allocUnsafe(len);
		let done = 0;
		while (done < len) {
			const n = readSync(this.fd, buf, done, len - done, position + done);
			if (n === 0) break;
			done += n;
		}
		return done === len ? buf : buf.subarray(0, done);
	}

	close(): void {
		if (this.fd !== undefined) closeSync(this.fd);
		this.fd = undefined;
	}
}

/**
 * A window of another process's (or our own) memory read through /proc/PID/mem: used for the vDSO,
 * which is an ELF image with no file behind it.
 */
export class MemorySource implements ByteSource {
	readonly size: number;
	private fd: number | undefined;

	constructor(
		memPath: string,
		private readonly base: number,
		length: number,
	) {
		this.fd = openSync(memPath, 'r');
		this.size = length;
	}

	read(position: number, length: number): Buffer {
		if (this.fd === undefined) throw new Error('source closed');
		const len = Math.max(0, Math.min(length, this.size - position));
		const buf = Buffer.alloc(len);
		let done = 0;
		while (done < len) {
			const n = readSync(this.fd, buf, done, len - done, this.base + position + done);
			if (n === 0) break;
			done += n;
		}
		return buf.subarray(0, done);
	}

	close(): void {
		if (this.fd !== undefined) closeSync(this.fd);
		this.fd = undefined;
	}
}

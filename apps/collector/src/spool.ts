import { randomBytes } from 'node:crypto';
import {
	closeSync,
	existsSync,
	mkdirSync,
	openSync,
	readdirSync,
	readFileSync,
	readSync,
	unlinkSync,
	writeFileSync,
	writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageIdSchema, type DataMessage, type MessageId } from '@firesight/protocol';

/** `--spool-max` by default. */
export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
/** Payloads kept in memory at most when a directory holds them too; older ones are read back. */
const DEFAULT_MEMORY_BYTES = 16 * 1024 * 1024;
const SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT_NAME = /^spool-(\d{1,15})\.jsonl$/;

/**
 * Where `firesight collector` keeps its spool without `--spool`: the collector's state directory,
 * /var/lib/firesight when it runs as root and may write there, else firesight under the OS temp
 * directory; one spool per host name, so collectors of different names never share one.
 */
export function defaultSpoolDir(host: string): string {
	const safe = host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || '_';
	let base = join(tmpdir(), 'firesight');
	if (process.getuid?.() === 0) {
		try {
			mkdirSync('/var/lib/firesight', { recursive: true });
			base = '/var/lib/firesight';
		} catch {
			// A read-only /var/lib: the temp directory still works.
		}
	}
	return join(base, 'spool', safe);
}

/** A random boot id: one per collector start. */
export function newBootId(): string {
	return randomBytes(8).toString('hex');
}

export interface SpoolOptions {
	/** Also keep every message on disk here, so a collector restart loses nothing. Memory only when absent. */
	dir?: string | undefined;
	/** Bytes of messages held at most; beyond it the oldest are dropped (counted). */
	maxBytes?: number;
	/** Bytes of payloads held in memory at most when `dir` is set. */
	memoryBytes?: number;
	/** Called once per message the cap drops. */
	onDrop?: (id: MessageId) => void;
	log?: (line: string) => void;
}

interface Segment {
	path: string;
	fd: number | undefined;
	bytes: number;
	/** Entries still held from this file. */
	live: number;
}

export interface SpoolEntry {
	readonly id: MessageId;
	readonly bytes: number;
	/** The message as sent, with its id; undefined while only on disk. */
	text: string | undefined;
	readonly segment: Segment | undefined;
	readonly offset: number;
}

/**
 * The collector's stored messages (queue class `window`) the hub has not acknowledged, oldest
 * first. Each is given the next id of this boot. With a directory, each is appended to a
 * segment file as it comes (a process crash loses nothing written; a power loss may lose what
 * the page cache held) and memory keeps only the newest payloads; a segment is deleted once all
 * its messages are acknowledged or dropped. A spool opened on a directory with segments replays
 * them first, under their old ids, which the hub recognizes if it has them.
 */
export class Spool {
	readonly boot: string;
	readonly dir: string | undefined;
	readonly #entries: SpoolEntry[] = [];
	readonly #max: number;
	readonly #memory: number;
	readonly #onDrop: (id: MessageId) => void;
	readonly #log: (line: string) => void;
	#seq = 0;
	#bytes = 0;
	#memoryHeld = 0;
	/** Index of the oldest entry whose payload is still in memory. */
	#firstInMemory = 0;
	#segment: Segment | undefined;
	#nextSegment = 0;
	#lock: string | undefined;
	#closed = false;

	constructor(options: SpoolOptions = {}, boot = newBootId()) {
		this.boot = boot;
		this.dir = options.dir;
		this.#max = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
		this.#memory = Math.min(this.#max, options.memoryBytes ?? DEFAULT_MEMORY_BYTES);
		this.#onDrop = options.onDrop ?? (() => {});
		this.#log = options.log ?? (() => {});
		if (!(this.#max >= 1)) throw new RangeError('the spool needs at least one byte');
		if (this.dir !== undefined) {
			try {
				this.#open(this.dir);
			} catch (err) {
				const e = err as NodeJS.ErrnoException;
				throw new Error(e.code ? `cannot use the spool ${this.dir}: ${e.code}` : e.message, { cause: err });
			}
		}
	}

	/** Messages held. */
	get length(): number {
		return this.#entries.length;
	}

	/** Bytes of messages held. */
	get bytes(): number {
		return this.#bytes;
	}

	/** The held entry at `index` (0 is the oldest). */
	at(index: number): SpoolEntry | undefined {
		return this.#entries[index];
	}

	/** The message's text as it goes on the wire, from memory or read back from disk. */
	text(entry: SpoolEntry): string {
		if (entry.text !== undefined) return entry.text;
		const seg = entry.segment!;
		const fd = openSync(seg.path, 'r');
		try {
			const buf = Buffer.alloc(entry.bytes);
			readSync(fd, buf, 0, entry.bytes, entry.offset);
			return buf.toString('utf8');
		} finally {
			closeSync(fd);
		}
	}

	/** Gives the message the next id of this boot and holds it; drops the oldest beyond the cap. */
	add(message: DataMessage): MessageId {
		if (this.#closed) throw new Error('the spool is closed');
		const id = { boot: this.boot, seq: this.#seq++ };
		const text = JSON.stringify({ ...message, id });
		this.#hold(id, text, true);
		return id;
	}

	/** Forgets the entry with this id (acknowledged, or refused for good); false when not held. */
	remove(id: MessageId): boolean {
		// Acks come in order: the oldest first is the common case.
		const i = this.#entries.findIndex((e) => e.id.seq === id.seq && e.id.boot === id.boot);
		if (i < 0) return false;
		this.#removeAt(i);
		return true;
	}

	/** Releases the directory; what is still held stays on disk for the next start. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#segment?.fd !== undefined) closeSync(this.#segment.fd);
		if (this.#lock) {
			try {
				unlinkSync(this.#lock);
			} catch {
				// Gone already.
			}
		}
	}

	#hold(id: MessageId, text: string, write: boolean, from?: { segment: Segment; offset: number }): void {
		const bytes = Buffer.byteLength(text);
		let segment = from?.segment;
		let offset = from?.offset ?? 0;
		if (write && this.dir !== undefined) {
			if (!this.#segment || this.#segment.bytes >= SEGMENT_BYTES) this.#roll();
			segment = this.#segment!;
			offset = segment.bytes;
			const line = Buffer.from(`${text}\n`);
			writeSync(segment.fd!, line);
			segment.bytes += line.length;
		}
		if (segment) segment.live++;
		this.#entries.push({ id, bytes, text, segment, offset });
		this.#bytes += bytes;
		this.#memoryHeld += bytes;
		while (this.#bytes > this.#max && this.#entries.length > 1) {
			const oldest = this.#entries[0]!;
			this.#removeAt(0);
			this.#onDrop(oldest.id);
		}
		// Only what is on disk may leave memory.
		while (this.#memoryHeld > this.#memory && this.#firstInMemory < this.#entries.length - 1) {
			const e = this.#entries[this.#firstInMemory]!;
			if (!e.segment) break;
			if (e.text !== undefined) {
				e.text = undefined;
				this.#memoryHeld -= e.bytes;
			}
			this.#firstInMemory++;
		}
	}

	#removeAt(i: number): void {
		const [e] = this.#entries.splice(i, 1);
		if (!e) return;
		this.#bytes -= e.bytes;
		if (e.text !== undefined) this.#memoryHeld -= e.bytes;
		if (i < this.#firstInMemory) this.#firstInMemory--;
		const seg = e.segment;
		if (seg && --seg.live === 0) {
			if (seg.fd !== undefined) closeSync(seg.fd);
			seg.fd = undefined;
			if (this.#segment === seg) this.#segment = undefined;
			try {
				unlinkSync(seg.path);
			} catch {
				// Removed by hand: nothing to keep.
			}
		}
	}

	#roll(): void {
		const dir = this.dir!;
		if (this.#segment?.fd !== undefined) {
			closeSync(this.#segment.fd);
			this.#segment.fd = undefined;
		}
		const path = join(dir, `spool-${String(this.#nextSegment++).padStart(12, '0')}.jsonl`);
		this.#segment = { path, fd: openSync(path, 'a'), bytes: 0, live: 0 };
	}

	/** Takes the directory (one collector per spool) and loads the segments a previous run left. */
	#open(dir: string): void {
		mkdirSync(dir, { recursive: true, mode: 0o700 });
		const lock = join(dir, 'lock');
		if (existsSync(lock)) {
			const pid = Number(readFileSync(lock, 'utf8').trim());
			if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
				throw new Error(`the spool ${dir} is in use by process ${pid}; give each collector its own --spool`);
			}
		}
		writeFileSync(lock, `${process.pid}\n`);
		this.#lock = lock;
		const names = readdirSync(dir)
			.filter((n) => SEGMENT_NAME.test(n))
			.sort();
		let loaded = 0;
		let broken = 0;
		for (const name of names) {
			const path = join(dir, name);
			this.#nextSegment = Math.max(this.#nextSegment, Number(SEGMENT_NAME.exec(name)![1]) + 1);
			const data = readFileSync(path);
			const segment: Segment = { path, fd: undefined, bytes: data.length, live: 0 };
			let offset = 0;
			while (offset < data.length) {
				let end = data.indexOf(0x0a, offset);
				if (end < 0) end = data.length;
				const text = data.subarray(offset, end).toString('utf8');
				const id = parseId(text);
				if (id) {
					this.#hold(id, text, false, { segment, offset });
					loaded++;
				} else if (text.length > 0) broken++;
				offset = end + 1;
			}
			if (segment.live === 0) unlinkSync(path);
		}
		if (loaded > 0) this.#log(`spool ${dir}: ${loaded} messages from an earlier run to send`);
		// A line cut by a crash mid-write cannot be sent; say so rather than lose it silently.
		if (broken > 0) this.#log(`spool ${dir}: ${broken} unreadable lines skipped`);
	}
}

function parseId(text: string): MessageId | undefined {
	try {
		const raw = JSON.parse(text) as { id?: unknown; type?: unknown };
		if (typeof raw.type !== 'string') return undefined;
		const r = messageIdSchema.safeParse(raw.id);
		return r.success ? r.data : undefined;
	} catch {
		return undefined;
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (err) {
		return (err as NodeJS.ErrnoException).code === 'EPERM';
	}
}

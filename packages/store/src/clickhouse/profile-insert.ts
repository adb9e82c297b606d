import { Readable } from 'node:stream';
import type { Frame, MessageId, ProfileWindow } from '@firesight/protocol';
import type { ClickHouseClient } from '@clickhouse/client';
import { Batcher } from './batcher.ts';
import { FrameHashes, stackHash, type Hashed } from './profile-hash.ts';
import { dateString, dayNumber } from './sql.ts';

/** A window turned into rows, and the dictionary entries its rows name. */
interface PreparedWindow {
	day: number;
	/** The window's rows as TabSeparated text, SAMPLE_COLUMNS in order. */
	samples: string;
	rows: number;
	stacks: Map<string, string[]>;
	frames: Map<string, Frame>;
}

/** Sample rows one INSERT carries at most: well under ClickHouse's block size, so it stays one atomic block. */
const MAX_BATCH_ROWS = 500_000;
/** Rows waiting beyond which a new window is refused rather than held in memory. */
const MAX_PENDING_ROWS = 4_000_000;
/** Days of dictionary keys remembered as written, counted back from the newest day seen. */
const REMEMBERED_DAYS = 3;
/**
 * Dictionary keys remembered as written, over all days, before the memory starts over: frames a
 * collector cannot name make most stacks new, so a day's keys grow without end otherwise.
 * Forgetting only costs rows written again, which the dictionary's engine folds into one.
 */
export const DEFAULT_WRITTEN_KEYS_BUDGET = 2_000_000;

/**
 * Turns windows into rows and writes them in batches: first the dictionary entries no earlier
 * write of the same day carried (frames, then stacks), then the samples with their windows'
 * marker rows, in one INSERT. A window's promise resolves once its samples are written; its
 * dictionary entries were written before them, so a query that sees a sample finds its stack.
 */
export class ProfileWriter {
	readonly #client: ClickHouseClient;
	readonly #hashes = new FrameHashes();
	readonly #batcher: Batcher<PreparedWindow>;
	/** Per day: dictionary keys already in that day's partition. */
	readonly #stacksWritten = new Map<number, Set<string>>();
	readonly #framesWritten = new Map<number, Set<string>>();
	readonly #budget: number;
	/** Times the keys remembered as written outgrew the budget and were forgotten. */
	resets = 0;

	constructor(client: ClickHouseClient, budget = DEFAULT_WRITTEN_KEYS_BUDGET) {
		this.#client = client;
		this.#budget = budget;
		this.#batcher = new Batcher((items) => this.#write(items), { maxBatch: MAX_BATCH_ROWS, maxPending: MAX_PENDING_ROWS });
	}

	get batcher(): Batcher<PreparedWindow> {
		return this.#batcher;
	}

	/**
	 * Validates and queues a window; resolves once it is written, with its message id on its
	 * marker row. Throws for a dangling frame id before anything is queued.
	 */
	insert(w: ProfileWindow, id?: MessageId): Promise<void> {
		const prepared = this.#prepare(w, id);
		return this.#batcher.add(prepared, prepared.rows);
	}

	/** Forgets which dictionary entries were written: after retention dropped partitions. */
	forgetWritten(): void {
		this.#stacksWritten.clear();
		this.#framesWritten.clear();
	}

	drain(): Promise<void> {
		return this.#batcher.drain();
	}

	#prepare(w: ProfileWindow, id: MessageId | undefined): PreparedWindow {
		const day = dayNumber(w.startMs);
		const dayText = dateString(day);
		// Sample rows as TabSeparated text, built here rather than as objects at write time:
		// parsing it is much cheaper for ClickHouse than JSON, and a window is a few hundred rows.
		const prefix = `${dayText}\t${tsv(w.host)}\t${w.startMs}\t${w.durationMs}\t${w.frequencyHz}\t`;
		const frameHash: (Hashed | undefined)[] = new Array(w.frames.length);
		const frames = new Map<string, Frame>();
		const stacks = new Map<string, string[]>();
		const lines: string[] = [`${prefix}0\t0\t0\t\t0\t${id ? `${tsv(id.boot)}\t${id.seq}` : NO_ID}${NO_LABELS}\n`];
		let comm = '';
		let commText = '';
		for (let i = 0; i < w.samples.length; i++) {
			const s = w.samples[i]!;
			const hashes: Hashed[] = new Array(s.stack.length);
			for (let j = 0; j < s.stack.length; j++) {
				const local = s.stack[j]!;
				let h = frameHash[local];
				if (h === undefined) {
					const f = w.frames[local];
					if (f === undefined) throw new RangeError(`frame id ${local} out of range (window has ${w.frames.length} frames)`);
					h = frameHash[local] = this.#hashes.of(f);
					frames.set(h.text, f);
				}
				hashes[j] = h;
			}
			const stack = stackHash(hashes);
			if (!stacks.has(stack.text))
				stacks.set(
					stack.text,
					hashes.map((h) => h.text),
				);
			if (s.comm !== comm) commText = tsv((comm = s.comm));
			const labels =
				s.endpoint === undefined && s.requestId === undefined && s.ambiguous !== true
					? NO_LABELS
					: `\t${tsv(s.endpoint ?? '')}\t${tsv(s.requestId ?? '')}\t${s.ambiguous === true ? 1 : 0}`;
			lines.push(`${prefix}${stack.text}\t${i + 1}\t${s.pid}\t${commText}\t${s.weight}\t${NO_ID}${labels}\n`);
		}
		const samples = lines.join('');
		const rows = lines.length;
		return { day, samples, rows, stacks, frames };
	}

	async #write(items: PreparedWindow[]): Promise<void> {
		const stackRows: { day: string; stack: string; frames: string[] }[] = [];
		const frameRows: { day: string; frame: string; kind: Frame['kind']; module: string; name: string }[] = [];
		const newStacks = new Map<number, Set<string>>();
		const newFrames = new Map<number, Set<string>>();
		const fresh = (written: Map<number, Set<string>>, added: Map<number, Set<string>>, day: number, key: string): boolean => {
			if (written.get(day)?.has(key)) return false;
			let set = added.get(day);
			if (set === undefined) added.set(day, (set = new Set()));
			if (set.has(key)) return false;
			set.add(key);
			return true;
		};
		for (const w of items) {
			const day = dateString(w.day);
			for (const [stack, frames] of w.stacks) {
				if (fresh(this.#stacksWritten, newStacks, w.day, stack)) stackRows.push({ day, stack, frames });
			}
			for (const [frame, f] of w.frames) {
				if (fresh(this.#framesWritten, newFrames, w.day, frame)) {
					frameRows.push({ day, frame, kind: f.kind, module: f.module, name: f.name });
				}
			}
		}
		// The dictionary first (both tables at once), then the samples that name it.
		await Promise.all([
			frameRows.length > 0 && this.#client.insert({ table: 'profile_frames', values: frameRows, format: 'JSONEachRow' }),
			stackRows.length > 0 && this.#client.insert({ table: 'profile_stacks', values: stackRows, format: 'JSONEachRow' }),
		]);
		await this.#client.insert({
			table: 'profile_samples',
			columns: [...SAMPLE_COLUMNS],
			values: Readable.from(
				items.map((w) => w.samples),
				{ objectMode: false },
			),
			format: 'TabSeparated',
		});
		remember(this.#stacksWritten, newStacks);
		remember(this.#framesWritten, newFrames);
		if (keyCount(this.#stacksWritten) + keyCount(this.#framesWritten) > this.#budget) {
			this.forgetWritten();
			this.resets++;
		}
	}
}

const SAMPLE_COLUMNS = [
	'day',
	'host',
	'start_ms',
	'duration_ms',
	'frequency_hz',
	'stack',
	'ord',
	'pid',
	'comm',
	'count',
	'message_boot',
	'message_seq',
	'endpoint',
	'request_id',
	'ambiguous',
] as const;
/** The request label columns of a row without labels (no endpoint, no request, not ambiguous). */
const NO_LABELS = '\t\t\t0';
/** The message id columns of a row that carries none (a sample row, or a window sent without an id). */
const NO_ID = '\t-1';

/** A string as a TabSeparated field: backslash, tab, newline and the other control escapes. */
function tsv(s: string): string {
	return /[\\\t\n\r\0\b\f]/.test(s) ? s.replace(/[\\\t\n\r\0\b\f]/g, (c) => TSV_ESCAPES[c]!) : s;
}
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' };

function keyCount(written: Map<number, Set<string>>): number {
	let n = 0;
	for (const keys of written.values()) n += keys.size;
	return n;
}

function remember(written: Map<number, Set<string>>, added: Map<number, Set<string>>): void {
	for (const [day, keys] of added) {
		const set = written.get(day);
		if (set === undefined) written.set(day, keys);
		else for (const k of keys) set.add(k);
	}
	const newest = Math.max(...written.keys());
	for (const day of written.keys()) if (day <= newest - REMEMBERED_DAYS) written.delete(day);
}

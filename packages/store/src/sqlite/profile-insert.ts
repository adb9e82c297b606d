import type Database from 'better-sqlite3';
import type { Frame, MessageId, ProfileWindow } from '@firesight/protocol';
import type { RecordInTransaction } from './ingest-ledger.ts';
import { newHostCache, type HostCache, type ProfileCaches } from './profile-caches.ts';
import { KIND_CODE, encodeStack, labelRowOf, packSamples, type LabelRow } from './profile-codec.ts';

/**
 * stacks.last_ms is rewritten at most this often per stack, so steady profiles cost no writes;
 * pruning keeps stacks this much longer than the retention to stay on the safe side.
 */
export const STACK_TOUCH_MS = 3_600_000;

/**
 * Stores profile windows: frames, stacks and comms interned per host (found through the caches,
 * written on first use), and each window's samples as one packed blob.
 */
export class ProfileInserter {
	readonly #caches: ProfileCaches;
	readonly #stmt;
	readonly #transaction;

	constructor(db: Database.Database, caches: ProfileCaches, recordId: RecordInTransaction) {
		this.#caches = caches;
		this.#stmt = {
			hostGet: db.prepare<[string], { id: number }>('SELECT id FROM hosts WHERE name = ?'),
			hostInsert: db.prepare<[string]>('INSERT INTO hosts (name) VALUES (?)'),
			// RETURNING yields nothing on conflict: only rows stored before this process started.
			frameInsert: db.prepare<[number, number, string, string], { id: number }>(
				'INSERT INTO frames (host_id, kind, module, name) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
			),
			frameGet: db.prepare<[number, number, string, string], { id: number }>(
				'SELECT id FROM frames WHERE host_id = ? AND kind = ? AND module = ? AND name = ?',
			),
			stackInsert: db.prepare<[number, Buffer, number], { id: number }>(
				'INSERT INTO stacks (host_id, frame_ids, last_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
			),
			stackGet: db.prepare<[number, Buffer], { id: number; last_ms: number }>(
				'SELECT id, last_ms FROM stacks WHERE host_id = ? AND frame_ids = ?',
			),
			windowInsert: db.prepare<[number, number, number, number]>(
				'INSERT INTO windows (host_id, start_ms, duration_ms, frequency_hz) VALUES (?, ?, ?, ?)',
			),
			samplesInsert: db.prepare<[number | bigint, Buffer, Buffer | null]>(
				'INSERT INTO window_samples (window_id, data, labels) VALUES (?, ?, ?)',
			),
			labelInsert: db.prepare<[number, string, string, number, number], { id: number }>(
				`INSERT INTO sample_labels (host_id, endpoint, request_id, ambiguous, last_ms) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT DO NOTHING RETURNING id`,
			),
			labelGet: db.prepare<[number, string, string, number], { id: number; last_ms: number }>(
				'SELECT id, last_ms FROM sample_labels WHERE host_id = ? AND endpoint = ? AND request_id = ? AND ambiguous = ?',
			),
			labelTouch: db.prepare<[number, number]>('UPDATE sample_labels SET last_ms = MAX(last_ms, ?) WHERE id = ?'),
			commInsert: db.prepare<[number, string]>('INSERT OR IGNORE INTO comms (host_id, comm) VALUES (?, ?)'),
			commGet: db.prepare<[number, string], { id: number }>('SELECT id FROM comms WHERE host_id = ? AND comm = ?'),
			stackTouch: db.prepare<[number, number]>('UPDATE stacks SET last_ms = MAX(last_ms, ?) WHERE id = ?'),
			processUpsert: db.prepare<[number, number, string, number, number]>(
				`INSERT INTO processes (host_id, pid, comm, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (host_id, pid, comm) DO UPDATE SET last_ms = MAX(last_ms, excluded.last_ms)`,
			),
		};
		this.#transaction = db.transaction((w: ProfileWindow, id: MessageId | undefined) => {
			this.#insert(w);
			if (id) recordId(w.host, id);
		});
	}

	/** Stores a window (and its message id) in one transaction; on failure nothing of it stays, cached ids included. */
	insert(window: ProfileWindow, id?: MessageId): void {
		this.#caches.trim();
		try {
			this.#transaction(window, id);
		} catch (err) {
			// A failed transaction may have left cached ids for rows it rolled back.
			this.#caches.forget();
			throw err;
		}
	}

	#host(name: string): HostCache {
		let h = this.#caches.hosts.get(name);
		if (!h) {
			let row = this.#stmt.hostGet.get(name);
			if (!row) {
				this.#stmt.hostInsert.run(name);
				row = this.#stmt.hostGet.get(name)!;
			}
			h = newHostCache(row.id);
			this.#caches.hosts.set(name, h);
		}
		return h;
	}

	#frameId(h: HostCache, f: Frame): number {
		const kind = KIND_CODE[f.kind];
		const byModule = h.frames[kind]!;
		let byName = byModule.get(f.module);
		if (byName === undefined) {
			byName = new Map();
			byModule.set(f.module, byName);
		}
		let id = byName.get(f.name);
		if (id === undefined) {
			id = (this.#stmt.frameInsert.get(h.id, kind, f.module, f.name) ?? this.#stmt.frameGet.get(h.id, kind, f.module, f.name)!).id;
			byName.set(f.name, id);
			this.#caches.frameIndex(id, f);
		}
		return id;
	}

	/** The stack of these database frame ids, stored on first use. */
	#stackId(h: HostCache, ids: Int32Array, length: number, usedMs: number): number {
		const stacks = this.#caches.stacks;
		let r = stacks.find(h.id, ids, length);
		if (r < 0) {
			const blob = encodeStack(ids, length);
			const inserted = this.#stmt.stackInsert.get(h.id, blob, usedMs);
			if (inserted) r = stacks.add(h.id, inserted.id, usedMs, ids, length);
			else {
				// Stored before the caches last started over.
				const row = this.#stmt.stackGet.get(h.id, blob)!;
				r = stacks.add(h.id, row.id, row.last_ms, ids, length);
			}
		}
		const lastMs = stacks.lastMs(r);
		if (usedMs > lastMs + STACK_TOUCH_MS || lastMs === 0) {
			this.#stmt.stackTouch.run(usedMs, stacks.id(r));
			stacks.setLastMs(r, usedMs);
		}
		return stacks.id(r);
	}

	#commId(h: HostCache, comm: string): number {
		let id = h.comms.get(comm);
		if (id === undefined) {
			this.#stmt.commInsert.run(h.id, comm);
			id = this.#stmt.commGet.get(h.id, comm)!.id;
			h.comms.set(comm, id);
		}
		return id;
	}

	/** The label row's id, stored on first use; touched as stacks are, so pruning knows when it is unused. */
	#labelId(h: HostCache, row: LabelRow, usedMs: number): number {
		const ambiguous = row.ambiguous ? 1 : 0;
		const key = JSON.stringify([row.endpoint, row.requestId, ambiguous]);
		let cached = h.labels.get(key);
		if (cached === undefined) {
			const inserted = this.#stmt.labelInsert.get(h.id, row.endpoint, row.requestId, ambiguous, usedMs);
			if (inserted) cached = { id: inserted.id, lastMs: usedMs };
			else {
				const found = this.#stmt.labelGet.get(h.id, row.endpoint, row.requestId, ambiguous)!;
				cached = { id: found.id, lastMs: found.last_ms };
			}
			h.labels.set(key, cached);
			this.#caches.labels++;
		}
		if (usedMs > cached.lastMs + STACK_TOUCH_MS) {
			this.#stmt.labelTouch.run(usedMs, cached.id);
			cached.lastMs = usedMs;
		}
		return cached.id;
	}

	#insert(w: ProfileWindow): void {
		const h = this.#host(w.host);
		// Only frames some stack uses are stored; the rest of the window's table is noise.
		const dbFrame = new Int32Array(w.frames.length).fill(-1);
		const windowId = this.#stmt.windowInsert.run(h.id, w.startMs, w.durationMs, w.frequencyHz).lastInsertRowid;
		const endMs = w.startMs + w.durationMs;
		const seen = new Map<number, string[]>();
		const quads = new Array<number>(w.samples.length * 4);
		// One label id per sample, made only once a sample has labels.
		let labels: number[] | undefined;
		let ids = new Int32Array(64);
		let q = 0;
		let lastPid = -1;
		let lastComm = '';
		for (const s of w.samples) {
			const length = s.stack.length;
			if (length > ids.length) ids = new Int32Array(length * 2);
			for (let i = 0; i < length; i++) {
				const local = s.stack[i]!;
				let id = dbFrame[local];
				if (id === undefined) throw new RangeError(`frame id ${local} out of range`);
				if (id < 0) {
					id = this.#frameId(h, w.frames[local]!);
					dbFrame[local] = id;
				}
				ids[i] = id;
			}
			quads[q++] = this.#stackId(h, ids, length, endMs);
			quads[q++] = s.pid;
			quads[q++] = this.#commId(h, s.comm);
			quads[q++] = s.weight;
			const labelRow = labelRowOf(s);
			if (labelRow !== null) {
				labels ??= new Array<number>(w.samples.length).fill(0);
				labels[(q >>> 2) - 1] = this.#labelId(h, labelRow, endMs);
			}
			if (s.pid === lastPid && s.comm === lastComm) continue;
			lastPid = s.pid;
			lastComm = s.comm;
			let comms = seen.get(s.pid);
			if (comms === undefined) seen.set(s.pid, (comms = []));
			if (!comms.includes(s.comm)) {
				comms.push(s.comm);
				this.#stmt.processUpsert.run(h.id, s.pid, s.comm, w.startMs, endMs);
			}
		}
		this.#stmt.samplesInsert.run(windowId, packSamples(quads), labels ? packSamples(labels) : null);
	}
}

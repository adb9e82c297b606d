import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Frame, ProfileWindow } from '@firesight/protocol';
import { migrate, packSamples } from './migrations.ts';
import type {
	AggregateStack,
	HostSummary,
	ProcessSeen,
	ProfileQuery,
	PruneResult,
	StackAggregate,
	Store,
} from './store.ts';

export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;
/** The longest window the protocol accepts; bounds the index range a time query must scan. */
const MAX_WINDOW_MS = 3_600_000;

const KINDS = ['user', 'kernel', 'jit'] as const;
const KIND_CODE: Record<Frame['kind'], number> = { user: 0, kernel: 1, jit: 2 };

export interface SqliteStoreOptions {
	/** Directory of `firesight.db`; defaults to `$FIRESIGHT_DATA` or `./data`. */
	dataDir?: string;
	retentionMs?: number;
	/** 0 disables the timer (call `prune()` yourself). */
	pruneIntervalMs?: number;
	/** Clock, for tests. */
	now?: () => number;
}

/** The data directory a store uses when none is given. */
export function defaultDataDir(): string {
	return resolve(process.env.FIRESIGHT_DATA || './data');
}

function encodeStack(ids: readonly number[]): Buffer {
	const buf = Buffer.allocUnsafe(ids.length * 4);
	for (let i = 0; i < ids.length; i++) buf.writeUInt32LE(ids[i]!, i * 4);
	return buf;
}

function decodeStack(buf: Buffer): number[] {
	const ids = new Array<number>(buf.length >>> 2);
	for (let i = 0; i < ids.length; i++) ids[i] = buf.readUInt32LE(i * 4);
	return ids;
}

interface HostCache {
	id: number;
	frames: Map<string, number>;
	/** Stack blob (latin1) → id and the last_ms last written for it. */
	stacks: Map<string, { id: number; lastMs: number }>;
	comms: Map<string, number>;
}

/**
 * stacks.last_ms is rewritten at most this often per stack, so steady profiles cost no writes;
 * pruning keeps stacks this much longer than the retention to stay on the safe side.
 */
const STACK_TOUCH_MS = 3_600_000;

/** The embedded store: one SQLite file in WAL mode. Synchronous underneath, async to callers. */
export class SqliteStore implements Store {
	readonly path: string;
	readonly retentionMs: number;
	readonly schemaVersion: number;
	readonly #db: Database.Database;
	readonly #now: () => number;
	readonly #hosts = new Map<string, HostCache>();
	readonly #timer: NodeJS.Timeout | undefined;
	readonly #stmt;
	#closed = false;

	constructor(options: SqliteStoreOptions = {}) {
		const dir = resolve(options.dataDir ?? defaultDataDir());
		mkdirSync(dir, { recursive: true });
		this.path = join(dir, 'firesight.db');
		this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
		this.#now = options.now ?? Date.now;
		this.#db = new Database(this.path);
		this.#db.pragma('journal_mode = WAL');
		this.#db.pragma('synchronous = NORMAL');
		this.#db.pragma('busy_timeout = 5000');
		this.schemaVersion = migrate(this.#db);
		const db = this.#db;
		this.#stmt = {
			hostGet: db.prepare<[string], { id: number }>('SELECT id FROM hosts WHERE name = ?'),
			hostInsert: db.prepare<[string]>('INSERT INTO hosts (name) VALUES (?)'),
			frameInsert: db.prepare<[number, number, string, string]>(
				'INSERT OR IGNORE INTO frames (host_id, kind, module, name) VALUES (?, ?, ?, ?)',
			),
			frameGet: db.prepare<[number, number, string, string], { id: number }>(
				'SELECT id FROM frames WHERE host_id = ? AND kind = ? AND module = ? AND name = ?',
			),
			stackInsert: db.prepare<[number, Buffer]>('INSERT OR IGNORE INTO stacks (host_id, frame_ids) VALUES (?, ?)'),
			stackGet: db.prepare<[number, Buffer], { id: number }>(
				'SELECT id FROM stacks WHERE host_id = ? AND frame_ids = ?',
			),
			windowInsert: db.prepare<[number, number, number, number]>(
				'INSERT INTO windows (host_id, start_ms, duration_ms, frequency_hz) VALUES (?, ?, ?, ?)',
			),
			samplesInsert: db.prepare<[number | bigint, Buffer]>('INSERT INTO window_samples (window_id, data) VALUES (?, ?)'),
			commInsert: db.prepare<[number, string]>('INSERT OR IGNORE INTO comms (host_id, comm) VALUES (?, ?)'),
			commGet: db.prepare<[number, string], { id: number }>('SELECT id FROM comms WHERE host_id = ? AND comm = ?'),
			stackTouch: db.prepare<[number, number]>('UPDATE stacks SET last_ms = MAX(last_ms, ?) WHERE id = ?'),
			processUpsert: db.prepare<[number, number, string, number, number]>(
				`INSERT INTO processes (host_id, pid, comm, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (host_id, pid, comm) DO UPDATE SET last_ms = MAX(last_ms, excluded.last_ms)`,
			),
		};
		const interval = options.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
		if (interval > 0) {
			this.#timer = setInterval(() => {
				try {
					this.#pruneSync(this.#now());
				} catch (err) {
					console.error(`firesight store: prune failed: ${(err as Error).message}`);
				}
			}, interval);
			this.#timer.unref();
		}
	}

	#host(name: string): HostCache {
		let h = this.#hosts.get(name);
		if (!h) {
			let row = this.#stmt.hostGet.get(name);
			if (!row) {
				this.#stmt.hostInsert.run(name);
				row = this.#stmt.hostGet.get(name)!;
			}
			h = { id: row.id, frames: new Map(), stacks: new Map(), comms: new Map() };
			this.#hosts.set(name, h);
		}
		return h;
	}

	#frameId(h: HostCache, f: Frame): number {
		const key = `${f.kind}\0${f.module}\0${f.name}`;
		let id = h.frames.get(key);
		if (id === undefined) {
			const kind = KIND_CODE[f.kind];
			this.#stmt.frameInsert.run(h.id, kind, f.module, f.name);
			id = this.#stmt.frameGet.get(h.id, kind, f.module, f.name)!.id;
			h.frames.set(key, id);
		}
		return id;
	}

	#stackId(h: HostCache, blob: Buffer, usedMs: number): number {
		const key = blob.toString('latin1');
		let entry = h.stacks.get(key);
		if (entry === undefined) {
			this.#stmt.stackInsert.run(h.id, blob);
			entry = { id: this.#stmt.stackGet.get(h.id, blob)!.id, lastMs: 0 };
			h.stacks.set(key, entry);
		}
		if (usedMs > entry.lastMs + STACK_TOUCH_MS || entry.lastMs === 0) {
			this.#stmt.stackTouch.run(usedMs, entry.id);
			entry.lastMs = usedMs;
		}
		return entry.id;
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

	readonly #insert = (w: ProfileWindow): void => {
		const h = this.#host(w.host);
		// Only frames some stack uses are stored; the rest of the window's table is noise.
		const dbFrame = new Int32Array(w.frames.length).fill(-1);
		const windowId = this.#stmt.windowInsert.run(h.id, w.startMs, w.durationMs, w.frequencyHz).lastInsertRowid;
		const endMs = w.startMs + w.durationMs;
		const seen = new Set<string>();
		const quads = new Array<number>(w.stacks.length * 4);
		let q = 0;
		for (const s of w.stacks) {
			const ids = new Array<number>(s.frameIds.length);
			for (let i = 0; i < ids.length; i++) {
				const local = s.frameIds[i]!;
				let id = dbFrame[local];
				if (id === undefined) throw new RangeError(`frame id ${local} out of range`);
				if (id < 0) {
					id = this.#frameId(h, w.frames[local]!);
					dbFrame[local] = id;
				}
				ids[i] = id;
			}
			quads[q++] = this.#stackId(h, encodeStack(ids), endMs);
			quads[q++] = s.pid;
			quads[q++] = this.#commId(h, s.comm);
			quads[q++] = s.count;
			const pk = `${s.pid}\0${s.comm}`;
			if (!seen.has(pk)) {
				seen.add(pk);
				this.#stmt.processUpsert.run(h.id, s.pid, s.comm, w.startMs, endMs);
			}
		}
		this.#stmt.samplesInsert.run(windowId, packSamples(quads));
	};

	async insertWindow(window: ProfileWindow): Promise<void> {
		this.#check();
		const tx = this.#db.transaction(this.#insert);
		try {
			tx(window);
		} catch (err) {
			// A failed transaction may have left cached ids for rows it rolled back.
			this.#hosts.delete(window.host);
			throw err;
		}
	}

	async queryStacks(q: ProfileQuery): Promise<StackAggregate> {
		this.#check();
		const where = ['w.start_ms > @lo', 'w.start_ms < @to', 'w.start_ms + w.duration_ms > @from'];
		const params: Record<string, number | string> = { lo: q.fromMs - MAX_WINDOW_MS, to: q.toMs, from: q.fromMs };
		if (q.host !== undefined) {
			where.push('h.name = @host');
			params.host = q.host;
		}
		const windowWhere = where.join(' AND ');
		const win = this.#db
			.prepare(
				`SELECT COUNT(*) n, MIN(w.start_ms) first, MAX(w.start_ms + w.duration_ms) last,
				        SUM(w.frequency_hz * w.duration_ms) fd, SUM(w.duration_ms) d
				 FROM windows w JOIN hosts h ON h.id = w.host_id WHERE ${windowWhere}`,
			)
			.get(params) as { n: number; first: number | null; last: number | null; fd: number | null; d: number | null };
		// Samples are packed per window: read the matching windows' blobs and sum in JS.
		const blobsOf = this.#db
			.prepare(
				`SELECT w.host_id, ws.data FROM windows w JOIN hosts h ON h.id = w.host_id
				 JOIN window_samples ws ON ws.window_id = w.id WHERE ${windowWhere}`,
			)
			.raw()
			.iterate(params) as Iterable<[number, Buffer]>;
		let commFilter: Set<number> | undefined;
		if (q.comm !== undefined) {
			commFilter = new Set(
				(this.#db.prepare('SELECT id FROM comms WHERE comm = ?').raw().all(q.comm) as [number][]).map((r) => r[0]),
			);
		}
		interface Row { hostId: number; pid: number; commId: number; stackId: number; count: number }
		const groups = new Map<string, Row>();
		for (const [hostId, data] of blobsOf) {
			for (let off = 0; off + 16 <= data.length; off += 16) {
				const stackId = data.readUInt32LE(off);
				const pid = data.readUInt32LE(off + 4);
				const commId = data.readUInt32LE(off + 8);
				const count = data.readUInt32LE(off + 12);
				if (q.pid !== undefined && pid !== q.pid) continue;
				if (commFilter && !commFilter.has(commId)) continue;
				// Stack and comm ids are unique across hosts, so the host is implied by them.
				const key = `${stackId}|${pid}|${commId}`;
				const g = groups.get(key);
				if (g) g.count += count;
				else groups.set(key, { hostId, pid, commId, stackId, count });
			}
		}
		const rows = [...groups.values()];
		const stackIds = new Set<number>();
		for (const r of rows) stackIds.add(r.stackId);
		const blobs = new Map<number, Buffer>();
		for (const [id, blob] of this.#db
			.prepare('SELECT id, frame_ids FROM stacks WHERE id IN (SELECT value FROM json_each(?))')
			.raw()
			.iterate(JSON.stringify([...stackIds])) as Iterable<[number, Buffer]>) {
			blobs.set(id, blob);
		}
		const comms = new Map<number, string>();
		for (const [id, comm] of this.#db
			.prepare('SELECT id, comm FROM comms WHERE id IN (SELECT value FROM json_each(?))')
			.raw()
			.iterate(JSON.stringify([...new Set(rows.map((r) => r.commId))])) as Iterable<[number, string]>) {
			comms.set(id, comm);
		}
		const hostNames = new Map<number, string>();
		for (const [id, name] of this.#db.prepare('SELECT id, name FROM hosts').raw().iterate() as Iterable<[number, string]>) {
			hostNames.set(id, name);
		}
		const dbIds = new Set<number>();
		const decodedByStack = new Map<number, number[]>();
		for (const [id, blob] of blobs) {
			const ids = decodeStack(blob);
			for (const f of ids) dbIds.add(f);
			decodedByStack.set(id, ids);
		}
		// Frames are interned per host in the database; merge equal frames across hosts here.
		const frames: Frame[] = [];
		const byKey = new Map<string, number>();
		const remap = new Map<number, number>();
		const frameRows = this.#db
			.prepare('SELECT id, kind, module, name FROM frames WHERE id IN (SELECT value FROM json_each(?))')
			.all(JSON.stringify([...dbIds])) as { id: number; kind: number; module: string; name: string }[];
		for (const f of frameRows) {
			const kind = KINDS[f.kind] ?? 'user';
			const key = `${kind}\0${f.module}\0${f.name}`;
			let idx = byKey.get(key);
			if (idx === undefined) {
				idx = frames.length;
				frames.push({ name: f.name, module: f.module, kind });
				byKey.set(key, idx);
			}
			remap.set(f.id, idx);
		}
		const remapped = new Map<number, number[]>();
		for (const [id, ids] of decodedByStack) {
			remapped.set(
				id,
				ids.map((f) => {
					const idx = remap.get(f);
					if (idx === undefined) throw new Error(`store corrupt: stack refers to missing frame ${f}`);
					return idx;
				}),
			);
		}
		let total = 0;
		const stacks: AggregateStack[] = rows.map((r) => {
			total += r.count;
			const frameIds = remapped.get(r.stackId);
			if (frameIds === undefined) throw new Error(`store corrupt: sample refers to missing stack ${r.stackId}`);
			return { host: hostNames.get(r.hostId) ?? '', pid: r.pid, comm: comms.get(r.commId) ?? '', frameIds, count: r.count };
		});
		return {
			frames,
			stacks,
			totalSamples: total,
			windows: win.n,
			frequencyHz: win.d ? (win.fd ?? 0) / win.d : 0,
			firstMs: win.first,
			lastMs: win.last,
		};
	}

	async listHosts(): Promise<HostSummary[]> {
		this.#check();
		return this.#db
			.prepare(
				`SELECT h.name host, MIN(w.start_ms) firstMs, MAX(w.start_ms + w.duration_ms) lastMs,
				        COUNT(*) windows, SUM(w.frequency_hz * w.duration_ms) / SUM(w.duration_ms) frequencyHz
				 FROM windows w JOIN hosts h ON h.id = w.host_id GROUP BY h.id ORDER BY h.name`,
			)
			.all() as HostSummary[];
	}

	async findProcess(pid: number, host?: string): Promise<ProcessSeen | null> {
		this.#check();
		const row = this.#db
			.prepare(
				`SELECT h.name host, p.pid pid, p.comm comm, p.last_ms lastMs
				 FROM processes p JOIN hosts h ON h.id = p.host_id
				 WHERE p.pid = ? ${host === undefined ? '' : 'AND h.name = ?'}
				 ORDER BY p.last_ms DESC LIMIT 1`,
			)
			.get(...(host === undefined ? [pid] : [pid, host])) as ProcessSeen | undefined;
		return row ?? null;
	}

	#pruneSync(nowMs: number): PruneResult {
		const cutoff = nowMs - this.retentionMs;
		const db = this.#db;
		const result = db.transaction((): PruneResult => {
			db.prepare(
				'DELETE FROM window_samples WHERE window_id IN (SELECT id FROM windows WHERE start_ms + duration_ms <= ?)',
			).run(cutoff);
			const windows = db.prepare('DELETE FROM windows WHERE start_ms + duration_ms <= ?').run(cutoff).changes;
			db.prepare('DELETE FROM processes WHERE last_ms <= ?').run(cutoff);
			if (windows === 0) return { windows: 0, frames: 0, stacks: 0 };
			const stacks = db.prepare('DELETE FROM stacks WHERE last_ms <= ?').run(cutoff - STACK_TOUCH_MS).changes;
			let frames = 0;
			if (stacks > 0) {
				// Frame ids live inside stack blobs, out of SQL's reach: collect the live ones here.
				const live = new Set<number>();
				for (const r of db.prepare('SELECT frame_ids FROM stacks').iterate() as Iterable<{ frame_ids: Buffer }>) {
					for (const id of decodeStack(r.frame_ids)) live.add(id);
				}
				db.exec('CREATE TEMP TABLE IF NOT EXISTS live_frames (id INTEGER PRIMARY KEY)');
				db.exec('DELETE FROM live_frames');
				const ins = db.prepare('INSERT INTO live_frames (id) VALUES (?)');
				for (const id of live) ins.run(id);
				frames = db.prepare('DELETE FROM frames WHERE id NOT IN (SELECT id FROM live_frames)').run().changes;
				db.exec('DELETE FROM live_frames');
			}
			return { windows, frames, stacks };
		})();
		if (result.stacks > 0 || result.frames > 0) this.#hosts.clear();
		return result;
	}

	async prune(nowMs: number = this.#now()): Promise<PruneResult> {
		this.#check();
		return this.#pruneSync(nowMs);
	}

	/** Row counts, for tests and /metrics. */
	counts(): { hosts: number; frames: number; stacks: number; windows: number; samples: number } {
		const c = (t: string) => (this.#db.prepare(`SELECT COUNT(*) n FROM ${t}`).get() as { n: number }).n;
		return { hosts: c('hosts'), frames: c('frames'), stacks: c('stacks'), windows: c('windows'), samples: c('window_samples') };
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#timer) clearInterval(this.#timer);
		this.#db.close();
	}

	#check(): void {
		if (this.#closed) throw new Error('store is closed');
	}
}

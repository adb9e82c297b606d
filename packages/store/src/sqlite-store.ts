import { endianness } from 'node:os';
import type Database from 'better-sqlite3';
import type { Frame, ProfileWindow } from '@firesight/protocol';
import { IntMap } from './int-map.ts';
import { migrate, packSamples } from './migrations.ts';
import { DEFAULT_RETENTION_MS, openSqliteFile, startPruneTimer } from './sqlite-file.ts';
import type {
	AggregateStack,
	HostSummary,
	ProcessSeen,
	ProfileQuery,
	PruneResult,
	StackAggregate,
	Store,
} from './store.ts';

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

function encodeStack(ids: ArrayLike<number>, length = ids.length): Buffer {
	const buf = Buffer.allocUnsafe(length * 4);
	for (let i = 0; i < length; i++) buf.writeUInt32LE(ids[i]!, i * 4);
	return buf;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** A window's packed samples as uint32 words, without a copy when the platform allows. */
function sampleWords(data: Buffer): Uint32Array {
	if (LITTLE_ENDIAN && data.byteOffset % 4 === 0) return new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
	const words = new Uint32Array(data.length >>> 2);
	for (let i = 0; i < words.length; i++) words[i] = data.readUInt32LE(i * 4);
	return words;
}

function decodeStack(buf: Buffer): number[] {
	const ids = new Array<number>(buf.length >>> 2);
	for (let i = 0; i < ids.length; i++) ids[i] = buf.readUInt32LE(i * 4);
	return ids;
}

/** A stack's node in the per-host trie of stacks, keyed by database frame ids root first. */
interface StackNode {
	/** Database id of the stack ending here, or -1 when only longer stacks pass through. */
	id: number;
	/** The last_ms last written for it. */
	lastMs: number;
	next: Map<number, StackNode> | undefined;
}

interface HostCache {
	id: number;
	/** Frame ids by kind code, then module, then name: no key string is built per frame. */
	frames: Map<string, Map<string, number>>[];
	/**
	 * Stacks as a trie over numeric frame ids. Finding a stack walks its frames with integer Map
	 * lookups; the former key (the encoded blob as a string) cost an allocation and a string hash
	 * per stack per window, which dominated storing large windows.
	 */
	stacks: StackNode;
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
	/**
	 * Query-side caches, filled as windows are stored (or on first query after a restart): each
	 * stack's frames as indices into `#frameTable`, so a merged query groups and resolves stacks
	 * with integer lookups instead of reading and decoding blobs and frame rows every time.
	 */
	readonly #stackFrames = new Map<number, number[]>();
	readonly #frameTable: Frame[] = [];
	readonly #frameIndexByKey = new Map<string, number>();
	readonly #frameIndexOf = new Map<number, number>();
	readonly #timer: NodeJS.Timeout | undefined;
	readonly #stmt;
	#closed = false;

	constructor(options: SqliteStoreOptions = {}) {
		const { path, db } = openSqliteFile({ dataDir: options.dataDir });
		this.path = path;
		this.#db = db;
		this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
		this.#now = options.now ?? Date.now;
		this.schemaVersion = migrate(db);
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
			samplesInsert: db.prepare<[number | bigint, Buffer]>('INSERT INTO window_samples (window_id, data) VALUES (?, ?)'),
			commInsert: db.prepare<[number, string]>('INSERT OR IGNORE INTO comms (host_id, comm) VALUES (?, ?)'),
			commGet: db.prepare<[number, string], { id: number }>('SELECT id FROM comms WHERE host_id = ? AND comm = ?'),
			stackTouch: db.prepare<[number, number]>('UPDATE stacks SET last_ms = MAX(last_ms, ?) WHERE id = ?'),
			processUpsert: db.prepare<[number, number, string, number, number]>(
				`INSERT INTO processes (host_id, pid, comm, first_ms, last_ms) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (host_id, pid, comm) DO UPDATE SET last_ms = MAX(last_ms, excluded.last_ms)`,
			),
		};
		this.#timer = startPruneTimer(options.pruneIntervalMs, 'prune', () => this.#pruneSync(this.#now()));
	}

	#host(name: string): HostCache {
		let h = this.#hosts.get(name);
		if (!h) {
			let row = this.#stmt.hostGet.get(name);
			if (!row) {
				this.#stmt.hostInsert.run(name);
				row = this.#stmt.hostGet.get(name)!;
			}
			h = { id: row.id, frames: KINDS.map(() => new Map()), stacks: { id: -1, lastMs: 0, next: undefined }, comms: new Map() };
			this.#hosts.set(name, h);
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
			this.#frameIndex(id, f);
		}
		return id;
	}

	/** The stack of these database frame ids, stored on first use. */
	#stackId(h: HostCache, ids: Int32Array, length: number, usedMs: number): number {
		let node = h.stacks;
		for (let i = 0; i < length; i++) {
			const f = ids[i]!;
			node.next ??= new Map();
			let child = node.next.get(f);
			if (child === undefined) {
				child = { id: -1, lastMs: 0, next: undefined };
				node.next.set(f, child);
			}
			node = child;
		}
		if (node.id < 0) {
			const blob = encodeStack(ids, length);
			const inserted = this.#stmt.stackInsert.get(h.id, blob, usedMs);
			if (inserted) {
				node.id = inserted.id;
				node.lastMs = usedMs;
			} else {
				const row = this.#stmt.stackGet.get(h.id, blob)!;
				node.id = row.id;
				node.lastMs = row.last_ms;
			}
			if (!this.#stackFrames.has(node.id)) {
				const indices = new Array<number>(length);
				for (let i = 0; i < length; i++) indices[i] = this.#frameIndexOf.get(ids[i]!)!;
				this.#stackFrames.set(node.id, indices);
			}
		}
		if (usedMs > node.lastMs + STACK_TOUCH_MS || node.lastMs === 0) {
			this.#stmt.stackTouch.run(usedMs, node.id);
			node.lastMs = usedMs;
		}
		return node.id;
	}

	/**
	 * Gives a database frame its index in the store-wide frame table that queries answer from,
	 * where equal frames of different hosts share one index.
	 */
	#frameIndex(dbId: number, f: Frame): number {
		let index = this.#frameIndexOf.get(dbId);
		if (index !== undefined) return index;
		const key = `${f.kind}\0${f.module}\0${f.name}`;
		index = this.#frameIndexByKey.get(key);
		if (index === undefined) {
			index = this.#frameTable.length;
			this.#frameTable.push({ name: f.name, module: f.module, kind: f.kind });
			this.#frameIndexByKey.set(key, index);
		}
		this.#frameIndexOf.set(dbId, index);
		return index;
	}

	/** Forgets every cached id: after a prune, or a transaction that rolled back rows they named. */
	#forgetIds(): void {
		this.#hosts.clear();
		this.#stackFrames.clear();
		this.#frameIndexOf.clear();
		this.#frameIndexByKey.clear();
		this.#frameTable.length = 0;
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
		const seen = new Map<number, string[]>();
		const quads = new Array<number>(w.stacks.length * 4);
		let ids = new Int32Array(64);
		let q = 0;
		let lastPid = -1;
		let lastComm = '';
		for (const s of w.stacks) {
			const length = s.frameIds.length;
			if (length > ids.length) ids = new Int32Array(length * 2);
			for (let i = 0; i < length; i++) {
				const local = s.frameIds[i]!;
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
			quads[q++] = s.count;
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
		this.#stmt.samplesInsert.run(windowId, packSamples(quads));
	};

	async insertWindow(window: ProfileWindow): Promise<void> {
		this.#check();
		const tx = this.#db.transaction(this.#insert);
		try {
			tx(window);
		} catch (err) {
			// A failed transaction may have left cached ids for rows it rolled back.
			this.#forgetIds();
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
		// Rows in parallel arrays, found by stack id through an integer hash table and then a short
		// chain of the rows with that stack (one per pid and comm): a string key per sample and
		// Maps keyed by id used to dominate the whole query.
		const rowStack: number[] = [];
		const rowPid: number[] = [];
		const rowComm: number[] = [];
		const rowHost: number[] = [];
		const rowCount: number[] = [];
		const rowNext: number[] = [];
		const firstRow = new IntMap(1 << 14);
		for (const [hostId, data] of blobsOf) {
			const quads = sampleWords(data);
			for (let o = 0; o + 4 <= quads.length; o += 4) {
				const stackId = quads[o]!;
				const pid = quads[o + 1]!;
				const commId = quads[o + 2]!;
				const count = quads[o + 3]!;
				if (q.pid !== undefined && pid !== q.pid) continue;
				if (commFilter && !commFilter.has(commId)) continue;
				// Stack and comm ids are unique across hosts, so the host is implied by them.
				const head = firstRow.get(stackId);
				let row = head;
				while (row >= 0 && (rowPid[row] !== pid || rowComm[row] !== commId)) row = rowNext[row]!;
				if (row >= 0) {
					rowCount[row]! += count;
				} else {
					firstRow.set(stackId, rowStack.length);
					rowStack.push(stackId);
					rowPid.push(pid);
					rowComm.push(commId);
					rowHost.push(hostId);
					rowCount.push(count);
					rowNext.push(head);
				}
			}
		}
		const rowsN = rowStack.length;
		this.#loadStacks(rowStack);
		const comms = new Map<number, string>();
		for (const [id, comm] of this.#db
			.prepare('SELECT id, comm FROM comms WHERE id IN (SELECT value FROM json_each(?))')
			.raw()
			.iterate(JSON.stringify([...new Set(rowComm)])) as Iterable<[number, string]>) {
			comms.set(id, comm);
		}
		const hostNames = new Map<number, string>();
		for (const [id, name] of this.#db.prepare('SELECT id, name FROM hosts').raw().iterate() as Iterable<[number, string]>) {
			hostNames.set(id, name);
		}
		// The answer's frame table holds only the frames its stacks use, in first-use order.
		const frames: Frame[] = [];
		const local = new Int32Array(this.#frameTable.length).fill(-1);
		let total = 0;
		const stacks = new Array<AggregateStack>(rowsN);
		for (let r = 0; r < rowsN; r++) {
			const shared = this.#stackFrames.get(rowStack[r]!);
			if (shared === undefined) throw new Error(`store corrupt: sample refers to missing stack ${rowStack[r]}`);
			const frameIds = new Array<number>(shared.length);
			for (let i = 0; i < shared.length; i++) {
				const index = shared[i]!;
				let id = local[index]!;
				if (id < 0) {
					id = local[index] = frames.length;
					const f = this.#frameTable[index]!;
					frames.push({ name: f.name, module: f.module, kind: f.kind });
				}
				frameIds[i] = id;
			}
			const count = rowCount[r]!;
			total += count;
			stacks[r] = { host: hostNames.get(rowHost[r]!) ?? '', pid: rowPid[r]!, comm: comms.get(rowComm[r]!) ?? '', frameIds, count };
		}
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

	/**
	 * Reads into the caches the stacks (and their frames) no window stored by this process named:
	 * after a restart, each stack is read from the database once.
	 */
	#loadStacks(stackIds: readonly number[]): void {
		const missing = new Set<number>();
		for (const id of stackIds) if (!this.#stackFrames.has(id)) missing.add(id);
		if (missing.size === 0) return;
		const decoded = new Map<number, number[]>();
		const unknownFrames = new Set<number>();
		for (const [id, blob] of this.#db
			.prepare('SELECT id, frame_ids FROM stacks WHERE id IN (SELECT value FROM json_each(?))')
			.raw()
			.iterate(JSON.stringify([...missing])) as Iterable<[number, Buffer]>) {
			const ids = decodeStack(blob);
			for (const f of ids) if (!this.#frameIndexOf.has(f)) unknownFrames.add(f);
			decoded.set(id, ids);
		}
		if (unknownFrames.size > 0) {
			for (const f of this.#db
				.prepare('SELECT id, kind, module, name FROM frames WHERE id IN (SELECT value FROM json_each(?))')
				.all(JSON.stringify([...unknownFrames])) as { id: number; kind: number; module: string; name: string }[]) {
				this.#frameIndex(f.id, { name: f.name, module: f.module, kind: KINDS[f.kind] ?? 'user' });
			}
		}
		for (const [id, ids] of decoded) {
			this.#stackFrames.set(
				id,
				ids.map((f) => {
					const index = this.#frameIndexOf.get(f);
					if (index === undefined) throw new Error(`store corrupt: stack refers to missing frame ${f}`);
					return index;
				}),
			);
		}
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
		if (result.stacks > 0 || result.frames > 0) this.#forgetIds();
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

import { existsSync, readFileSync } from 'node:fs';
import type { UnwindMapping } from '@firesight/native';
import type { ElfSegment } from '@firesight/symbolize';
import { executableMappings, filePaths, loadBias, type ExecutableMapping } from './executable-mappings.ts';
import { DEFER_UNWIND_SECTION_BYTES } from './table-build-job.ts';
import type { BuildOptions, TableBuildResult } from './table-builder.ts';

export type { UnwindMapping };

/** The four Profiler methods the tracker drives. */
export interface UnwindTarget {
	loadUnwindTable(fileId: number, table: Uint8Array): void;
	unloadUnwindTable(fileId: number): void;
	setProcessMappings(pid: number, mappings: readonly UnwindMapping[]): void;
	removeProcess(pid: number): void;
}

/** Builds (or reads from the disk cache) the table of the file at the first readable path. */
export type BuildTable = (paths: readonly string[], options?: BuildOptions) => Promise<TableBuildResult>;

export interface MappingTrackerOptions {
	target: UnwindTarget;
	build: BuildTable;
	procRoot?: string;
	/** How long a table no process maps any more stays loaded, for the next process to map it. */
	graceMs?: number;
	/** How soon the same process's maps may be read again when its samples name unknown addresses. */
	rescanMs?: number;
	/** Processes waiting for their maps to be read; beyond it a process is dropped and counted. */
	maxQueued?: number;
	/** Distinct files known at once (loaded, idle or being built); beyond it a file is counted and walked with frame pointers. */
	maxFiles?: number;
	/** Files with more unwind info than this get their table only once a sample lands in them (DEFER_UNWIND_SECTION_BYTES). */
	deferSectionBytes?: number;
	now?: () => number;
}

/** Losses and outcomes since start, reported as the profile feature's drop counters. */
export interface UnwindTrackerCounters {
	/** Tables that did not fit in the kernel's row budget: their code is walked with frame pointers. */
	unwindTablesFull: number;
	/** Files whose table could not be built (unreadable, not ELF, corrupt unwind info). */
	unwindBuildFailures: number;
	/** Processes whose mappings were not given to the walker (queue full, mapping map full). */
	unwindProcessesDropped: number;
	/** Files not tracked because too many were known at once. */
	unwindFilesDropped: number;
}

/** 'deferred': a big table, built once the walker reports a sample in the file (want()). */
type FileState = 'deferred' | 'building' | 'table' | 'fp';

interface FileEntry {
	/** The disk cache key (build-id, else identity): files with the same key share one table. */
	key: string | undefined;
	fileId: number;
	state: FileState;
	segments: readonly ElfSegment[];
	rows: number;
	/** Processes mapping it. */
	readonly users: Set<number>;
	/** When the last user went, for the grace period. */
	idleSince: number | undefined;
	/** The `dev:inode` identities that lead here. */
	readonly identities: Set<string>;
	/** A mapping of it, to find its paths through a process that maps it when its table is wanted. */
	mapping: Extract<ExecutableMapping, { kind: 'file' }>;
}

interface ProcessEntry {
	mappings: ExecutableMapping[];
	files: Set<FileEntry>;
	scannedAt: number;
}

/** File identities remembered as retried; past it, a file whose reader exited is walked with frame pointers. */
const MAX_RETRIED = 10_000;

/** How often sweep() looks for processes that exited unannounced. */
const LIVENESS_CHECK_MS = 5000;

const EMPTY_COUNTERS: UnwindTrackerCounters = {
	unwindTablesFull: 0,
	unwindBuildFailures: 0,
	unwindProcessesDropped: 0,
	unwindFilesDropped: 0,
};

/**
 * Keeps the BPF walker's view of each process's executable mappings and of the unwind tables they
 * need. A process is read from /proc/PID/maps when first asked about and again when its samples
 * hit addresses no mapping covers (a new mmap); each mapped file's table is built once (off this
 * thread, through the disk cache), loaded once and shared by every process that maps it, by
 * build-id or by device and inode. A table no process maps any more stays for a grace period,
 * so a program run again and again is not reloaded each time. Nothing here waits on a build:
 * a mapping whose table is not ready yet is described as pending until it is, so that the walker
 * counts a stack it cuts there as such (unwindTablePending) rather than as a broken chain.
 */
export class MappingTracker {
	readonly counters: UnwindTrackerCounters = { ...EMPTY_COUNTERS };
	readonly #o: Required<Omit<MappingTrackerOptions, 'target' | 'build'>> & Pick<MappingTrackerOptions, 'target' | 'build'>;
	readonly #byIdentity = new Map<string, FileEntry>();
	readonly #byKey = new Map<string, FileEntry>();
	readonly #files = new Set<FileEntry>();
	readonly #processes = new Map<number, ProcessEntry>();
	/** Pids waiting to be read, in order; a Set keeps each once. */
	readonly #queue = new Set<number>();
	/** Pids whose mappings changed since they were last given to the walker. */
	readonly #dirty = new Set<number>();
	#nextFileId = 1;
	#running: Promise<void> | undefined;
	#closed = false;
	#livenessAt = 0;
	/** Builds under way, for settled(). */
	readonly #building = new Set<Promise<void>>();
	/** Tables built and waiting for their turn to be copied into the kernel. */
	readonly #loads: (() => void)[] = [];
	#loading: Promise<void> | undefined;
	/** File identities already asked for again after their first reader exited. */
	readonly #retried = new Set<string>();
	/** Files whose tables wait to be wanted, by the id the walker reports them with. */
	readonly #deferred = new Map<number, FileEntry>();

	constructor(options: MappingTrackerOptions) {
		this.#o = {
			procRoot: '/proc',
			graceMs: 30_000,
			rescanMs: 1000,
			maxQueued: 4096,
			maxFiles: 4096,
			deferSectionBytes: DEFER_UNWIND_SECTION_BYTES,
			now: Date.now,
			...options,
		};
	}

	/**
	 * A sample landed in a file whose big table waits to be wanted (the walker reports the file id
	 * it was described with): build and load it now. Its stacks count as unwindTablePending until
	 * then, and a table that finds no room is counted as unwindTablesFull, as any other.
	 */
	want(fileId: number): void {
		if (this.#closed) return;
		const f = this.#deferred.get(fileId);
		// No process maps it now (a late report): it waits for the next one that does, or goes idle.
		const pid = f === undefined ? undefined : [...f.users][0];
		if (f === undefined || pid === undefined) return;
		this.#deferred.delete(fileId);
		f.state = 'building';
		this.#startBuild(f, pid, f.mapping, {});
	}

	/** Reads this process's maps soon (at once the first time, else at most once per rescanMs). */
	track(pid: number): void {
		if (this.#closed || this.#queue.has(pid)) return;
		const known = this.#processes.get(pid);
		if (known !== undefined && this.#o.now() - known.scannedAt < this.#o.rescanMs) return;
		if (this.#queue.size >= this.#o.maxQueued) {
			this.counters.unwindProcessesDropped++;
			return;
		}
		this.#queue.add(pid);
		this.#kick();
	}

	/** The process has exited: its mappings go now, its files' tables after the grace period. */
	forget(pid: number): void {
		this.#queue.delete(pid);
		this.#dirty.delete(pid);
		const p = this.#processes.get(pid);
		if (p === undefined) return;
		this.#processes.delete(pid);
		for (const f of p.files) this.#release(f, pid);
		this.#call(() => this.#o.target.removeProcess(pid));
	}

	/**
	 * Unloads tables idle past the grace period, and now and then forgets processes that are gone
	 * without anyone saying so (`firesight record` has no process table). Call after each drain.
	 */
	sweep(): void {
		const now = this.#o.now();
		if (now - this.#livenessAt >= LIVENESS_CHECK_MS) {
			this.#livenessAt = now;
			for (const pid of this.#processes.keys()) if (!existsSync(`${this.#o.procRoot}/${pid}`)) this.forget(pid);
		}
		for (const f of this.#files) {
			if (f.idleSince !== undefined && now - f.idleSince >= this.#o.graceMs) this.#drop(f);
		}
	}

	/** Resolves once every queued process is read and every build under way is loaded. */
	async settled(): Promise<void> {
		while (this.#running !== undefined || this.#building.size > 0 || this.#loading !== undefined) {
			await this.#running;
			await Promise.all([...this.#building]);
			await this.#loading;
		}
	}

	/**
	 * Whether what the walker needs of this process is still on its way: its maps are queued to be
	 * read, or a table of a file it maps is being built or waits to be loaded. Its deferred samples
	 * are worth holding until it is not.
	 */
	loading(pid: number): boolean {
		if (this.#queue.has(pid)) return true;
		const p = this.#processes.get(pid);
		if (p === undefined) return false;
		for (const f of p.files) if (f.state === 'building') return true;
		return false;
	}

	/** Processes and files held now, for /metrics and tests. */
	stats(): { processes: number; files: number; tables: number; rows: number; queued: number; deferred: number } {
		let tables = 0;
		let rows = 0;
		const deferred = this.#deferred.size;
		for (const f of this.#files) {
			if (f.state !== 'table') continue;
			tables++;
			rows += f.rows;
		}
		return { processes: this.#processes.size, files: this.#files.size, tables, rows, queued: this.#queue.size, deferred };
	}

	/** The mappings last given to the walker for a pid (for tests and the bench). */
	mappingsOf(pid: number): UnwindMapping[] | undefined {
		const p = this.#processes.get(pid);
		return p === undefined ? undefined : this.#walkerMappings(p);
	}

	/** Stops reading maps; leaves the kernel side to the profiler's close(). */
	close(): void {
		this.#closed = true;
		this.#queue.clear();
	}

	#kick(): void {
		this.#running ??= this.#drainQueue().finally(() => (this.#running = undefined));
	}

	/** Reads queued processes a few at a time, yielding between, so a burst never holds the thread. */
	async #drainQueue(): Promise<void> {
		// Never on the caller's stack: track() is called from the drain.
		await new Promise<void>((r) => setImmediate(r));
		while (this.#queue.size > 0 && !this.#closed) {
			let n = 0;
			for (const pid of this.#queue) {
				this.#queue.delete(pid);
				this.#scan(pid);
				if (++n === 16) break;
			}
			this.#publish();
			await new Promise<void>((r) => setImmediate(r));
		}
		this.#publish();
	}

	#scan(pid: number): void {
		let text: string;
		try {
			text = readFileSync(`${this.#o.procRoot}/${pid}/maps`, 'utf8');
		} catch {
			// Gone already (or never ours to read): nothing to walk.
			this.forget(pid);
			return;
		}
		const mappings = executableMappings(text);
		// A kernel thread (or a process mid-exec): nothing to walk, and no slot in the kernel's map.
		if (mappings.length === 0) {
			this.forget(pid);
			return;
		}
		const prev = this.#processes.get(pid);
		const files = new Set<FileEntry>();
		for (const m of mappings) {
			if (m.kind !== 'file') continue;
			const f = this.#fileFor(pid, m);
			if (f !== undefined) files.add(f);
		}
		for (const f of files) {
			f.users.add(pid);
			f.idleSince = undefined;
		}
		if (prev !== undefined) for (const f of prev.files) if (!files.has(f)) this.#release(f, pid);
		if (prev !== undefined && sameMappings(prev.mappings, mappings)) {
			prev.scannedAt = this.#o.now();
			prev.files = files;
			return;
		}
		this.#processes.set(pid, { mappings, files, scannedAt: this.#o.now() });
		this.#dirty.add(pid);
	}

	#fileFor(pid: number, m: Extract<ExecutableMapping, { kind: 'file' }>): FileEntry | undefined {
		const known = this.#byIdentity.get(m.file.identity);
		if (known !== undefined) return known;
		if (this.#files.size >= this.#o.maxFiles) {
			this.counters.unwindFilesDropped++;
			return undefined;
		}
		const f: FileEntry = {
			key: undefined,
			fileId: 0,
			state: 'building',
			segments: [],
			rows: 0,
			users: new Set(),
			idleSince: undefined,
			identities: new Set([m.file.identity]),
			mapping: m,
		};
		this.#files.add(f);
		this.#byIdentity.set(m.file.identity, f);
		this.#startBuild(f, pid, m, { deferAbove: this.#o.deferSectionBytes });
		return f;
	}

	#startBuild(f: FileEntry, pid: number, m: Extract<ExecutableMapping, { kind: 'file' }>, options: BuildOptions): void {
		const done = this.#o
			.build(filePaths(this.#o.procRoot, pid, m), options)
			.then((r) => this.#built(f, r))
			.finally(() => this.#building.delete(done));
		this.#building.add(done);
	}

	#built(f: FileEntry, r: TableBuildResult): void {
		if (!this.#files.has(f) || this.#closed) return;
		if (!r.ok && r.gone && this.#retried.size < MAX_RETRIED && ![...f.identities].some((id) => this.#retried.has(id))) {
			// The process that showed us the file exited before it could be read: ask the others
			// that map it (once), rather than walk this file with frame pointers from now on.
			for (const id of f.identities) this.#retried.add(id);
			this.#forgetFile(f);
			for (const pid of f.users) {
				this.#processes.get(pid)?.files.delete(f);
				this.#queue.add(pid);
			}
			this.#kick();
			return;
		}
		if (!r.ok && r.deferred) {
			// Described to the walker as pending, under an id its samples there report.
			f.state = 'deferred';
			f.fileId = this.#nextFileId++;
			this.#deferred.set(f.fileId, f);
			for (const pid of f.users) this.#dirty.add(pid);
			this.#publish();
			return;
		}
		if (!r.ok) {
			if (r.tooLarge) this.counters.unwindTablesFull++;
			// Gone again: no reader left, not a broken file; the entry goes with its users.
			else if (!r.gone) this.counters.unwindBuildFailures++;
			f.state = 'fp';
		} else {
			f.segments = r.segments;
			// The same file reached by another identity (another mount namespace, a copy): share it.
			const twin = this.#byKey.get(r.key);
			if (twin !== undefined && twin !== f) {
				this.#merge(f, twin);
				this.#publish();
				return;
			}
			f.key = r.key;
			this.#byKey.set(r.key, f);
			if (r.bytes !== undefined) {
				this.#queueLoad(f, r.bytes, r.rows);
				return;
			}
			f.state = 'fp';
		}
		for (const pid of f.users) this.#dirty.add(pid);
		this.#publish();
	}

	/**
	 * Loads go one per turn of the event loop: copying node's rows into the kernel takes a good
	 * part of a second on a busy host, and a hundred tables at start must not hold up a drain.
	 */
	#queueLoad(f: FileEntry, bytes: Uint8Array, rows: number): void {
		this.#loads.push(() => {
			if (!this.#files.has(f) || this.#closed) return;
			this.#load(f, bytes, rows);
			for (const pid of f.users) this.#dirty.add(pid);
			this.#publish();
		});
		this.#runLoads();
	}

	#runLoads(): void {
		if (this.#loading !== undefined) return;
		this.#loading = (async () => {
			for (let load = this.#loads.shift(); load !== undefined; load = this.#loads.shift()) {
				await new Promise<void>((r) => setImmediate(r));
				load();
			}
		})().finally(() => {
			this.#loading = undefined;
			// A load queued between the loop's end and here.
			if (this.#loads.length > 0) this.#runLoads();
		});
	}

	#load(f: FileEntry, bytes: Uint8Array, rows: number): void {
		f.fileId = this.#nextFileId++;
		for (let attempt = 0; ; attempt++) {
			try {
				this.#o.target.loadUnwindTable(f.fileId, bytes);
				f.state = 'table';
				f.rows = rows;
				return;
			} catch (err) {
				// Room may be held by tables no process maps any more: give them up first.
				if (isUnwindFull(err) && attempt === 0 && this.#dropIdle() > 0) continue;
				if (isUnwindFull(err)) this.counters.unwindTablesFull++;
				else this.counters.unwindBuildFailures++;
				f.state = 'fp';
				return;
			}
		}
	}

	/** Moves the users and identities of a duplicate entry onto the one holding the table. */
	#merge(dup: FileEntry, into: FileEntry): void {
		this.#files.delete(dup);
		for (const id of dup.identities) {
			into.identities.add(id);
			this.#byIdentity.set(id, into);
		}
		for (const pid of dup.users) {
			into.users.add(pid);
			into.idleSince = undefined;
			const p = this.#processes.get(pid);
			if (p !== undefined) {
				p.files.delete(dup);
				p.files.add(into);
			}
			this.#dirty.add(pid);
		}
	}

	#release(f: FileEntry, pid: number): void {
		f.users.delete(pid);
		if (f.users.size === 0) f.idleSince = this.#o.now();
	}

	#dropIdle(): number {
		let n = 0;
		for (const f of this.#files) {
			if (f.users.size === 0 && f.state === 'table') {
				this.#drop(f);
				n++;
			}
		}
		return n;
	}

	#forgetFile(f: FileEntry): void {
		this.#files.delete(f);
		if (this.#deferred.get(f.fileId) === f) this.#deferred.delete(f.fileId);
		for (const id of f.identities) if (this.#byIdentity.get(id) === f) this.#byIdentity.delete(id);
		if (f.key !== undefined && this.#byKey.get(f.key) === f) this.#byKey.delete(f.key);
	}

	#drop(f: FileEntry): void {
		this.#forgetFile(f);
		if (f.state === 'table') this.#call(() => this.#o.target.unloadUnwindTable(f.fileId));
		f.state = 'fp';
	}

	#publish(): void {
		for (const pid of this.#dirty) {
			const p = this.#processes.get(pid);
			if (p === undefined) continue;
			const mappings = this.#walkerMappings(p);
			try {
				this.#o.target.setProcessMappings(pid, mappings);
			} catch {
				this.counters.unwindProcessesDropped++;
			}
		}
		this.#dirty.clear();
	}

	#walkerMappings(p: ProcessEntry): UnwindMapping[] {
		const out: UnwindMapping[] = [];
		for (const m of p.mappings) {
			if (m.kind !== 'file') {
				// The walker holds a bounded number per process: adjacent JIT regions are one.
				const last = out.at(-1);
				if (last !== undefined && last.kind === m.kind && last.end === m.start) last.end = m.end;
				else out.push({ start: m.start, end: m.end, bias: 0n, fileId: 0, kind: m.kind });
				continue;
			}
			const f = this.#byIdentity.get(m.file.identity);
			// Not tracked: frame pointers. Being built: pending, walked by frame pointers meanwhile.
			// Deferred: pending too, with the id a sample there reports to want its table.
			if (f === undefined || f.state === 'building' || f.state === 'deferred') {
				const kind = f === undefined ? 'fp' : 'pending';
				out.push({ start: m.start, end: m.end, bias: 0n, fileId: f?.state === 'deferred' ? f.fileId : 0, kind });
				continue;
			}
			const bias = loadBias(m, f.segments);
			if (f.state === 'table' && bias !== undefined) out.push({ start: m.start, end: m.end, bias, fileId: f.fileId, kind: 'table' });
			else out.push({ start: m.start, end: m.end, bias: bias ?? 0n, fileId: 0, kind: 'fp' });
		}
		return out;
	}

	#call(op: () => void): void {
		try {
			op();
		} catch {
			// The profiler is closing, or the entry is already gone: nothing left to undo.
		}
	}
}

/** The kernel's table maps have no room for another table's rows. */
export function isUnwindFull(err: unknown): boolean {
	const e = err as { code?: unknown; op?: unknown } | null;
	return typeof e === 'object' && e !== null && (e.code === 'unwind-full' || e.op === 'unwind-full');
}

function sameMappings(a: readonly ExecutableMapping[], b: readonly ExecutableMapping[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) {
		const x = a[i]!;
		const y = b[i]!;
		if (x.kind !== y.kind || x.start !== y.start || x.end !== y.end) return false;
		if (x.kind === 'file' && y.kind === 'file' && (x.offset !== y.offset || x.file.identity !== y.file.identity)) return false;
	}
	return true;
}

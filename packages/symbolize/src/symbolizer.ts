import { existsSync, readFileSync } from 'node:fs';
import { FileSource, MemorySource, type ByteSource } from './byte-source.ts';
import { defaultDemangler, looksMangled, type Demangler } from './demangle.ts';
import { ElfCache, type LoadedElf } from './elf-cache.ts';
import type { Frame, FrameKind } from './frame.ts';
import { parseKallsyms } from './kallsyms.ts';
import { PerfMap } from './perf-map.ts';
import { DEFAULT_PROCESS_SNAPSHOT_BYTES, readNsPid, readSnapshot, snapshotBytes, type ProcessSnapshot } from './process-snapshot.ts';
import { findMapping, isFileBacked, mapFilesName, parseMaps, type Mapping } from './proc-maps.ts';
import { LruCache } from './lru-cache.ts';
import type { SymbolTable } from './symbol-table.ts';

export interface SymbolizerOptions {
	/** Where procfs is mounted. Default `/proc`. */
	procRoot?: string;
	/**
	 * Directory holding `perf-PID.map` files. When unset, the process's own `/tmp` (through
	 * `/proc/PID/root`, named by its namespace pid) is tried first, then `/tmp`.
	 */
	perfMapDir?: string;
	/** Default `/proc/kallsyms`. */
	kallsymsPath?: string;
	/** Budget of cached ELF symbol tables across files, in bytes. Default 64 MiB (DEFAULT_ELF_CACHE_BYTES). */
	maxCachedSymbolBytes?: number;
	/**
	 * Budget of process snapshots (mappings, maps text, perf map), in bytes as estimated by
	 * snapshotBytes; least recently used go first. Default 32 MiB (DEFAULT_PROCESS_SNAPSHOT_BYTES).
	 */
	maxProcessSnapshotBytes?: number;
	demangler?: Demangler;
}

export interface UserOptions {
	/**
	 * Whether ips[0] is the exact sampled instruction (default true). Every other entry is a return
	 * address, which points after its call: `ip - 1` is looked up so a call that ends a function is
	 * charged to that function, as perf does. Pass false when ips[0] is a return address too.
	 */
	firstIsLeaf?: boolean;
}

/** A maps snapshot younger than this is reused by observe() without re-reading. */
const OBSERVE_FRESH_MS = 1000;
/**
 * At most this often per process, an address outside every known mapping re-reads its maps. Each
 * re-read that finds the maps unchanged doubles the wait, up to MISS_REREAD_MAX_MS: a process
 * whose stacks hold garbage return addresses (code built without frame pointers) would otherwise
 * have its maps read five times a second for nothing.
 */
const MISS_REREAD_MS = 200;
const MISS_REREAD_MAX_MS = 10_000;
/** At most this often, a kernel address no symbol covers reloads kallsyms (modules, BPF programs). */
const KALLSYMS_RELOAD_MS = 10_000;
/** At most this often, a process without a perf map is checked for one again. */
const PERF_MAP_PROBE_MS = 1000;
const KERNEL_MODULE = '[kernel.kallsyms]';
/** The name of a frame of a process that exited before its maps were read. */
const EXITED = '[exited]';
/** The name of an address in no mapping of the process. */
const OUTSIDE_MAPPINGS = '[unknown]';
const JIT_MODULE = '[jit]';

type Counter =
	| 'userFrames'
	| 'userSymbolized'
	| 'jitSymbolized'
	| 'kernelFrames'
	| 'kernelSymbolized'
	| 'missNoProcess'
	| 'missNoMapping'
	| 'missNoFile'
	| 'missNoSymbol'
	| 'kernelMiss'
	| 'mapsReads'
	| 'mapsRereadsOnMiss'
	| 'perfMapReads'
	| 'kallsymsLoads';

/**
 * Turns sampled instruction addresses into frames. Synchronous and cache-heavy: ELF symbol tables
 * are shared across processes by file identity and build-id, kallsyms is loaded once, perf maps
 * are read incrementally. Every address yields a frame; what could not be named is shown as
 * `module+0xoffset` and counted.
 */
export class Symbolizer {
	private readonly procRoot: string;
	private readonly perfMapDir: string | undefined;
	private readonly kallsymsPath: string;
	private readonly elves: ElfCache;
	private readonly procs: LruCache<number, ProcessSnapshot>;
	private readonly demangler: Demangler;
	private readonly counters: Record<Counter, number> = {
		userFrames: 0,
		userSymbolized: 0,
		jitSymbolized: 0,
		kernelFrames: 0,
		kernelSymbolized: 0,
		missNoProcess: 0,
		missNoMapping: 0,
		missNoFile: 0,
		missNoSymbol: 0,
		kernelMiss: 0,
		mapsReads: 0,
		mapsRereadsOnMiss: 0,
		perfMapReads: 0,
		kallsymsLoads: 0,
	};
	private kallsyms: SymbolTable | undefined;
	private kallsymsAt = 0;
	private vdsoRange: { start: number; size: number } | null | undefined;

	constructor(opts: SymbolizerOptions = {}) {
		this.procRoot = opts.procRoot ?? '/proc';
		this.perfMapDir = opts.perfMapDir;
		this.kallsymsPath = opts.kallsymsPath ?? '/proc/kallsyms';
		this.elves = new ElfCache({ maxBytes: opts.maxCachedSymbolBytes });
		// Weighed in bytes, not counted: a count let a host that starts many short-lived processes
		// keep thousands of snapshots, and a few JIT runtimes with big perf maps weigh as much.
		this.procs = new LruCache(opts.maxProcessSnapshotBytes ?? DEFAULT_PROCESS_SNAPSHOT_BYTES, snapshotBytes);
		this.demangler = opts.demangler ?? defaultDemangler();
	}

	/**
	 * Snapshots the process's mappings. Call it when a pid is first seen; later calls within a
	 * second are free, and an unchanged maps file is not re-parsed. A pid reused by a new process
	 * (different start time) gets a fresh snapshot. Does nothing for a pid already gone.
	 */
	observe(pid: number): void {
		const prev = this.procs.get(pid);
		if (prev !== undefined && Date.now() - prev.readAt < OBSERVE_FRESH_MS) return;
		this.reread(pid, prev);
	}

	/**
	 * Frames for a user stack, in the same order and length as `ips`; ips[0] is taken as the leaf
	 * (see UserOptions). Uses the live process when it exists, else the snapshot from `observe`.
	 */
	user(pid: number, ips: readonly bigint[], opts: UserOptions = {}): Frame[] {
		const firstIsLeaf = opts.firstIsLeaf ?? true;
		let snap = this.procs.get(pid);
		if (snap === undefined) snap = this.reread(pid, undefined);
		const out: Frame[] = new Array<Frame>(ips.length);
		const pending: { table: SymbolTable; index: number; at: number; module: string }[] = [];
		let perfMapRefreshed = false;
		for (let k = 0; k < ips.length; k++) {
			const ip = ips[k]!;
			const addr = (k > 0 || !firstIsLeaf) && ip > 0n ? ip - 1n : ip;
			this.counters.userFrames++;
			if (snap === undefined) {
				// Gone before its maps were read: nothing can tell a code address from stack bytes.
				this.counters.missNoProcess++;
				out[k] = { name: EXITED, module: '', kind: 'user' };
				continue;
			}
			let m = findMapping(snap.maps, addr);
			if (m === undefined && Date.now() - snap.missRereadAt >= snap.missRereadEveryMs) {
				// A library loaded (or code mapped) after the snapshot: look again while it lives.
				this.counters.mapsRereadsOnMiss++;
				const before = snap.mapsText;
				snap.missRereadAt = Date.now();
				snap = this.reread(pid, snap) ?? snap;
				snap.missRereadEveryMs = snap.mapsText === before ? Math.min(MISS_REREAD_MAX_MS, snap.missRereadEveryMs * 2) : MISS_REREAD_MS;
				m = findMapping(snap.maps, addr);
			}
			if (m !== undefined && (isFileBacked(m) || m.path === '[vdso]')) {
				const module = moduleName(m);
				const elf = this.elfFor(snap, m);
				const fileOff = addr - m.start + m.offset;
				if (elf === undefined) {
					this.counters.missNoFile++;
					out[k] = unknownFrame(module, module, ip - m.start + m.offset);
					continue;
				}
				const seg = elf.textSegmentFor(fileOff);
				const i = seg === undefined ? -1 : elf.symbols.find(fileOff - seg.offset + seg.vaddr);
				if (i >= 0) {
					this.counters.userSymbolized++;
					if (elf.symbols.isFinal(i)) out[k] = { name: elf.symbols.name(i), module, kind: 'user' };
					else pending.push({ table: elf.symbols, index: i, at: k, module });
					continue;
				}
			}
			// Anonymous executable memory, or a file without a symbol here: a JIT may have named it.
			const jit = this.jitName(snap, addr, !perfMapRefreshed);
			perfMapRefreshed ||= jit.refreshed;
			if (jit.name !== undefined) {
				this.counters.jitSymbolized++;
				out[k] = { name: jit.name, module: JIT_MODULE, kind: 'jit' };
			} else if (m === undefined) {
				// Outside every mapping is no code: most often stack bytes a frame-pointer walk took for a
				// return address (`[unknown]+0x7370616d2f666c` was ASCII). Its value names nothing.
				this.counters.missNoMapping++;
				out[k] = { name: OUTSIDE_MAPPINGS, module: '', kind: 'user' };
			} else if (isFileBacked(m) || m.path === '[vdso]') {
				this.counters.missNoSymbol++;
				const module = moduleName(m);
				out[k] = unknownFrame(module, module, ip - m.start + m.offset);
			} else {
				// Memory no file backs and no perf map names (a JIT's code, [heap], [stack]) is named by
				// its region alone. Its address names nothing a reader can use and moves as the JIT
				// recompiles; as part of the name it made each return address into JIT code a new frame,
				// and so a new stack, for as long as such a process ran: the hub's store kept adding frame
				// and stack rows, and filled its caches (a soak of `up`, whose own JavaScript is such code).
				this.counters.missNoSymbol++;
				out[k] = { name: m.path.startsWith('[') && !m.path.startsWith('[anon') ? m.path : '[anon]', module: '', kind: 'user' };
			}
		}
		if (pending.length > 0) this.finishNames(pending, out);
		return out;
	}

	/**
	 * Frames for a kernel stack, same order and length; ips[0] is the leaf, the rest are return
	 * addresses (looked up at ip - 1). Module symbols carry their module in brackets.
	 */
	kernel(ips: readonly bigint[]): Frame[] {
		let table = this.kernelTable(false);
		const out: Frame[] = new Array<Frame>(ips.length);
		for (let k = 0; k < ips.length; k++) {
			const ip = ips[k]!;
			const addr = k > 0 && ip > 0n ? ip - 1n : ip;
			this.counters.kernelFrames++;
			let i = table.find(addr);
			if (i < 0 && Date.now() - this.kallsymsAt >= KALLSYMS_RELOAD_MS) {
				table = this.kernelTable(true);
				i = table.find(addr);
			}
			if (i < 0) {
				this.counters.kernelMiss++;
				out[k] = unknownFrame(KERNEL_MODULE, KERNEL_MODULE, ip, 'kernel');
				continue;
			}
			this.counters.kernelSymbolized++;
			const mod = table.tag(i);
			out[k] = { name: table.name(i), module: mod === undefined ? KERNEL_MODULE : `[${mod}]`, kind: 'kernel' };
		}
		return out;
	}

	/** Drops a pid's snapshot (call when the process has exited and its samples are symbolized). */
	forget(pid: number): void {
		this.procs.delete(pid);
	}

	/**
	 * Drops the snapshots `gone` picks, given each one's pid and when its maps were last read
	 * (Date.now()): for a caller that knows which processes run, those that exited unannounced.
	 * Returns how many were dropped.
	 */
	forgetIf(gone: (pid: number, readAt: number) => boolean): number {
		let n = 0;
		for (const [pid, snap] of this.procs.entries()) {
			if (!gone(pid, snap.readAt)) continue;
			this.procs.delete(pid);
			n++;
		}
		return n;
	}

	/**
	 * Counters (monotonic) and gauges (`elfCached`, `elfCachedBytes`, `processes`,
	 * `processSnapshotBytes`, `kallsymsSymbols`) for metrics.
	 */
	stats(): Record<string, number> {
		return {
			...this.counters,
			elfParsed: this.elves.stats.opened,
			elfSharedByBuildId: this.elves.stats.sharedByBuildId,
			elfDebugFiles: this.elves.stats.debugFiles,
			elfOpenFailures: this.elves.stats.failures,
			elfEvictions: this.elves.evictions,
			// A snapshot let go past maxProcessSnapshotBytes is read again when its pid is next seen;
			// for a process gone by then, its frames count as missNoProcess.
			processEvictions: this.procs.evictions,
			elfCached: this.elves.size,
			elfCachedBytes: this.elves.bytes,
			processes: this.procs.size,
			processSnapshotBytes: this.procs.weight,
			kallsymsSymbols: this.kallsyms?.size ?? 0,
		};
	}

	private reread(pid: number, prev: ProcessSnapshot | undefined): ProcessSnapshot | undefined {
		this.counters.mapsReads++;
		const snap = readSnapshot(this.procRoot, pid, prev);
		// Set even when it is `prev`: its maps may have been read again in place, and weigh anew.
		if (snap !== undefined) this.procs.set(pid, snap);
		return snap;
	}

	private elfFor(snap: ProcessSnapshot, m: Mapping): LoadedElf | undefined {
		if (m.path === '[vdso]') return this.elves.get('[vdso]', () => this.vdsoSources());
		const pidDir = `${this.procRoot}/${snap.pid}`;
		const sources = function* (): Iterable<() => ByteSource> {
			// map_files reaches the very inode mapped, even deleted or in another mount namespace.
			yield () => new FileSource(`${pidDir}/map_files/${mapFilesName(m)}`);
			if (!m.deleted) {
				yield () => new FileSource(`${pidDir}/root${m.path}`);
				yield () => new FileSource(m.path);
			}
		};
		return this.elves.get(`${m.dev}:${m.inode}`, sources, [`${pidDir}/root`, '']);
	}

	/** The vDSO is the same image in every process of this kernel: read our own. */
	private *vdsoSources(): Iterable<() => ByteSource> {
		if (this.vdsoRange === undefined) {
			this.vdsoRange = null;
			try {
				const own = parseMaps(readFileSync('/proc/self/maps', 'utf8')).find((x) => x.path === '[vdso]');
				if (own !== undefined) this.vdsoRange = { start: Number(own.start), size: Number(own.end - own.start) };
			} catch {
				// No vDSO symbols then.
			}
		}
		const r = this.vdsoRange;
		if (r !== null) yield () => new MemorySource('/proc/self/mem', r.start, r.size);
	}

	private jitName(snap: ProcessSnapshot, addr: bigint, mayRefresh: boolean): { name: string | undefined; refreshed: boolean } {
		let pm = snap.perfMap;
		if (pm === undefined) {
			// Most processes have no perf map: look for one at most once per PERF_MAP_PROBE_MS.
			const now = Date.now();
			if (now - snap.perfMapProbedAt < PERF_MAP_PROBE_MS) return { name: undefined, refreshed: false };
			snap.perfMapProbedAt = now;
			const path = this.perfMapPath(snap);
			if (path === undefined) return { name: undefined, refreshed: false };
			pm = snap.perfMap = new PerfMap(path);
		}
		let name = pm.lookup(addr);
		if (name !== undefined || !mayRefresh) return { name, refreshed: false };
		// Unknown address: the runtime may have appended since we last read.
		this.counters.perfMapReads++;
		pm.refresh();
		name = pm.lookup(addr);
		// After the lookup, which built the table again: the perf map's new entries and table weigh.
		this.procs.reweigh(snap.pid);
		return { name, refreshed: true };
	}

	private perfMapPath(snap: ProcessSnapshot): string | undefined {
		const host = `${this.perfMapDir ?? '/tmp'}/perf-${snap.pid}.map`;
		if (this.perfMapDir !== undefined) return existsSync(host) ? host : undefined;
		snap.nsPid ??= readNsPid(this.procRoot, snap.pid);
		if (snap.nsPid !== undefined) {
			const inner = `${this.procRoot}/${snap.pid}/root/tmp/perf-${snap.nsPid}.map`;
			if (existsSync(inner)) return inner;
		}
		return existsSync(host) ? host : undefined;
	}

	private kernelTable(reload: boolean): SymbolTable {
		if (this.kallsyms !== undefined && !reload) return this.kallsyms;
		this.kallsymsAt = Date.now();
		this.counters.kallsymsLoads++;
		try {
			this.kallsyms = parseKallsyms(readFileSync(this.kallsymsPath));
		} catch {
			this.kallsyms ??= parseKallsyms('');
		}
		return this.kallsyms;
	}

	/** Demangles the names hit in this call in one batch, then fills their frames. */
	private finishNames(pending: { table: SymbolTable; index: number; at: number; module: string }[], out: Frame[]): void {
		const todo = pending.filter((p) => !p.table.isFinal(p.index) && looksMangled(p.table.name(p.index)));
		const raw = [...new Set(todo.map((p) => p.table.name(p.index)))];
		const done = this.demangler.demangle(raw);
		const byRaw = new Map(raw.map((r, j) => [r, done[j] ?? r]));
		for (const p of todo) p.table.setFinalName(p.index, byRaw.get(p.table.name(p.index)) ?? p.table.name(p.index));
		for (const p of pending) {
			if (!p.table.isFinal(p.index)) p.table.setFinalName(p.index, p.table.name(p.index));
			out[p.at] = { name: p.table.name(p.index), module: p.module, kind: 'user' };
		}
	}
}

function moduleName(m: Mapping): string {
	const slash = m.path.lastIndexOf('/');
	return slash >= 0 ? m.path.slice(slash + 1) : m.path;
}

function unknownFrame(label: string, module: string, offset: bigint, kind: FrameKind = 'user'): Frame {
	return { name: `${label}+0x${offset.toString(16)}`, module, kind };
}

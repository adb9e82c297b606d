import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { exportsSymbol } from './elf-exports.ts';

/** What discovery needs from the tracer (TlsTracer fits; tests may pass a fake). */
export interface ProbeTarget {
	attachFile(key: string, path: string): string[];
	addProcess(tgid: number): void;
}

export interface AttachedFile {
	key: string;
	/** The path it was first seen by (inside the process's mount namespace). */
	path: string;
	functions: string[];
	kind: 'libssl' | 'executable';
}

export interface DiscoveryStats {
	attachedFiles: number;
	attachFailures: number;
	processesScanned: number;
	tlsProcesses: number;
}

const LIBSSL = /^libssl\.so(\.|$)/;
/** Rescans after exec: shared libraries are mapped by the dynamic loader after the exec event. */
const RESCAN_DELAYS_MS = [20, 200, 1000];

/**
 * Finds the files to put uprobes in: every OpenSSL libssl.so* mapped by a process (NSS's
 * libssl3.so is another library and is not matched), every executable whose .dynsym defines
 * SSL_write (node), and the libssl.so* the dynamic loader would hand out, attached before anyone
 * maps them. Each file is attached once, by device and inode, whatever path reaches it.
 *
 * The race with new processes: an exec event reaches us after the exec, and attaching takes a
 * few milliseconds, so an executable that carries its own OpenSSL (node) and does TLS within
 * that time loses its first calls. System libssl has no such window: it is attached at start, so
 * its probes are in place before any new process maps it. A libssl loaded from an unusual path
 * is found by the rescans after exec (20 ms, 200 ms, 1 s), or by dlopen's next exec/start scan.
 */
export class TargetDiscovery {
	readonly files = new Map<string, AttachedFile>();
	readonly stats: DiscoveryStats = { attachedFiles: 0, attachFailures: 0, processesScanned: 0, tlsProcesses: 0 };
	#target: ProbeTarget;
	#checked = new Map<string, boolean>(); // dev:ino -> is a target
	#tlsPids = new Set<number>();
	#timers = new Set<NodeJS.Timeout>();
	#selfPid: number;
	#onError: (err: Error) => void;

	constructor(target: ProbeTarget, opts: { selfPid?: number; onError?: (err: Error) => void } = {}) {
		this.#target = target;
		this.#selfPid = opts.selfPid ?? process.pid;
		this.#onError = opts.onError ?? (() => {});
	}

	/** Attaches the system libssl and scans every running process. */
	start(): void {
		for (const path of systemLibssl()) this.#consider(path, 'libssl');
		for (const name of readdirSync('/proc')) {
			const pid = Number(name);
			if (Number.isInteger(pid) && pid > 0) this.scanProcess(pid);
		}
	}

	/** A process exec'd: check its executable now and its libraries once the loader has mapped them. */
	onExec(pid: number): void {
		this.scanProcess(pid, true);
		for (const delay of RESCAN_DELAYS_MS) {
			const t = setTimeout(() => {
				this.#timers.delete(t);
				this.scanProcess(pid);
			}, delay);
			t.unref();
			this.#timers.add(t);
		}
	}

	onExit(pid: number): void {
		this.#tlsPids.delete(pid);
	}

	/** Whether a process is known to map an attached file. */
	isTlsProcess(pid: number): boolean {
		return this.#tlsPids.has(pid);
	}

	scanProcess(pid: number, exeOnly = false): void {
		if (pid === this.#selfPid) return;
		this.stats.processesScanned++;
		const root = `/proc/${pid}/root`;
		let found = false;
		try {
			const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
			if (this.#consider(`${root}${exe}`, 'executable', exe)) found = true;
		} catch {
			return; // gone, or a kernel thread
		}
		if (!exeOnly) {
			let maps: string;
			try {
				maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
			} catch {
				return;
			}
			const seen = new Set<string>();
			// Every exec on the host is scanned (and scanned again as its libraries load), and most
			// processes map no libssl: one search of the text spares them the walk line by line.
			const lines = maps.includes('libssl.so') ? maps.split('\n') : [];
			for (const line of lines) {
				if (!line.includes('libssl.so')) continue;
				const slash = line.indexOf('/');
				if (slash < 0) continue;
				const path = line.slice(slash).replace(/ \(deleted\)$/, '');
				if (seen.has(path) || !LIBSSL.test(basename(path))) continue;
				seen.add(path);
				if (this.#consider(`${root}${path}`, 'libssl', path)) found = true;
			}
		}
		if (found && !this.#tlsPids.has(pid)) {
			this.#tlsPids.add(pid);
			this.stats.tlsProcesses = this.#tlsPids.size;
			try {
				this.#target.addProcess(pid);
			} catch (err) {
				this.#onError(err as Error);
			}
		}
	}

	stop(): void {
		for (const t of this.#timers) clearTimeout(t);
		this.#timers.clear();
	}

	/** Attaches the file if it is a target not attached yet; returns whether it is a target. */
	#consider(path: string, kind: AttachedFile['kind'], shownPath = path): boolean {
		let key: string;
		try {
			const st = statSync(path);
			if (!st.isFile()) return false;
			key = `${st.dev}:${st.ino}`;
		} catch {
			return false;
		}
		const known = this.#checked.get(key);
		if (known !== undefined) return known;
		// A libssl.so* that lacks SSL_write is not OpenSSL's; an executable that has it carries OpenSSL.
		const isTarget = exportsSymbol(path, 'SSL_write');
		this.#checked.set(key, isTarget);
		if (!isTarget) return false;
		try {
			const functions = this.#target.attachFile(key, path);
			this.files.set(key, { key, path: shownPath, functions, kind });
			this.stats.attachedFiles = this.files.size;
		} catch (err) {
			this.stats.attachFailures++;
			this.#checked.set(key, false);
			this.#onError(err as Error);
			return false;
		}
		return true;
	}
}

/** OpenSSL's libssl.so* as the dynamic loader's cache lists them (ldconfig -p). */
function systemLibssl(): string[] {
	let out = '';
	for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
		try {
			out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
			break;
		} catch {
			// try the next
		}
	}
	const paths = new Set<string>();
	for (const line of out.split('\n')) {
		const m = /^\s*(libssl\.so\S*) .*=> (\S+)$/.exec(line);
		if (m && LIBSSL.test(m[1]!)) paths.add(m[2]!);
	}
	return [...paths];
}

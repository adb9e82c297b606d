import { accessSync, constants, readFileSync } from 'node:fs';

const BTF_PATH = '/sys/kernel/btf/vmlinux';

/** A failed kernel operation, with what the user can do about it. */
export class NativeError extends Error {
	override readonly name = 'NativeError';
	constructor(
		/** The libbpf or syscall step that failed, e.g. `perf_event_open`. */
		readonly op: string,
		readonly errno: number,
		message: string,
		/** libbpf's log (verifier output included) at the time of the failure. */
		readonly detail = '',
	) {
		super(message);
	}
}

const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;
const EINVAL = 22;
const ENOSYS = 38;
const EOPNOTSUPP = 95;

/** Checks what a BPF tool needs before loading one, so the error names the cause, not a symptom. */
export function checkBpfPrerequisites(): void {
	if (typeof process.getuid === 'function' && process.getuid() !== 0) {
		const capEff = readCapEff();
		const CAP_SYS_ADMIN = 21n,
			CAP_PERFMON = 38n,
			CAP_BPF = 39n;
		const has = (bit: bigint) => capEff !== undefined && ((capEff >> bit) & 1n) === 1n;
		if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
			throw new NativeError(
				'capabilities',
				EPERM,
				'firesight needs root, or the CAP_BPF and CAP_PERFMON capabilities, to load eBPF programs. ' +
					'Run it with sudo, or grant them: sudo setcap cap_bpf,cap_perfmon+ep "$(command -v node)"',
			);
		}
	}
	try {
		accessSync(BTF_PATH, constants.R_OK);
	} catch {
		throw new NativeError(
			'btf',
			ENOENT,
			`this kernel has no BTF (${BTF_PATH} is missing). Firesight's CO-RE programs need a kernel ` +
				'built with CONFIG_DEBUG_INFO_BTF=y (5.8 or later; most distribution kernels have it).',
		);
	}
}

function readCapEff(): bigint | undefined {
	try {
		const status = readFileSync('/proc/self/status', 'utf8');
		const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
		return m ? BigInt(`0x${m[1]}`) : undefined;
	} catch {
		return undefined;
	}
}

/** Turns the addon's plain Error {op, errno, detail} into a NativeError with a message a user can act on. */
export function toNativeError(err: unknown): NativeError {
	if (err instanceof NativeError) return err;
	const e = err as { message?: string; op?: string; errno?: number; detail?: string };
	const op = e.op ?? 'addon';
	const errno = e.errno ?? 0;
	const detail = e.detail ?? '';
	return new NativeError(op, errno, explain(op, errno, e.message ?? String(err)), detail);
}

function explain(op: string, errno: number, raw: string): string {
	if (errno === EPERM || errno === EACCES) {
		if (op === 'perf_event_open') {
			return (
				'perf_event_open was refused: run as root or with CAP_PERFMON, and check ' +
				'/proc/sys/kernel/perf_event_paranoid (a value above 2 blocks it; lower it with sysctl kernel.perf_event_paranoid=2)'
			);
		}
		return (
			`${op} was refused (${raw}): firesight needs root, or CAP_BPF and CAP_PERFMON; ` +
			'some systems also restrict BPF with kernel.unprivileged_bpf_disabled or a security module'
		);
	}
	if (op === 'perf_event_open' && (errno === ENOENT || errno === EOPNOTSUPP || errno === ENOSYS)) {
		return 'perf_event_open failed: this kernel has no perf events for the cpu-clock software event (CONFIG_PERF_EVENTS)';
	}
	if (op === 'bpf_object__load' && errno === EINVAL) {
		return `the kernel rejected a BPF program (${raw}); see the verifier log in the error's detail`;
	}
	return `${op} failed: ${raw}`;
}

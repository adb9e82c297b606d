import { type Frame, JIT_MODULE, KERNEL_MODULE } from './frame.ts';
import type { Profile, ProfileMeta } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

/**
 * Folded ("collapsed") stacks, the text flamegraph.pl, speedscope and inferno read:
 * `comm;root;...;leaf COUNT`, one line per stack. Kernel frames carry `_[k]` and JIT frames `_[j]`
 * as `stackcollapse-perf.pl --all` writes them. The format has no modules, so they are lost.
 */
export interface FoldedOptions {
	/** Write and read the process as `comm-PID` (`stackcollapse-perf.pl --pid`) instead of `comm`. */
	readonly pids?: boolean;
}

export interface ParseFoldedOptions extends FoldedOptions, Partial<ProfileMeta> {}

/** Folded text has no metadata; these stand in unless the caller knows better. */
const DEFAULT_META: ProfileMeta = { startMs: 0, durationMs: 0, frequencyHz: 100 };

const SUFFIX = { user: '', kernel: '_[k]', jit: '_[j]' } as const;

// A name holding the separator or a line break would change the stack's shape when read back.
function clean(text: string): string {
	return text.replace(/[;\r\n]/g, '_');
}

/** One line per distinct folded stack, sorted, each ending in a newline. */
export function toFolded(profile: Profile, options: FoldedOptions = {}): string {
	const names = profile.frames.map((frame) => clean(frame.name) + SUFFIX[frame.kind]);
	// Without pids, samples of different processes with one comm fold onto the same line.
	const weights = new Map<string, number>();
	for (const sample of profile.samples) {
		let line = clean(sample.comm);
		if (options.pids) line += `-${sample.pid}`;
		for (const id of sample.stack) line += ';' + names[id]!;
		weights.set(line, (weights.get(line) ?? 0) + sample.weight);
	}
	const lines = [...weights.keys()].sort();
	let out = '';
	for (const line of lines) out += `${line} ${weights.get(line)!}\n`;
	return out;
}

function parseFrame(text: string): Frame {
	if (text.endsWith('_[k]')) return { name: text.slice(0, -4), module: KERNEL_MODULE, kind: 'kernel' };
	if (text.endsWith('_[j]')) return { name: text.slice(0, -4), module: JIT_MODULE, kind: 'jit' };
	// stackcollapse-perf marks inlined functions with `_[i]`; they are user code.
	if (text.endsWith('_[i]')) return { name: text.slice(0, -4), module: '', kind: 'user' };
	return { name: text, module: '', kind: 'user' };
}

/**
 * Reads folded text. Returns null when the text is not folded stacks (no lines, or a line that is
 * not `stack COUNT`); throws only when it is, but a count is beyond what a number holds exactly.
 */
export function parseFolded(text: string, options: ParseFoldedOptions = {}): Profile | null {
	if (text.includes('\u0000')) return null;
	const builder = new ProfileBuilder({ ...DEFAULT_META, ...definedOnly(options) });
	let lines = 0;
	for (const raw of text.split('\n')) {
		const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
		if (line.trim() === '') continue;
		const space = line.lastIndexOf(' ');
		const countText = line.slice(space + 1);
		if (space < 0 || !/^\d+$/.test(countText)) return null;
		const weight = Number(countText);
		if (!Number.isSafeInteger(weight)) throw new RangeError(`folded count too large: ${countText}`);
		const parts = line.slice(0, space).trimEnd().split(';');
		let comm = parts[0]!;
		let pid = 0;
		if (options.pids) {
			const match = /^(.*)-(\d+)$/.exec(comm);
			if (match === null) return null;
			comm = match[1]!;
			pid = Number(match[2]);
		}
		const stack = parts.slice(1).map(parseFrame);
		builder.appendSample(stack, weight, { pid, comm });
		lines++;
	}
	return lines === 0 ? null : builder.build();
}

function definedOnly(options: ParseFoldedOptions): Partial<ProfileMeta> {
	const meta: { -readonly [K in keyof ProfileMeta]?: number } = {};
	if (options.startMs !== undefined) meta.startMs = options.startMs;
	if (options.durationMs !== undefined) meta.durationMs = options.durationMs;
	if (options.frequencyHz !== undefined) meta.frequencyHz = options.frequencyHz;
	return meta;
}

import type { Frame } from './frame.ts';
import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

/**
 * Chrome's `.cpuprofile`, as `node --cpu-prof` and the DevTools write it: a call tree (`nodes`,
 * each with a `callFrame` and its `children` ids) and the sampled node per tick (`samples`, with
 * `timeDeltas` in microseconds). V8's bookkeeping nodes are dropped: `(root)` is every stack's
 * base and `(idle)` is time off the CPU; `(program)` and `(garbage collector)` stay, as CPU time.
 */

interface CallFrame {
	functionName?: unknown;
	url?: unknown;
	lineNumber?: unknown;
}

interface CpuprofileNode {
	id?: unknown;
	callFrame?: CallFrame;
	hitCount?: unknown;
	children?: unknown;
}

/** Used when the file's ticks cannot tell the rate (V8 samples every 1000 µs by default). */
const DEFAULT_FREQUENCY_HZ = 1000;

const DROPPED = new Set(['(root)', '(idle)']);

function looksLikeCpuprofile(
	value: unknown,
): value is { nodes: CpuprofileNode[]; samples?: unknown; timeDeltas?: unknown; startTime?: unknown; endTime?: unknown } {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const nodes = (value as { nodes?: unknown }).nodes;
	return Array.isArray(nodes) && nodes.length > 0 && typeof nodes[0] === 'object' && nodes[0] !== null && 'callFrame' in nodes[0];
}

function moduleOf(url: string): string {
	const path = url.replace(/[?#].*$/, '');
	return path.slice(path.lastIndexOf('/') + 1);
}

function finite(value: unknown): number | null {
	return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Bounds on the work a tree may ask for: each sampled node's stack is its whole path to the
 * root, so a deep chain with many sampled leaves would cost depth × leaves.
 */
export interface CpuprofileLimits {
	/** Deepest path allowed from the root. */
	maxDepth?: number;
	/** Frames in all stacks together. */
	maxStackFrames?: number;
}

/**
 * Reads a `.cpuprofile`. Returns null when the text is not one (not JSON, or no `nodes` with
 * `callFrame`s); throws when it is but its ids point nowhere, repeat, or make a cycle.
 */
export function fromCpuprofile(text: string, limits: CpuprofileLimits = {}): Profile | null {
	const start = text.trimStart();
	if (!start.startsWith('{')) return null;
	let parsed: unknown;
	try {
		parsed = JSON.parse(start);
	} catch {
		return null;
	}
	if (!looksLikeCpuprofile(parsed)) return null;

	const byId = new Map<number, CpuprofileNode>();
	for (const node of parsed.nodes) {
		const id = finite(node?.id);
		if (id === null) throw new Error('cpuprofile node without a numeric id');
		if (byId.has(id)) throw new Error(`cpuprofile node id ${id} repeated`);
		byId.set(id, node);
	}
	const parent = new Map<number, number>();
	for (const [id, node] of byId) {
		if (node.children === undefined) continue;
		if (!Array.isArray(node.children)) throw new Error(`cpuprofile node ${id} has children that are not a list`);
		for (const child of node.children) {
			if (typeof child !== 'number' || !byId.has(child)) throw new Error(`cpuprofile node ${id} has unknown child ${String(child)}`);
			if (parent.has(child)) throw new Error(`cpuprofile node ${child} has two parents`);
			parent.set(child, id);
		}
	}

	// Ticks per node: from `samples` when present (what V8 writes), else each node's `hitCount`.
	const ticks = new Map<number, number>();
	const samples = parsed.samples;
	if (Array.isArray(samples) && samples.length > 0) {
		for (const id of samples) {
			if (typeof id !== 'number' || !byId.has(id)) throw new Error(`cpuprofile sample references unknown node ${String(id)}`);
			ticks.set(id, (ticks.get(id) ?? 0) + 1);
		}
	} else {
		for (const [id, node] of byId) {
			const hits = finite(node.hitCount) ?? 0;
			if (hits > 0) ticks.set(id, Math.round(hits));
		}
	}

	const startUs = finite(parsed.startTime);
	const endUs = finite(parsed.endTime);
	const durationMs = startUs !== null && endUs !== null && endUs > startUs ? (endUs - startUs) / 1000 : 0;
	let frequencyHz = DEFAULT_FREQUENCY_HZ;
	if (Array.isArray(parsed.timeDeltas) && parsed.timeDeltas.length > 1) {
		let sum = 0;
		for (const d of parsed.timeDeltas) sum += finite(d) ?? 0;
		const mean = sum / parsed.timeDeltas.length;
		if (mean > 0) frequencyHz = Math.round(1e6 / mean);
	}
	// startTime is a monotonic clock in microseconds, not the epoch: the file does not say when.
	const builder = new ProfileBuilder({ startMs: 0, durationMs, frequencyHz });

	const frameIds = new Map<number, number | null>();
	const frameOf = (id: number): number | null => {
		let known = frameIds.get(id);
		if (known !== undefined) return known;
		const call = byId.get(id)!.callFrame ?? {};
		const name = typeof call.functionName === 'string' && call.functionName !== '' ? call.functionName : '(anonymous)';
		if (DROPPED.has(name)) known = null;
		else {
			const url = typeof call.url === 'string' ? call.url : '';
			const line = finite(call.lineNumber);
			const frame: Frame = {
				name,
				module: moduleOf(url),
				kind: 'user',
				...(url ? { file: url } : {}),
				...(line !== null && line >= 0 ? { line: line + 1 } : {}),
			};
			known = builder.frames.intern(frame);
		}
		frameIds.set(id, known);
		return known;
	};

	const maxDepth = limits.maxDepth ?? Number.POSITIVE_INFINITY;
	const maxStackFrames = limits.maxStackFrames ?? Number.POSITIVE_INFINITY;
	let stackFrames = 0;
	for (const [id, count] of ticks) {
		if (frameOf(id) === null && (byId.get(id)!.callFrame?.functionName === '(idle)' || !parent.has(id))) continue;
		const stack: number[] = [];
		// Walked leaf to root without recursion; more steps than nodes means a cycle.
		let at: number | undefined = id;
		let steps = 0;
		while (at !== undefined) {
			if (++steps > byId.size) throw new Error(`cpuprofile node ${id} is in a cycle`);
			if (steps > maxDepth) throw new RangeError(`cpuprofile node ${id} is deeper than ${maxDepth} frames`);
			if (++stackFrames > maxStackFrames) throw new RangeError(`cpuprofile stacks hold more than ${maxStackFrames} frames in all`);
			const frame = frameOf(at);
			if (frame !== null) stack.push(frame);
			at = parent.get(at);
		}
		if (stack.length === 0) continue;
		stack.reverse();
		builder.appendSampleIds(stack, count, { pid: 0, comm: 'node' });
	}
	return builder.build();
}

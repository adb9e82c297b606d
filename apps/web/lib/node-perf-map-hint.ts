import type { FlameNode } from '@firesight/profile';

/** What to tell the user when Node's JavaScript shows as bare addresses. */
export const NODE_PERF_MAP_HINT = 'start node with --perf-basic-prof --interpreted-frames-native-stack to see JavaScript names';

/** Above this share of a Node process's samples under `[anon]` frames, JavaScript is unnamed. */
export const ANON_SHARE_THRESHOLD = 0.2;

/** `[anon]`, or `[anon]+0xADDR` as collectors named it before the address was left out. */
const ANON_FRAME = /^\[anon\](\+0x|$)/;
const NODE_COMM = /^(node|nodejs|node-MainThread|MainThread)$/;

export interface UnnamedNodeProcess {
	comm: string;
	/** Samples of the process that pass through an `[anon]` frame, and all of its samples. */
	anonSamples: number;
	samples: number;
}

/**
 * The Node processes (a `node` comm under the root) whose samples mostly run in memory no perf map
 * names: V8's JIT code without `--perf-basic-prof`. A sample counts once however many `[anon]`
 * frames its stack has.
 */
export function unnamedNodeProcesses(root: FlameNode, threshold = ANON_SHARE_THRESHOLD): UnnamedNodeProcess[] {
	const found: UnnamedNodeProcess[] = [];
	for (const process of root.children) {
		if (!NODE_COMM.test(process.name) || process.value <= 0) continue;
		const anonSamples = underAnon(process);
		if (anonSamples / process.value >= threshold) found.push({ comm: process.name, anonSamples, samples: process.value });
	}
	return found;
}

function underAnon(node: FlameNode): number {
	let sum = 0;
	for (const child of node.children) sum += ANON_FRAME.test(child.name) ? child.value : underAnon(child);
	return sum;
}

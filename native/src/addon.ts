import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The raw addon: thin classes over libbpf. Semantics and validation live in the TypeScript around it. */
export interface RawProfiler {
	drain(): Promise<{ counts: ArrayBuffer; stacks: ArrayBuffer; counters: ArrayBuffer }>;
	close(): void;
}

export interface RawAddon {
	Profiler: new (config: {
		frequency: number;
		includeIdle: boolean;
		pids: number[];
		stackEntries: number;
		countEntries: number;
	}) => RawProfiler;
}

const addonPath = fileURLToPath(new URL('../build/Release/firesight_native.node', import.meta.url));

let addon: RawAddon | undefined;

/** Loads the compiled addon once; throws a NativeError-shaped error when it was never built. */
export function loadAddon(): RawAddon {
	addon ??= createRequire(import.meta.url)(addonPath) as RawAddon;
	return addon;
}

// The package ships no types; the reference carries ours to every workspace that compiles this file.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./gecko-profiler-demangle.d.ts" />
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as glue from 'gecko-profiler-demangle/index_bg.js';

/** Turns mangled C++ (Itanium) and Rust (legacy and v0) names into readable ones, in batches. */
export interface Demangler {
	readonly kind: 'wasm' | 'c++filt' | 'none';
	/** Same order and length as `names`; names that are not mangled come back unchanged. */
	demangle(names: readonly string[]): string[];
}

/** The slice of the WebAssembly global we use (lib "dom" is not loaded in this project). */
interface WasmApi {
	Module: new (bytes: Uint8Array) => object;
	Instance: new (module: object, imports: Record<string, object>) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Whether a symbol name is worth handing to a demangler at all. */
export function looksMangled(name: string): boolean {
	return name.startsWith('_Z') || name.startsWith('_R') || name.startsWith('__Z');
}

let wasmLoaded = false;

/**
 * The glue module keeps views of one instance's memory, so the wasm is instantiated once per
 * process, however many demanglers are made.
 */
function loadWasm(): void {
	if (wasmLoaded) return;
	const require = createRequire(import.meta.url);
	const wasmPath = require.resolve('gecko-profiler-demangle/index_bg.wasm');
	const module = new wasmApi.Module(readFileSync(wasmPath));
	const instance = new wasmApi.Instance(module, { './index_bg.js': glue });
	glue.__wbg_set_wasm(instance.exports);
	(instance.exports.__wbindgen_start as (() => void) | undefined)?.();
	wasmLoaded = true;
}

/**
 * gecko-profiler-demangle (Rust's cpp_demangle and rustc-demangle compiled to WASM), instantiated
 * synchronously so symbolization stays synchronous. Rust legacy hashes (`::h0123...`) are dropped.
 */
export class WasmDemangler implements Demangler {
	readonly kind = 'wasm';

	constructor() {
		loadWasm();
	}

	demangle(names: readonly string[]): string[] {
		return names.map((n) => {
			if (!looksMangled(n)) return n;
			try {
				const d = glue.demangle_any(n);
				// Names that are not mangled after all can come back with just the underscore cut.
				return d === n.slice(1) ? n : d;
			} catch {
				return n;
			}
		});
	}
}

/**
 * Fallback: binutils c++filt, one child per batch (symbolization is synchronous, so a long-lived
 * child cannot be awaited). Rust legacy names keep their `::h...` hash with c++filt.
 */
export class CxxFiltDemangler implements Demangler {
	readonly kind = 'c++filt';

	constructor(private readonly bin = 'c++filt') {}

	demangle(names: readonly string[]): string[] {
		const out = names.slice();
		const idx: number[] = [];
		for (let i = 0; i < names.length; i++) {
			const n = names[i]!;
			if (looksMangled(n) && !n.includes('\n')) idx.push(i);
		}
		if (idx.length === 0) return out;
		const r = spawnSync(this.bin, [], {
			input: `${idx.map((i) => names[i]).join('\n')}\n`,
			encoding: 'utf8',
			maxBuffer: 64 * 1024 * 1024,
		});
		if (r.status !== 0 || typeof r.stdout !== 'string') return out;
		const lines = r.stdout.split('\n');
		if (lines.length < idx.length) return out;
		idx.forEach((i, k) => {
			out[i] = lines[k]!;
		});
		return out;
	}
}

class NoDemangler implements Demangler {
	readonly kind = 'none';
	demangle(names: readonly string[]): string[] {
		return names.slice();
	}
}

let shared: Demangler | undefined;

/** The best demangler that works here, created once per process. */
export function defaultDemangler(): Demangler {
	if (shared !== undefined) return shared;
	try {
		shared = new WasmDemangler();
		if (shared.demangle(['_ZN2ns1fEv'])[0] !== 'ns::f()') throw new Error('wasm demangler misbehaves');
	} catch {
		const filt = new CxxFiltDemangler();
		shared = filt.demangle(['_ZN2ns1fEv'])[0] === 'ns::f()' ? filt : new NoDemangler();
	}
	return shared;
}

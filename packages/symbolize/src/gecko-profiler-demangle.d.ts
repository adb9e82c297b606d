// The package's own typings cover index.js only; we load its wasm-bindgen glue directly because
// index.js imports the .wasm file as an ES module, which Node does not support without a flag.
declare module 'gecko-profiler-demangle/index_bg.js' {
	export function demangle_any(name: string): string;
	export function __wbg_set_wasm(exports: object): void;
	export function __wbindgen_init_externref_table(): void;
}

/**
 * Cleans a V8 `--perf-basic-prof` code name into a readable function name.
 *
 * V8 writes `<Kind>:<tier><function> <script>:<line>:<column>`, e.g. `JS:*hotFn /srv/app/x.js:3:13`
 * (Node 20+) or `LazyCompile:*hotFn /srv/app/x.js:3:13` (older Node). We keep the function name and
 * `basename:line`, giving `hotFn x.js:3`:
 * - the kind prefixes of JS code (`JS:`, `LazyCompile:`, `Function:`, `Eval:`, `Script:`) go;
 * - the tier marker goes (`~` interpreted, `^` baseline, `+` maglev, `*` optimized), so one JS
 *   function is one frame whatever tier ran it;
 * - the column goes, the line stays (one function per line is the common case);
 * - file paths and `file://` URLs keep their basename; `node:` module specifiers stay whole;
 * - an empty function name becomes `(anonymous)`, or `(script)` for top-level code (`Eval`/`Script`).
 * Other kinds (`Builtin:ArrayMap`, `BytecodeHandler:Ldar`, `RegExp:...`, `Stub:...`) are kept as-is:
 * the prefix says what they are. Names that do not look like V8's are returned unchanged.
 */
const JS_KINDS = new Set(['JS', 'LazyCompile', 'Function', 'Eval', 'Script']);
const TOP_LEVEL_KINDS = new Set(['Eval', 'Script']);
const TIERS = '~^+*';

export function cleanJitName(raw: string): string {
	const colon = raw.indexOf(':');
	if (colon <= 0) return raw;
	const kind = raw.slice(0, colon);
	if (!JS_KINDS.has(kind)) return raw;
	let rest = raw.slice(colon + 1);
	while (rest.length > 0 && TIERS.includes(rest[0]!)) rest = rest.slice(1);

	// The script location is the last space-separated token, when it ends in :line[:column].
	const sp = rest.lastIndexOf(' ');
	let fn: string;
	let where = '';
	const locToken = sp >= 0 ? rest.slice(sp + 1) : rest;
	const loc = /^(.*?):(\d+)(?::\d+)?$/.exec(locToken);
	if (loc !== null && (sp >= 0 || looksLikeScript(loc[1]!))) {
		fn = sp >= 0 ? rest.slice(0, sp).trim() : '';
		where = `${shortScript(loc[1]!)}:${loc[2]}`;
	} else {
		fn = rest.trim();
	}
	if (fn === '') fn = TOP_LEVEL_KINDS.has(kind) ? '(script)' : '(anonymous)';
	return where === '' ? fn : `${fn} ${where}`;
}

function looksLikeScript(s: string): boolean {
	return s.startsWith('/') || s.startsWith('file:') || s.startsWith('node:') || /\.[cm]?[jt]s$/.test(s);
}

function shortScript(script: string): string {
	if (script.startsWith('node:')) return script;
	const slash = script.lastIndexOf('/');
	return slash >= 0 ? script.slice(slash + 1) : script;
}

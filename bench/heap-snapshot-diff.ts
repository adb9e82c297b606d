/**
 * Which kinds of object grew between two V8 heap snapshots (`soak --heap-snapshots DIR` takes
 * them at the end of the warm-up and of the run): their bytes and counts, by constructor for
 * objects and by kind for the rest (strings, arrays, closures by name, code...), largest growth
 * first. A cache that keeps growing after warm-up shows as a constructor, or as the arrays and
 * strings it holds.
 *
 * Usage: npx tsx bench/heap-snapshot-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]
 */
import { readFileSync } from 'node:fs';
import { benchArgs, wholeNumber } from './bench-args.ts';

const { values, positionals } = benchArgs({
	name: 'heap-snapshot-diff',
	summary: 'Which kinds of object grew between two V8 heap snapshots (e.g. those of `soak --heap-snapshots DIR`), largest growth first.',
	writes: 'nothing: the table goes to stdout',
	options: {
		top: { check: wholeNumber(), placeholder: 'N', help: 'kinds of object listed', default: '25' },
	},
	positionals: { placeholder: 'BEFORE.heapsnapshot AFTER.heapsnapshot', count: 2 },
});
const TOP = values.top;

interface Kind {
	bytes: number;
	count: number;
}

interface Snapshot {
	snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[] } };
	nodes: number[];
	edges: number[];
	strings: string[];
}

/** Self sizes and counts of a snapshot's nodes, by kind. */
function kinds(path: string): Map<string, Kind> {
	let snap: Snapshot;
	try {
		snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
	} catch (err) {
		console.error(`heap-snapshot-diff: ${path}: ${(err as Error).message}`);
		process.exit(2);
	}
	const fields = snap.snapshot.meta.node_fields;
	const types = snap.snapshot.meta.node_types[0];
	const width = fields.length;
	const [type, name, size, edgeCount] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f)) as [
		number,
		number,
		number,
		number,
	];
	const edgeWidth = snap.snapshot.meta.edge_fields.length;
	const toNode = snap.snapshot.meta.edge_fields.indexOf('to_node');
	const keyOf = (i: number): string => {
		const t = types[snap.nodes[i + type]!]!;
		const n = snap.strings[snap.nodes[i + name]!]!;
		// Objects by constructor, closures by function name; strings, arrays and the rest by kind only.
		return t === 'object' || t === 'native' ? n : t === 'closure' ? `(closure) ${n}` : `(${t})`;
	};
	// Arrays (a Map's or an object's backing store) and strings say little alone: each is named
	// after the first object found holding it, as `(array) in Map`.
	const holder = new Map<number, number>();
	for (let i = 0, e = 0; i < snap.nodes.length; i += width) {
		const own = keyOf(i);
		const isObject = !own.startsWith('(') || own.startsWith('(closure)');
		for (let k = snap.nodes[i + edgeCount]!; k > 0; k--, e += edgeWidth) {
			const to = snap.edges[e + toNode]!;
			if (isObject && !holder.has(to)) holder.set(to, i);
		}
	}
	const out = new Map<string, Kind>();
	for (let i = 0; i < snap.nodes.length; i += width) {
		const own = keyOf(i);
		const by = own === '(array)' || own === '(string)' || own === 'Array' || own === '(bigint)' ? holder.get(i) : undefined;
		const key = by === undefined ? own : `${own} in ${keyOf(by)}`;
		const k = out.get(key) ?? { bytes: 0, count: 0 };
		k.bytes += snap.nodes[i + size]!;
		k.count++;
		out.set(key, k);
	}
	return out;
}

const before = kinds(positionals[0]!);
const after = kinds(positionals[1]!);
const total = (m: Map<string, Kind>) => [...m.values()].reduce((a, k) => a + k.bytes, 0);
const mib = (b: number) => (b / 1048576).toFixed(2);
const rows = [...new Set([...before.keys(), ...after.keys()])]
	.map((key) => {
		const a = before.get(key) ?? { bytes: 0, count: 0 };
		const b = after.get(key) ?? { bytes: 0, count: 0 };
		return { key, bytes: b.bytes - a.bytes, count: b.count - a.count, now: b.bytes };
	})
	.sort((x, y) => y.bytes - x.bytes);
console.log(`heap: ${mib(total(before))} MiB -> ${mib(total(after))} MiB (self sizes of every object)`);
console.log('growth MiB | count | now MiB | kind');
for (const r of rows.slice(0, TOP))
	console.log(`${mib(r.bytes).padStart(10)} | ${String(r.count).padStart(8)} | ${mib(r.now).padStart(7)} | ${r.key.slice(0, 100)}`);

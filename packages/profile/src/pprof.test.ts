import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as pprof from 'pprof-format';
import { canonical, knownProfile } from '../fixtures/known-profile.ts';
import { fromPprof, toPprof } from './pprof.ts';
import type { Frame } from './frame.ts';
import { totalWeight } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';
import { topFunctions } from './top-functions.ts';

function decodeRaw(bytes: Uint8Array): pprof.Profile {
	return pprof.Profile.decode(gunzipSync(bytes));
}

test('round trip keeps samples, frames with modules and kinds, and metadata', () => {
	const p = knownProfile();
	const back = fromPprof(toPprof(p));
	assert.ok(back);
	assert.deepEqual(canonical(back), canonical(p));
	assert.equal(back.startMs, p.startMs);
	assert.equal(back.durationMs, p.durationMs);
	assert.equal(back.frequencyHz, 99, 'rate survives the nanosecond rounding of the period');
	assert.equal(totalWeight(back), 18);
});

test('output is gzipped and holds what go tool pprof relies on', () => {
	const p = knownProfile();
	const bytes = toPprof(p);
	assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);
	const raw = decodeRaw(bytes);
	const s = raw.stringTable.strings;
	const str = (i: number | bigint) => s[Number(i)];
	assert.equal(s[0], '');
	assert.deepEqual(
		raw.sampleType.map((t) => `${str(t.type)}/${str(t.unit)}`),
		['samples/count', 'cpu/nanoseconds'],
	);
	assert.ok(raw.periodType);
	assert.equal(`${str(raw.periodType.type)}/${str(raw.periodType.unit)}`, 'cpu/nanoseconds');
	const period = Math.round(1e9 / 99);
	assert.equal(Number(raw.period), period);
	assert.equal(BigInt(raw.timeNanos), BigInt(p.startMs) * 1_000_000n);
	assert.equal(Number(raw.durationNanos), 10_000 * 1e6);

	const locationIds = new Set(raw.location.map((l) => Number(l.id)));
	const functionIds = new Set(raw.function.map((f) => Number(f.id)));
	const mappingIds = new Set(raw.mapping.map((m) => Number(m.id)));
	assert.equal(locationIds.size, raw.location.length, 'location ids unique');
	assert.ok(!locationIds.has(0) && !functionIds.has(0) && !mappingIds.has(0), 'ids nonzero');
	for (const location of raw.location) {
		const mappingId = Number(location.mappingId);
		assert.ok(mappingId === 0 || mappingIds.has(mappingId));
		for (const line of location.line) assert.ok(functionIds.has(Number(line.functionId)));
	}
	let count = 0;
	for (const sample of raw.sample) {
		for (const id of sample.locationId) assert.ok(locationIds.has(Number(id)));
		const [n, ns] = sample.value.map(Number);
		assert.equal(ns, n! * period, 'cpu/nanoseconds = count * period');
		count += n!;
		const pid = sample.label.find((l) => str(l.key) === 'pid');
		const comm = sample.label.find((l) => str(l.key) === 'comm');
		assert.ok(pid && Number(pid.num) > 0 && Number(pid.str) === 0, 'pid is a numeric label');
		assert.ok(comm && ['app', 'node'].includes(str(comm.str)!), 'comm is a string label');
	}
	assert.equal(count, 18);
});

test('a stack is written leaf first and kernel frames sit in the kernel mapping', () => {
	const raw = decodeRaw(toPprof(knownProfile()));
	const s = raw.stringTable.strings;
	const fnName = new Map(raw.function.map((f) => [Number(f.id), s[Number(f.name)]]));
	const mappingFile = new Map(raw.mapping.map((m) => [Number(m.id), s[Number(m.filename)]]));
	const locations = new Map(raw.location.map((l) => [Number(l.id), l]));
	const describe = (id: number | bigint) => {
		const location = locations.get(Number(id))!;
		return `${mappingFile.get(Number(location.mappingId))}:${fnName.get(Number(location.line[0]!.functionId))}`;
	};
	const stacks = raw.sample.map((sample) => sample.locationId.map(describe).join(' <- '));
	assert.ok(
		stacks.includes('[kernel.kallsyms]:ksys_read <- [kernel.kallsyms]:entry_SYSCALL_64 <- libc.so.6:read <- app:main'),
		stacks.join('\n'),
	);
	assert.ok(stacks.includes('[jit]:jsFn <- node:start'));
});

test('raw (not gzipped) pprof is accepted too', () => {
	const p = knownProfile();
	const raw = gunzipSync(toPprof(p));
	assert.deepEqual(canonical(fromPprof(raw)!), canonical(p));
});

test('reads a Go-style profile: no sample counts, inlined lines, unsymbolized locations', () => {
	const st = new pprof.StringTable();
	const period = 10_000_000;
	const fn = (id: number, name: string) => new pprof.Function({ id, name: st.dedup(name) });
	const profile = new pprof.Profile({
		sampleType: [new pprof.ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') })],
		periodType: new pprof.ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
		period,
		mapping: [new pprof.Mapping({ id: 1, filename: st.dedup('/usr/bin/server'), memoryStart: 0x400000, fileOffset: 0x1000 })],
		function: [fn(1, 'main.main'), fn(2, 'main.handle'), fn(3, 'main.inlinedHelper')],
		location: [
			new pprof.Location({ id: 1, mappingId: 1, line: [new pprof.Line({ functionId: 1 })] }),
			// Inlined: innermost first, as pprof writes it.
			new pprof.Location({ id: 2, mappingId: 1, line: [new pprof.Line({ functionId: 3 }), new pprof.Line({ functionId: 2 })] }),
			new pprof.Location({ id: 3, mappingId: 1, address: 0x400abc }),
		],
		sample: [new pprof.Sample({ locationId: [3, 2, 1], value: [3 * period] }), new pprof.Sample({ locationId: [1], value: [period] })],
		stringTable: st,
	});
	const p = fromPprof(profile.encode());
	assert.ok(p);
	assert.equal(p.frequencyHz, 100);
	assert.deepEqual(canonical(p), [
		'0||user:server:main.main 1',
		'0||user:server:main.main;user:server:main.handle;user:server:main.inlinedHelper;user:server:server+0x1abc 3',
	]);
});

test('keeps every line: each line of a location (inlined ones too) is a frame at that line; a round trip keeps them and the table merges a function', () => {
	const st = new pprof.StringTable();
	const file = st.dedup('main.go');
	const fn = (id: number, name: string, startLine: number) => new pprof.Function({ id, name: st.dedup(name), filename: file, startLine });
	const line = (functionId: number, n: number) => new pprof.Line({ functionId, line: n });
	const profile = new pprof.Profile({
		sampleType: [new pprof.ValueType({ type: st.dedup('samples'), unit: st.dedup('count') })],
		mapping: [new pprof.Mapping({ id: 1, filename: st.dedup('/usr/bin/server') })],
		function: [fn(1, 'main.main', 10), fn(2, 'main.handle', 20), fn(3, 'main.helper', 40)],
		location: [
			new pprof.Location({ id: 1, mappingId: 1, line: [line(1, 12)] }),
			// helper inlined into handle at line 23, running its line 41.
			new pprof.Location({ id: 2, mappingId: 1, line: [line(3, 41), line(2, 23)] }),
			// handle running its own line 25.
			new pprof.Location({ id: 3, mappingId: 1, line: [line(2, 25)] }),
		],
		sample: [new pprof.Sample({ locationId: [2, 1], value: [3] }), new pprof.Sample({ locationId: [3, 1], value: [2] })],
		stringTable: st,
	});
	const p = fromPprof(profile.encode());
	assert.ok(p);
	const at = (id: number) => `${p.frames[id]!.name}:${p.frames[id]!.line}`;
	assert.deepEqual(p.samples.map((s) => s.stack.map(at).join(';')).sort(), [
		'main.main:12;main.handle:23;main.helper:41',
		'main.main:12;main.handle:25',
	]);
	assert.deepEqual(canonical(fromPprof(toPprof(p))!), canonical(p));
	const handle = topFunctions(p).find((r) => r.name === 'main.handle');
	assert.deepEqual({ self: handle?.self, total: handle?.total }, { self: 2, total: 5 });
});

test('bytes that are not pprof give null', () => {
	const text = (t: string) => new TextEncoder().encode(t);
	assert.equal(fromPprof(new Uint8Array(0)), null);
	assert.equal(fromPprof(text('app;main;work 3\n')), null);
	assert.equal(fromPprof(text('{"shared": {"frames": []}}')), null);
	assert.equal(fromPprof(new Uint8Array(gzipSync(text('app;main 1\n')))), null);
	assert.equal(fromPprof(new Uint8Array([0x1f, 0x8b, 1, 2, 3])), null, 'broken gzip');
	let seed = 7;
	const noise = new Uint8Array(4096).map(() => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24);
	assert.equal(fromPprof(noise), null);
});

test('pprof that breaks its own invariants throws', () => {
	const build = (locationId: number, sampleLocation: number, values: number[] = [1]) => {
		const st = new pprof.StringTable();
		return new pprof.Profile({
			sampleType: [new pprof.ValueType({ type: st.dedup('samples'), unit: st.dedup('count') })],
			function: [new pprof.Function({ id: 1, name: st.dedup('f') })],
			location: [new pprof.Location({ id: locationId, line: [new pprof.Line({ functionId: 1 })] })],
			sample: [new pprof.Sample({ locationId: [sampleLocation], value: values })],
			stringTable: st,
		}).encode();
	};
	assert.equal(fromPprof(build(1, 1))?.samples.length, 1, 'the valid variant decodes');
	assert.throws(() => fromPprof(build(1, 2)), /unknown location/);
	assert.throws(() => fromPprof(build(0, 0)), /location id 0/);
	assert.throws(() => fromPprof(build(1, 1, [1, 2])), /2 values for 1 sample types/);
});

test('frame kinds come back from mapping names: kernel modules, vdso, perf maps', () => {
	const b = new ProfileBuilder({ startMs: 0, durationMs: 1000, frequencyHz: 4000 });
	const frames: Frame[] = [
		{ name: '__vdso_clock_gettime', module: '[vdso]', kind: 'user' },
		{ name: 'nft_do_chain', module: '[nf_tables]', kind: 'kernel' },
		{ name: 'LazyCompile:fn', module: 'perf-42.map', kind: 'jit' },
		{ name: 'worker_thread', module: '', kind: 'kernel' },
	];
	frames.forEach((frame, i) => b.appendSample([frame], i + 1, { pid: 42, comm: 'k' }));
	const back = fromPprof(toPprof(b.build()));
	assert.ok(back);
	assert.equal(back.frequencyHz, 4000);
	assert.deepEqual(back.frames.map((f) => `${f.kind}:${f.module}:${f.name}`).sort(), [
		'jit:perf-42.map:LazyCompile:fn',
		'kernel:[kernel.kallsyms]:worker_thread',
		'kernel:[nf_tables]:nft_do_chain',
		'user:[vdso]:__vdso_clock_gettime',
	]);
});

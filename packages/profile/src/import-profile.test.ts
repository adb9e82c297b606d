import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync as gunzip, gzipSync } from 'node:zlib';
import * as pprof from 'pprof-format';
import { canonical, knownProfile } from '../fixtures/known-profile.ts';
import { toFolded } from './folded.ts';
import { ImportError, importProfile, type ImportLimits } from './import-profile.ts';
import { toPprof } from './pprof.ts';

function refused(input: Uint8Array | string, pattern: RegExp, options: { tooLarge?: boolean; limits?: ImportLimits } = {}): void {
	const bytes = typeof input === 'string' ? Buffer.from(input) : input;
	assert.throws(
		() => importProfile(bytes, options.limits),
		(err: unknown) => {
			assert.ok(err instanceof ImportError, String(err));
			assert.match(err.message, pattern);
			assert.doesNotMatch(err.message, /\n/);
			assert.equal(err.tooLarge, options.tooLarge ?? false);
			return true;
		},
	);
}

test('each format is told apart: pprof gzipped and raw, folded, with the same stacks', () => {
	const known = knownProfile();
	const gz = importProfile(toPprof(known));
	assert.equal(gz.format, 'pprof');
	assert.deepEqual(canonical(gz.profile), canonical(known));
	const raw = importProfile(gunzip(toPprof(known)));
	assert.equal(raw.format, 'pprof');
	assert.deepEqual(canonical(raw.profile), canonical(known));
	const folded = importProfile(Buffer.from(toFolded(known)));
	assert.equal(folded.format, 'folded');
	// Folded text has no pids: the two processes named app fold onto one line.
	assert.equal(canonical(folded.profile, { modules: false }).length, 5);
	assert.equal(
		folded.profile.samples.reduce((sum, s) => sum + s.weight, 0),
		18,
	);
	assert.equal(importProfile(gzipSync(toFolded(known))).format, 'folded');
});

test('empty, oversized and gzip bombs are refused in one line; size limits say so', () => {
	refused(new Uint8Array(0), /empty/);
	refused(gzipSync(Buffer.alloc(0)), /empty once gunzipped/);
	refused(Buffer.alloc(2048, 'a'), /larger than 1024 bytes/, { tooLarge: true, limits: { maxBytes: 1024 } });
	// 200 MiB of zeros gzip to about 200 KB.
	const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024));
	assert.ok(bomb.length < 1024 * 1024);
	refused(bomb, /inflates to more than 64 MiB/, { tooLarge: true });
});

test('truncated, random and damaged files are refused in one line', () => {
	const good = toPprof(knownProfile());
	refused(good.subarray(0, good.length - 9), /truncated or damaged/);
	const raw = gunzip(good);
	// Raw protobuf has no checksum: a cut on a field boundary is a shorter valid message. Every
	// cut is either read or refused with an ImportError, never anything else.
	let refusedCuts = 0;
	for (let cut = 1; cut < raw.length; cut++) {
		try {
			importProfile(raw.subarray(0, cut));
		} catch (err) {
			assert.ok(err instanceof ImportError, `cut at ${cut}: ${String(err)}`);
			refusedCuts++;
		}
	}
	assert.ok(refusedCuts > raw.length / 2, `${refusedCuts} of ${raw.length} cuts refused`);
	refused(Buffer.from([0, 1, 2, 3, 250, 251, 252]), /not a profile/);
	refused('hello world\n', /not a profile/);
	refused('{"nodes": 5}', /not a profile/);
	refused('main;work x\n', /not a profile/);
	refused('main;work 0\n', /no samples/);
});

test('ids pointing nowhere, cycles and repeated ids are damage, not crashes', () => {
	const strings = new pprof.StringTable();
	const sample = new pprof.Sample({ locationId: [99], value: [1] });
	const broken = new pprof.Profile({
		sampleType: [new pprof.ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') })],
		sample: [sample],
		stringTable: strings,
	}).encode();
	refused(gzipSync(broken), /damaged: pprof sample references unknown location 99/);
	const node = (id: number, children: number[], name = `f${id}`) => ({
		id,
		callFrame: { functionName: name, url: '', lineNumber: 0 },
		children,
	});
	refused(JSON.stringify({ nodes: [node(1, [2])], samples: [1] }), /damaged: cpuprofile node 1 has unknown child 2/);
	refused(JSON.stringify({ nodes: [node(1, [2]), node(2, [])], samples: [7] }), /unknown node 7/);
	refused(JSON.stringify({ nodes: [node(1, [2]), node(2, [1])], samples: [1] }), /two parents|cycle/);
	refused(JSON.stringify({ nodes: [node(1, []), node(1, [])], samples: [1] }), /repeated/);
});

test('deep stacks, a million distinct frames and too many stacks hit their limits', () => {
	const deep = Array.from({ length: 5000 }, (_, i) => `f${i % 3}`).join(';');
	refused(`app;${deep} 1\n`, /stack 5000 frames deep, over the limit of 4096/);
	let million = '';
	for (let i = 0; i < 1_000_000; i++) million += `app;f${i} 1\n`;
	refused(million, /1000000 distinct frames, over the limit of 500000/);
	refused('app;a 1\napp;b 1\napp;c 1\n', /3 distinct stacks, over the limit of 2/, { limits: { maxStacks: 2 } });
	// A deep call tree whose every node is sampled would cost depth × nodes; the bound says no first.
	const nodes = Array.from({ length: 6000 }, (_, i) => ({
		id: i + 1,
		callFrame: { functionName: `f${i}`, url: '', lineNumber: 0 },
		children: i < 5999 ? [i + 2] : [],
	}));
	refused(JSON.stringify({ nodes, samples: nodes.map((n) => n.id) }), /deeper than 4096 frames/);
});

test('a foreign pprof: the CPU sample type of several, pid and thread labels, unsymbolized locations as module+0xoffset', () => {
	const strings = new pprof.StringTable();
	const s = (text: string) => strings.dedup(text);
	const mapping = new pprof.Mapping({
		id: 1,
		memoryStart: 0x400000,
		memoryLimit: 0x500000,
		fileOffset: 0x1000,
		filename: s('/usr/bin/server'),
	});
	const fn = new pprof.Function({ id: 1, name: s('handle'), filename: s('server.c'), startLine: 42 });
	const symbolized = new pprof.Location({ id: 1, mappingId: 1, address: 0x401000, line: [new pprof.Line({ functionId: 1, line: 50 })] });
	const bare = new pprof.Location({ id: 2, mappingId: 1, address: 0x402345 });
	const sample = (values: number[], thread: string, pid: number) =>
		new pprof.Sample({
			locationId: [2, 1],
			value: values,
			label: [new pprof.Label({ key: s('pid'), num: pid }), new pprof.Label({ key: s('thread_name'), str: s(thread) })],
		});
	const encoded = new pprof.Profile({
		// Allocation counts first: the importer must pick the CPU samples, not index 0.
		sampleType: [
			new pprof.ValueType({ type: s('alloc_objects'), unit: s('count') }),
			new pprof.ValueType({ type: s('samples'), unit: s('count') }),
			new pprof.ValueType({ type: s('cpu'), unit: s('nanoseconds') }),
		],
		sample: [sample([1000, 7, 70_000_000], 'worker-1', 31), sample([1000, 3, 30_000_000], 'worker-2', 31)],
		mapping: [mapping],
		location: [symbolized, bare],
		function: [fn],
		stringTable: strings,
		periodType: new pprof.ValueType({ type: s('cpu'), unit: s('nanoseconds') }),
		period: 10_000_000,
	}).encode();
	const { profile, format } = importProfile(encoded);
	assert.equal(format, 'pprof');
	assert.deepEqual(canonical(profile), [
		'31|worker-1|user:server:handle;user:server:server+0x3345 7',
		'31|worker-2|user:server:handle;user:server:server+0x3345 3',
	]);
	assert.deepEqual(
		profile.frames.find((f) => f.name === 'handle'),
		{ name: 'handle', module: 'server', kind: 'user', file: 'server.c', line: 50 },
	);
	assert.equal(profile.frequencyHz, 100);
});

import { gunzipSync, gzipSync } from 'node:zlib';
import * as pprof from 'pprof-format';
import { type Frame, type FrameKind, JIT_MODULE, KERNEL_MODULE } from './frame.ts';
import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

/**
 * pprof (profile.proto), the exchange format: `go tool pprof`, Parca, Pyroscope and speedscope read
 * it. Each interned frame becomes one Function and one Location; the module is the Mapping's file
 * name, and kernel frames sit in a `[kernel.kallsyms]` (or other bracketed kernel module) mapping,
 * which is also how `fromPprof` tells kernel frames apart.
 */

/** Used when a pprof has no usable period (the rate cannot be known from it). */
const DEFAULT_FREQUENCY_HZ = 100;

const NS_PER_MS = 1_000_000n;

// Bracketed mapping names the kernel and perf give to user-space regions; other bracketed names
// are kernel images and modules ([kernel.kallsyms], [nf_tables], ...).
const USER_PSEUDO_MAPPINGS = new Set(['[vdso]', '[vsyscall]', '[vvar]', '[heap]', '[stack]', '[uprobes]', '[unknown]']);

function kindOfModule(module: string): FrameKind {
	if (module === JIT_MODULE || /^perf-\d+\.map$/.test(module) || /^jitted-\d+/.test(module)) return 'jit';
	const bracketed = module.startsWith('[') && module.endsWith(']');
	if (!bracketed || USER_PSEUDO_MAPPINGS.has(module) || module.startsWith('[anon')) return 'user';
	return 'kernel';
}

function mappingFileOf(frame: Frame): string {
	if (frame.module !== '') return frame.module;
	if (frame.kind === 'kernel') return KERNEL_MODULE;
	if (frame.kind === 'jit') return JIT_MODULE;
	return '';
}

function msToNanos(ms: number): bigint {
	// Epoch nanoseconds exceed 2^53, so the whole milliseconds are scaled as bigints.
	const whole = Math.trunc(ms);
	return BigInt(whole) * NS_PER_MS + BigInt(Math.round((ms - whole) * 1e6));
}

function nanosToMs(ns: number | bigint): number {
	const big = BigInt(ns);
	return Number(big / NS_PER_MS) + Number(big % NS_PER_MS) / 1e6;
}

/** Encodes a profile as gzipped pprof, as `go tool pprof` and pprof endpoints expect. */
export function toPprof(profile: Profile): Uint8Array {
	const strings = new pprof.StringTable();
	const period = Math.round(1e9 / profile.frequencyHz);

	const mappingIds = new Map<string, number>();
	const mappings: pprof.Mapping[] = [];
	const functions: pprof.Function[] = [];
	const locations: pprof.Location[] = [];
	// One function per name and file, whatever lines its frames are at: a frame is a line of a
	// function (see Frame.line), and pprof tells lines apart by its locations' lines.
	const functionIds = new Map<string, pprof.Function>();
	profile.frames.forEach((frame, index) => {
		// Ids must be nonzero in pprof; frame ids start at 0.
		const id = index + 1;
		const file = mappingFileOf(frame);
		let mappingId = 0;
		if (file !== '') {
			mappingId = mappingIds.get(file) ?? 0;
			if (mappingId === 0) {
				mappingId = mappings.length + 1;
				mappingIds.set(file, mappingId);
				mappings.push(new pprof.Mapping({ id: mappingId, filename: strings.dedup(file), hasFunctions: true }));
			}
		}
		const line = frame.line ?? 0;
		const functionKey = `${frame.name}\u0000${frame.file ?? ''}`;
		let fn = functionIds.get(functionKey);
		if (fn === undefined) {
			const name = strings.dedup(frame.name);
			const filename = frame.file !== undefined ? strings.dedup(frame.file) : 0;
			fn = new pprof.Function({ id: functions.length + 1, name, systemName: name, filename, startLine: line });
			functions.push(fn);
			functionIds.set(functionKey, fn);
		} else if (line > 0 && (Number(fn.startLine) === 0 || line < Number(fn.startLine))) {
			// The lowest line seen stands in for where the function starts.
			fn.startLine = line;
		}
		locations.push(new pprof.Location({ id, mappingId, line: [new pprof.Line({ functionId: fn.id, line })] }));
	});

	const pidKey = strings.dedup('pid');
	const commKey = strings.dedup('comm');
	// The request labels, named as `go tool pprof -tagfocus endpoint=...` and Pyroscope expect
	// sample labels: only on the samples that have them.
	const endpointKey = strings.dedup('endpoint');
	const requestKey = strings.dedup('request');
	const ambiguousKey = strings.dedup('ambiguous');
	const samples = profile.samples.map((sample) => {
		const nanos = sample.weight * period;
		const locationId = new Array<number>(sample.stack.length);
		// pprof lists a stack leaf first.
		const last = sample.stack.length - 1;
		for (let i = 0; i <= last; i++) locationId[i] = sample.stack[last - i]! + 1;
		const label = [new pprof.Label({ key: pidKey, num: sample.pid }), new pprof.Label({ key: commKey, str: strings.dedup(sample.comm) })];
		if (sample.endpoint !== undefined) label.push(new pprof.Label({ key: endpointKey, str: strings.dedup(sample.endpoint) }));
		if (sample.requestId !== undefined) label.push(new pprof.Label({ key: requestKey, str: strings.dedup(sample.requestId) }));
		if (sample.ambiguous === true) label.push(new pprof.Label({ key: ambiguousKey, str: strings.dedup('true') }));
		return new pprof.Sample({
			locationId,
			value: [sample.weight, Number.isSafeInteger(nanos) ? nanos : BigInt(sample.weight) * BigInt(period)],
			label,
		});
	});

	const encoded = new pprof.Profile({
		sampleType: [
			new pprof.ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }),
			new pprof.ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
		],
		sample: samples,
		mapping: mappings,
		location: locations,
		function: functions,
		stringTable: strings,
		timeNanos: msToNanos(profile.startMs),
		durationNanos: msToNanos(profile.durationMs),
		periodType: new pprof.ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }),
		period,
	}).encode();
	return new Uint8Array(gzipSync(encoded));
}

function isGzip(bytes: Uint8Array): boolean {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function decodeOrNull(bytes: Uint8Array): pprof.Profile | null {
	let raw = bytes;
	try {
		if (isGzip(bytes)) raw = gunzipSync(bytes);
		return pprof.Profile.decode(raw);
	} catch {
		return null;
	}
}

/**
 * Decodes pprof, gzipped or raw. Returns null when the bytes are not a pprof profile; throws when
 * they are but break its invariants (zero or unknown ids, string indexes out of range, value
 * counts that do not match the sample types). Negative values (diff profiles) are dropped.
 */
export function fromPprof(bytes: Uint8Array): Profile | null {
	const decoded = decodeOrNull(bytes);
	if (decoded === null) return null;
	const table = decoded.stringTable.strings;
	// Every pprof has "" at index 0 and declares what its values measure.
	if (table[0] !== '' || decoded.sampleType.length === 0) return null;

	const str = (index: number | bigint): string => {
		const s = table[Number(index)];
		if (s === undefined) throw new Error(`pprof string index ${index} out of range`);
		return s;
	};
	const typeName = (t: pprof.ValueType) => `${str(t.type)}/${str(t.unit)}`;
	const periodType = decoded.periodType ? typeName(decoded.periodType) : '';
	const sampleTypes = decoded.sampleType.map(typeName);
	const period = Number(decoded.period);

	// Prefer raw counts; else turn the sampled quantity back into counts with the period.
	let valueIndex = sampleTypes.indexOf('samples/count');
	let divisor = 1;
	if (valueIndex < 0 && period > 0 && periodType !== '') {
		valueIndex = sampleTypes.indexOf(periodType);
		divisor = period;
	}
	if (valueIndex < 0) valueIndex = 0;

	const frequencyHz = period > 0 && periodType.endsWith('/nanoseconds') ? Math.round((1e9 / period) * 1000) / 1000 : DEFAULT_FREQUENCY_HZ;
	const builder = new ProfileBuilder({
		startMs: nanosToMs(decoded.timeNanos),
		durationMs: nanosToMs(decoded.durationNanos),
		frequencyHz,
	});

	const mappings = new Map<number, pprof.Mapping>();
	for (const mapping of decoded.mapping) {
		const id = Number(mapping.id);
		if (id === 0) throw new Error('pprof mapping id 0');
		mappings.set(id, mapping);
	}
	const functionsById = new Map<number, { name: string; file: string; line: number }>();
	for (const fn of decoded.function) {
		const id = Number(fn.id);
		if (id === 0) throw new Error('pprof function id 0');
		functionsById.set(id, { name: str(fn.name) || str(fn.systemName), file: str(fn.filename), line: Number(fn.startLine) });
	}

	// A line without a number (and Go before 1.20 writes no start line) takes the function's
	// start line, or else the lowest line sampled in the function.
	const lowestLine = new Map<number, number>();
	for (const location of decoded.location) {
		for (const line of location.line) {
			const functionId = Number(line.functionId);
			const n = Number(line.line);
			if (n > 0 && n < (lowestLine.get(functionId) ?? Number.POSITIVE_INFINITY)) lowestLine.set(functionId, n);
		}
	}
	for (const [id, fn] of functionsById) if (fn.line <= 0) fn.line = lowestLine.get(id) ?? 0;

	// Each location becomes its frames root first: pprof lists inlined lines innermost first.
	const locationFrames = new Map<number, number[]>();
	for (const location of decoded.location) {
		const id = Number(location.id);
		if (id === 0) throw new Error('pprof location id 0');
		if (locationFrames.has(id)) throw new Error(`pprof location id ${id} repeated`);
		const mappingId = Number(location.mappingId);
		const mapping = mappings.get(mappingId);
		if (mappingId !== 0 && mapping === undefined) {
			throw new Error(`pprof location ${id} has unknown mapping ${mappingId}`);
		}
		const path = mapping ? str(mapping.filename) : '';
		const kind = kindOfModule(path);
		const module = kind === 'user' ? path.slice(path.lastIndexOf('/') + 1) : path;
		const ids: number[] = [];
		for (let i = location.line.length - 1; i >= 0; i--) {
			const entry = location.line[i]!;
			const functionId = Number(entry.functionId);
			const fn = functionsById.get(functionId);
			if (fn === undefined) throw new Error(`pprof location ${id} has unknown function ${functionId}`);
			// Every line is kept, inlined ones included: the line this frame was at (a call site, or
			// where the leaf ran), so one function sampled at two lines is two frames, as with
			// `go tool pprof -lines`. topFunctions merges them back into one function.
			const n = Number(entry.line);
			const line = n > 0 ? n : fn.line;
			const source = { ...(fn.file ? { file: fn.file } : {}), ...(line > 0 ? { line } : {}) };
			ids.push(builder.frames.intern({ name: fn.name, module, kind, ...source }));
		}
		if (ids.length === 0) {
			// Unsymbolized: name it by its offset in the file, as the symbolizer does on a miss.
			const address = BigInt(location.address);
			const offset = mapping ? address - BigInt(mapping.memoryStart) + BigInt(mapping.fileOffset) : address;
			const name = `${module || '[unknown]'}+0x${offset.toString(16)}`;
			ids.push(builder.frames.intern({ name, module, kind }));
		}
		locationFrames.set(id, ids);
	}

	// Producers name the process and thread differently; the first of these each file has wins.
	const firstKey = (...names: string[]) => names.map((n) => table.indexOf(n)).find((i) => i > 0) ?? -1;
	const pidKey = firstKey('pid', 'process_id');
	const commKey = firstKey('comm', 'thread_name', 'thread', 'process_name');
	const endpointKey = firstKey('endpoint');
	const requestKey = firstKey('request');
	const ambiguousKey = firstKey('ambiguous');
	for (const sample of decoded.sample) {
		if (sample.value.length !== sampleTypes.length) {
			throw new Error(`pprof sample has ${sample.value.length} values for ${sampleTypes.length} sample types`);
		}
		const weight = Math.round(Number(sample.value[valueIndex]) / divisor);
		if (!(weight > 0)) continue;
		const stack: number[] = [];
		for (let i = sample.locationId.length - 1; i >= 0; i--) {
			const locationId = Number(sample.locationId[i]);
			const frames = locationFrames.get(locationId);
			if (frames === undefined) throw new Error(`pprof sample references unknown location ${locationId}`);
			for (const frame of frames) stack.push(frame);
		}
		let pid = 0;
		let comm = '';
		const request: { endpoint?: string; requestId?: string; ambiguous?: boolean } = {};
		for (const label of sample.label) {
			const key = Number(label.key);
			if (key === pidKey && pidKey > 0) pid = Number(label.num) || Number(str(label.str)) || 0;
			else if (key === commKey && commKey > 0) {
				// A thread given by number only (`thread: 12`) still tells threads apart.
				if (Number(label.str) > 0) comm = str(label.str);
				else if (Number(label.num) !== 0) comm = `thread-${label.num}`;
			} else if (key === endpointKey && endpointKey > 0 && Number(label.str) > 0) request.endpoint = str(label.str);
			else if (key === requestKey && requestKey > 0 && Number(label.str) > 0) request.requestId = str(label.str);
			else if (key === ambiguousKey && ambiguousKey > 0 && str(label.str) === 'true') request.ambiguous = true;
		}
		builder.appendSampleIds(stack, weight, { pid, comm, ...request });
	}
	return builder.build();
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeCounterArray } from './counter-records.ts';
import {
	decodeCounters,
	decodeCounts,
	decodeDeferred,
	decodeStacks,
	PROFILE_COUNT_SIZE,
	PROFILE_COUNTERS,
	PROFILE_DEFERRED_HEAD_SIZE,
	PROFILE_STACK_HEAD_SIZE,
} from './profile-records.ts';
import { RING_BUFFER_FRAME_ALIGN, RING_BUFFER_FRAME_SIZE, ringBufferRecords } from './ring-buffer-records.ts';
import { decodeConnections, decodeEvent, decodeTcpCounters, TCP_CONN_RECORD_SIZE, TCP_COUNTERS, TCP_EVENT_SIZE } from './tcp-records.ts';
import {
	decodeTlsCounters,
	decodeTlsEvent,
	TLS_CLOSE_EVENT_SIZE,
	TLS_CONN_EVENT_SIZE,
	TLS_COUNTERS,
	TLS_DATA_EVENT_SIZE,
	TLS_PROC_EVENT_SIZE,
} from './tls-records.ts';

/**
 * What the kernel side hands over is bytes; a layout drift or a torn batch must come out as the
 * decoders' one documented failure, an Error with one line saying what is wrong, never a
 * RangeError from reading past a DataView, a TypeError, a hang, or a value that reaches outside
 * its batch. Inputs: random bytes, valid-shaped records with random fields, mutated and truncated.
 */
const RUNS = 3000;

function expectDecodedOrRefused<T>(what: string, decode: () => T): T | undefined {
	try {
		return decode();
	} catch (err) {
		assert.ok(err instanceof Error, `${what}: threw ${String(err)}`);
		assert.equal(err.constructor, Error, `${what}: threw a ${err.constructor.name} (${err.message}), not the decoders' Error`);
		assert.doesNotMatch(err.message, /\n/, `${what}: a one-line message`);
		return undefined;
	}
}

/** A fresh ArrayBuffer holding exactly these bytes (decoders get whole buffers from the addon). */
function buffer(bytes: Uint8Array): ArrayBuffer {
	return bytes.slice().buffer;
}

/** Byte-level damage: flips, then a cut at the end. */
const damage = fc.record({
	flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
	cut: fc.option(fc.nat(), { freq: 2 }),
});
function damaged(bytes: Uint8Array, d: { flips: [number, number][]; cut: number | null }): Uint8Array {
	const out = bytes.slice();
	for (const [at, v] of d.flips) if (out.length) out[at % out.length] = v;
	return d.cut === null || out.length === 0 ? out : out.subarray(0, d.cut % (out.length + 1));
}

/** Little-endian u32 at `at`, for building records with a chosen type or length. */
function putU32(bytes: Uint8Array, at: number, v: number): void {
	new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, v >>> 0, true);
}

test('ring-buffer batches: every record a view inside its batch, or one Error', () => {
	const frame = fc.tuple(fc.integer({ min: 0, max: 96 }), fc.uint8Array({ maxLength: 96 })).map(([len, body]) => {
		const padded = Math.ceil(len / RING_BUFFER_FRAME_ALIGN) * RING_BUFFER_FRAME_ALIGN;
		const out = new Uint8Array(RING_BUFFER_FRAME_SIZE + padded);
		putU32(out, 0, len);
		out.set(body.subarray(0, padded), RING_BUFFER_FRAME_SIZE);
		return out;
	});
	fc.assert(
		fc.property(
			fc.oneof(
				fc.uint8Array({ maxLength: 512 }),
				fc.array(frame, { maxLength: 8 }).map((f) => Buffer.concat(f)),
			),
			damage,
			(raw, d) => {
				const batch = buffer(damaged(raw, d));
				const records = expectDecodedOrRefused('ringBufferRecords', () => [...ringBufferRecords(batch)]);
				if (!records) return;
				assert.ok(records.length <= batch.byteLength / RING_BUFFER_FRAME_SIZE, `${records.length} records from ${batch.byteLength} bytes`);
				for (const r of records) {
					assert.equal(r.buffer, batch);
					assert.ok(r.byteOffset + r.byteLength <= batch.byteLength);
				}
			},
		),
		{ numRuns: RUNS },
	);
});

test('TLS records: decoded within their record, or one Error', () => {
	const sizes: Record<number, number> = {
		1: TLS_DATA_EVENT_SIZE,
		2: TLS_CONN_EVENT_SIZE,
		3: TLS_CLOSE_EVENT_SIZE,
		4: TLS_PROC_EVENT_SIZE,
		5: TLS_PROC_EVENT_SIZE,
		6: 16,
	};
	const shaped = fc
		.tuple(fc.integer({ min: 0, max: 8 }), fc.uint8Array({ minLength: 128, maxLength: 128 }), fc.integer({ min: 0, max: 64 }), fc.nat(80))
		.map(([type, fill, payload, capLen]) => {
			const out = new Uint8Array((sizes[type] ?? 16) + payload);
			out.set(fill.subarray(0, out.length));
			putU32(out, 8, type);
			// The data record's cap_len sits at byte 40 in every layout so far; a wrong guess is just more noise.
			if (type === 1) putU32(out, 40, capLen);
			return out;
		});
	fc.assert(
		fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), shaped), damage, (raw, d) => {
			const bytes = damaged(raw, d);
			const view = new DataView(buffer(bytes));
			const ev = expectDecodedOrRefused('decodeTlsEvent', () => decodeTlsEvent(view));
			if (ev?.type === 'data') {
				assert.equal(ev.payload.buffer, view.buffer, 'the payload is a view into the record');
				assert.ok(ev.payload.byteOffset + ev.payload.byteLength <= view.byteLength, 'the payload stays inside its record');
			}
		}),
		{ numRuns: RUNS },
	);
});

test('TCP connection batches and events: decoded, null for an unknown kind, or one Error', () => {
	fc.assert(
		fc.property(
			fc.oneof(
				fc.uint8Array({ maxLength: 3 * TCP_CONN_RECORD_SIZE + 8 }),
				fc
					.integer({ min: 0, max: 3 })
					.chain((n) => fc.uint8Array({ minLength: n * TCP_CONN_RECORD_SIZE, maxLength: n * TCP_CONN_RECORD_SIZE })),
			),
			damage,
			(raw, d) => {
				const buf = buffer(damaged(raw, d));
				const conns = expectDecodedOrRefused('decodeConnections', () => decodeConnections(buf));
				if (conns) assert.equal(conns.length, buf.byteLength / TCP_CONN_RECORD_SIZE);
				for (const c of conns ?? []) assert.ok(c.family === 4 || c.family === 6);
			},
		),
		{ numRuns: RUNS },
	);
	fc.assert(
		fc.property(
			fc.oneof(
				fc.uint8Array({ maxLength: TCP_EVENT_SIZE + 16 }),
				fc
					.tuple(fc.uint8Array({ minLength: TCP_EVENT_SIZE, maxLength: TCP_EVENT_SIZE }), fc.integer({ min: 0, max: 6 }))
					.map(([b, kind]) => {
						putU32(b, 16, kind);
						return b;
					}),
			),
			damage,
			(raw, d) => {
				const view = new DataView(buffer(damaged(raw, d)));
				expectDecodedOrRefused('decodeEvent', () => decodeEvent(view));
			},
		),
		{ numRuns: RUNS },
	);
});

test('profile counts and stacks: decoded within the batch, or one Error', () => {
	const stackRecord = fc
		.tuple(fc.integer(), fc.array(fc.bigUint64Array({ minLength: 1, maxLength: 1 }), { maxLength: 12 }), fc.integer({ min: -2, max: 2 }))
		.map(([id, ips, skew]) => {
			const out = new Uint8Array(PROFILE_STACK_HEAD_SIZE + ips.length * 8);
			const view = new DataView(out.buffer);
			view.setInt32(0, id, true);
			view.setUint32(4, Math.max(0, ips.length + skew), true);
			ips.forEach((ip, i) => view.setBigUint64(PROFILE_STACK_HEAD_SIZE + i * 8, ip[0]!, true));
			return out;
		});
	fc.assert(
		fc.property(
			fc.oneof(
				fc.uint8Array({ maxLength: 400 }),
				fc.array(stackRecord, { maxLength: 6 }).map((r) => Buffer.concat(r)),
			),
			damage,
			(raw, d) => {
				const buf = buffer(damaged(raw, d));
				const stacks = expectDecodedOrRefused('decodeStacks', () => decodeStacks(buf));
				let ips = 0;
				for (const s of stacks?.values() ?? []) ips += s.length;
				assert.ok(ips * 8 <= buf.byteLength, `${ips} addresses from ${buf.byteLength} bytes`);
			},
		),
		{ numRuns: RUNS },
	);
	fc.assert(
		fc.property(fc.uint8Array({ maxLength: 4 * PROFILE_COUNT_SIZE + 7 }), damage, (raw, d) => {
			const buf = buffer(damaged(raw, d));
			const counts = expectDecodedOrRefused('decodeCounts', () => decodeCounts(buf));
			if (counts) assert.equal(counts.length, buf.byteLength / PROFILE_COUNT_SIZE);
		}),
		{ numRuns: RUNS },
	);
});

test('deferred sample records: decoded within the batch, each record its own bytes, or one Error', () => {
	const record = fc
		.tuple(
			fc.integer({ min: 0, max: 130 }),
			fc.integer({ min: 0, max: 64 }),
			fc.integer({ min: -2, max: 2 }),
			fc.uint8Array({ maxLength: 64 }),
		)
		.map(([kernNr, stackLen, skew, fill]) => {
			const out = new Uint8Array(PROFILE_DEFERRED_HEAD_SIZE + stackLen);
			out.set(fill.subarray(0, out.length));
			putU32(out, 40, kernNr);
			putU32(out, 44, Math.max(0, stackLen + skew));
			return out;
		});
	fc.assert(
		fc.property(fc.array(record, { maxLength: 4 }), damage, (records, d) => {
			const buf = buffer(damaged(Buffer.concat(records), d));
			const samples = expectDecodedOrRefused('decodeDeferred', () => decodeDeferred(buf));
			let bytes = 0;
			for (const s of samples ?? []) {
				assert.ok(s.record.length >= PROFILE_DEFERRED_HEAD_SIZE, 'a record holds its head');
				assert.ok(s.kernelIps.length <= 127);
				bytes += s.record.length;
			}
			if (samples) assert.equal(bytes, buf.byteLength, 'the records cover the batch exactly');
		}),
		{ numRuns: RUNS },
	);
});

test('counter arrays: exactly one u64 per named counter, any other size is one Error', () => {
	const decoders: [string, number, (b: ArrayBuffer) => Record<string, number>][] = [
		['profile', PROFILE_COUNTERS.length, decodeCounters],
		['tcp', TCP_COUNTERS.length, decodeTcpCounters],
		['tls', TLS_COUNTERS.length, decodeTlsCounters],
		['any', 3, (b) => decodeCounterArray('any', ['a', 'b', 'c'], b)],
	];
	fc.assert(
		fc.property(
			fc.constantFrom(...decoders),
			fc.integer({ min: -9, max: 9 }),
			fc.uint8Array({ minLength: 200, maxLength: 200 }),
			([what, n, decode], skew, fill) => {
				const size = Math.max(0, n * 8 + skew);
				const decoded = expectDecodedOrRefused(what, () => decode(buffer(fill.subarray(0, size))));
				assert.equal(decoded !== undefined, skew === 0, `${what}: ${size} bytes for ${n} counters`);
				if (decoded) assert.equal(Object.keys(decoded).length, n);
			},
		),
		{ numRuns: RUNS },
	);
});

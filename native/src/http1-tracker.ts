import { loadAddon, type RawHttp1Tracker } from './addon.ts';
import {
	type HeaderNames,
	decodeExchangeRecordAt,
	decodeHttp1Stats,
	HTTP1_EV_EXCHANGE,
	type Http1ConnEvent,
	type Http1ExchangeEvent,
	type Http1ExchangeRecord,
	type Http1Stat,
} from './http1-records.ts';
import { RING_BUFFER_FRAME_ALIGN, RING_BUFFER_FRAME_SIZE } from './ring-buffer-records.ts';
import { decodeTlsEvent, type TlsEvent, type TlsTickEvent } from './tls-records.ts';

export interface Http1TrackerOptions {
	/** Body bytes kept per message for processes with body capture on. */
	maxBodyBytes?: number;
	/** Connections tracked at once; the least recently active is ended to make room. */
	maxConnections?: number;
	/** Connections idle this long are ended (their close may have been missed). */
	idleTimeoutMs?: number;
}

/** The options as the addon takes them, with the defaults filled in. */
export function http1Config(o: Http1TrackerOptions = {}): { maxBodyBytes: number; maxConnections: number; idleTimeoutMs: number } {
	const maxBodyBytes = o.maxBodyBytes ?? 4096;
	const maxConnections = o.maxConnections ?? 16_384;
	const idleTimeoutMs = o.idleTimeoutMs ?? 300_000;
	if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 0 || maxBodyBytes > 2 ** 30) {
		throw new RangeError(`maxBodyBytes must be an integer from 0 to 2^30, got ${maxBodyBytes}`);
	}
	if (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 2 ** 24) {
		throw new RangeError(`maxConnections must be an integer from 1 to 2^24, got ${maxConnections}`);
	}
	if (!(idleTimeoutMs > 0)) throw new RangeError(`idleTimeoutMs must be positive, got ${idleTimeoutMs}`);
	return { maxBodyBytes, maxConnections, idleTimeoutMs };
}

/** What a TlsTracer hands on: exchanges flat (Http1ExchangeRecord), every other record as decodeTlsEvent gives it. */
export type TlsStreamEvent = Exclude<TlsEvent, Http1ExchangeEvent | TlsTickEvent> | Http1ExchangeRecord;

/**
 * Every record of a framed batch, decoded, handed to `each` in order; `onError` gets what does not
 * decode. The frames are walked here rather than through ringBufferRecords' generator: this runs
 * for every record the collector gets, and an iterator result per record is garbage to collect.
 * With `flat`, exchanges come as Http1ExchangeRecords (what the collector's capture reads), their
 * header names and values as `flat.names` says.
 */
export function forEachTlsEvent(batch: ArrayBuffer, onError: (err: Error) => void, each: (ev: TlsEvent) => void): void;
export function forEachTlsEvent(
	batch: ArrayBuffer,
	onError: (err: Error) => void,
	each: (ev: TlsStreamEvent) => void,
	flat: { names?: HeaderNames },
): void;
export function forEachTlsEvent(
	batch: ArrayBuffer,
	onError: (err: Error) => void,
	each: ((ev: TlsEvent) => void) | ((ev: TlsStreamEvent) => void),
	flat?: { names?: HeaderNames },
): void {
	const names = flat?.names;
	const emit = each as (ev: TlsEvent | Http1ExchangeRecord) => void;
	const view = new DataView(batch);
	const end = batch.byteLength;
	for (let off = 0; off < end;) {
		if (off + RING_BUFFER_FRAME_SIZE > end) {
			onError(new Error(`ring-buffer batch ends with ${end - off} bytes, less than a frame header`));
			break;
		}
		const len = view.getUint32(off, true);
		const start = off + RING_BUFFER_FRAME_SIZE;
		if (start + len > end) {
			onError(new Error(`ring-buffer record of ${len} bytes runs past its batch`));
			break;
		}
		let ev: TlsEvent | Http1ExchangeRecord | undefined;
		try {
			// Exchanges, most of what comes, are read through the batch's view.
			ev =
				flat && len >= 16 && view.getUint32(start + 8, true) === HTTP1_EV_EXCHANGE
					? decodeExchangeRecordAt(view, start, len, names)
					: decodeTlsEvent(new DataView(batch, start, len));
		} catch (err) {
			onError(err as Error);
		}
		if (ev && ev.type !== 'tick') emit(ev);
		off = start + Math.ceil(len / RING_BUFFER_FRAME_ALIGN) * RING_BUFFER_FRAME_ALIGN;
	}
}

/** Every record of a framed batch, decoded (forEachTlsEvent into an array). */
export function decodeTlsBatch(batch: ArrayBuffer, onError: (err: Error) => void): TlsEvent[] {
	const events: TlsEvent[] = [];
	forEachTlsEvent(batch, onError, (ev) => events.push(ev));
	return events;
}

/**
 * The addon's HTTP/1 tracker fed from JavaScript: framed tls records (bpf/tls.h) in, what the
 * TlsTracer's poll thread would hand on out. The TlsTracer runs the same tracker on its own
 * thread; this one exists to drive it with chosen bytes (tests, fuzzing, replays).
 */
export class Http1Tracker {
	#raw: RawHttp1Tracker;

	constructor(options: Http1TrackerOptions = {}) {
		this.#raw = new (loadAddon().Http1Tracker)(http1Config(options));
	}

	handle(batch: ArrayBuffer): TlsEvent[] {
		return decodeTlsBatch(this.#raw.handle(batch), throwIt);
	}

	evictIdle(beforeNs: bigint): TlsEvent[] {
		return decodeTlsBatch(this.#raw.evictIdle(beforeNs), throwIt);
	}

	endAll(ns: bigint): TlsEvent[] {
		return decodeTlsBatch(this.#raw.endAll(ns), throwIt);
	}

	connections(): Http1ConnEvent[] {
		return decodeTlsBatch(this.#raw.connections(), throwIt) as Http1ConnEvent[];
	}

	setCaptureBodies(tgid: number, on: boolean): void {
		this.#raw.setCaptureBodies(tgid, on);
	}

	stats(): Record<Http1Stat, number> {
		return decodeHttp1Stats(this.#raw.stats());
	}
}

function throwIt(err: Error): never {
	throw err;
}

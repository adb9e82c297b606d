import { randomBytes } from 'node:crypto';
import { formatRequestIds, type Frame, type ProfileBuilder, type RequestIdEntry, type SampleLabels } from '@firesight/profile';
import { SLOW_REQUEST_MS, isSlowRequest, limits } from '@firesight/protocol';
import { quantile } from './tls/request-aggregates.ts';
import { readClocks } from './monotonic-clock.ts';

/**
 * Where the TLS capture and the profiler meet. The kernel stamps each CPU sample with the id of
 * the request its thread was serving (bpf/request-context.h); the TLS capture says what each id
 * was (its process, endpoint and, once answered, its latency); this module turns the stamps into
 * the samples' `endpoint`, `requestId` and `ambiguous` labels when a profile window closes.
 *
 * An ambiguous sample was taken while several requests were open on its thread, and is stamped
 * with the newest, Z. Every request Y that was open then started before Z and had not ended when
 * Z started: start(Y) <= start(Z) <= end(Y), on the same thread. So the ambiguous samples stamped
 * with a request whose start lies in Y's lifetime, on Y's thread, hold every sample of that
 * thread taken during Y's lifetime (its "CPU during this request" when attribution is
 * ambiguous), plus perhaps some taken after Y ended while Z and another request were still open.
 * Such a sample's `requestId` lists every slow request it may belong to (`parseRequestIds` in
 * @firesight/profile), marking those it may come after.
 *
 * A request's parse can arrive after the samples it caused (the ring buffer is drained every
 * 100 ms, the profile maps every tick), so stamped samples are held until their window closes.
 * Those whose request is still unknown then, or still young and open, wait for one more window;
 * after that an unknown request's samples go out unlabelled and are counted, never guessed.
 */

/** What the profile side hands over: samples stamped with a request, and when to label them. */
export interface SampleAttribution {
	/** A stamped sample: `stack` holds ids interned in `builder`'s frame table. */
	hold(builder: ProfileBuilder, stack: readonly number[], weight: number, labels: SampleLabels, request: number, ambiguous: boolean): void;
	/** The window of `builder` closes: labels what can be and appends it. `final`: nothing waits. */
	flush(builder: ProfileBuilder, final?: boolean): void;
}

export interface RequestAttributionOptions {
	/**
	 * Samples keep their request's `requestId` (so "CPU during this request" can find them) when
	 * the request took at least this long, or at least the p99 of its endpoint's requests that
	 * ended in the same window (`isSlowRequest`); the others merge per endpoint. Default
	 * `SLOW_REQUEST_MS`, the threshold the dashboard offers "CPU during this request" at.
	 */
	slowMs?: number;
	/** The first part of every `requestId` (`boot:id`): unique per run of the collector. */
	boot?: string;
	/** Requests remembered at most; past it the oldest are forgotten (counted). */
	maxRequests?: number;
}

export interface RequestAttributionStats {
	/** Samples stamped with a request the TLS capture never described: sent without labels. */
	samplesUnattributed: number;
	/** Requests forgotten to stay within maxRequests before their samples were labelled. */
	requestsForgotten: number;
	/**
	 * Samples whose list of slow requests (an ambiguous sample's `requestId`) did not fit the
	 * label's length: the oldest requests were left out, so their "CPU during this request" misses them.
	 */
	samplesLifetimeCut: number;
}

interface HeldSample {
	/** Ids in `builder` while in the window they were taken in; frames once carried over. */
	stack: readonly number[] | readonly Frame[];
	builder: ProfileBuilder | undefined;
	weight: number;
	labels: SampleLabels;
	request: number;
	ambiguous: boolean;
}

/** Requests still unanswered after this long are forgotten (their connection died unseen). */
const OPEN_REQUEST_TTL_NS = 600e9;
/** Answered requests this old have had every window they could be labelled in. */
const ANSWERED_TTL_NS = 120e9;
/** Slots a table starts with (it doubles as needed, up to maxRequests). */
const FIRST_SLOTS = 4096;

/**
 * The remembered requests, in columns (no object per request: at thousands of requests a second,
 * a Map of an object per request, kept for two windows, was most of what attribution cost the
 * collector, its garbage collection above all). A Map from request id to slot finds them: the
 * kernel's ids are a sequence per CPU with the CPU in the low bits (tls.bpf.c), so no slot can be
 * taken from the id itself without requests of different CPUs or sequences meeting in one. Past
 * the bound the oldest request goes, found through a queue of slots in the order they were taken
 * (the Map's own first key is no help there: a Map that loses its first keys one by one skips all
 * the deleted ones on every look, which made each request past the bound cost tens of µs).
 * Times are kernel monotonic ns as numbers (exact for 104 days of uptime, then to a few ns).
 */
class RequestTable {
	readonly maxSlots: number;
	/** 0: the slot is free. */
	id: Uint32Array;
	pid: Uint32Array;
	/** The thread that read it, whose samples it stamps; 0 when not known. */
	tid: Uint32Array;
	startNs: Float64Array;
	/** NaN while it is open. */
	latencyMs: Float64Array;
	/** -1 until decided (once, when the window it ended in closes), then 0 or 1. */
	slow: Int8Array;
	/** Window closes since `slow` was decided: kept one more for samples drained late. */
	closes: Uint8Array;
	/** `METHOD /path/template`, cut to the label's wire limit; '' while the request line is unknown. */
	endpoint: string[];
	readonly #slots = new Map<number, number>();
	/** Free slots, taken from the end. */
	#free: number[] = [];
	/** Times each slot was taken: tells a queued slot from the same slot taken again since. */
	#taken: Uint32Array;
	/** Slots in the order they were taken, from #head on, each with its #taken then; some gone since. */
	#queueSlot: number[] = [];
	#queueTaken: number[] = [];
	#head = 0;

	constructor(maxRequests: number) {
		this.maxSlots = Math.max(1, maxRequests);
		const slots = Math.min(FIRST_SLOTS, this.maxSlots);
		this.id = new Uint32Array(slots);
		this.pid = new Uint32Array(slots);
		this.tid = new Uint32Array(slots);
		this.startNs = new Float64Array(slots);
		this.latencyMs = new Float64Array(slots);
		this.slow = new Int8Array(slots);
		this.closes = new Uint8Array(slots);
		this.endpoint = new Array<string>(slots).fill('');
		this.#taken = new Uint32Array(slots);
		this.#freeFrom(0);
	}

	get size(): number {
		return this.#slots.size;
	}

	/** The slot of request `id`, or -1 when it is not remembered. */
	slot(id: number): number {
		return this.#slots.get(id) ?? -1;
	}

	/** The slot of the request remembered longest, or -1 when there is none. */
	oldest(): number {
		for (; this.#head < this.#queueSlot.length; this.#head++) {
			const s = this.#queueSlot[this.#head]!;
			if (this.id[s] !== 0 && this.#taken[s] === this.#queueTaken[this.#head]) return s;
		}
		return -1;
	}

	/** A free slot for request `id` (not remembered, and the table not at its bound), its columns to be filled. */
	take(id: number): number {
		if (this.#free.length === 0) this.#grow();
		const s = this.#free.pop()!;
		this.id[s] = id;
		this.#slots.set(id, s);
		this.#taken[s] = (this.#taken[s]! + 1) >>> 0;
		// Entries passed or gone are dropped once they are most of the queue: amortized O(1) a request.
		if (this.#queueSlot.length >= 2 * this.#slots.size + 1024) this.#compactQueue();
		this.#queueSlot.push(s);
		this.#queueTaken.push(this.#taken[s]!);
		return s;
	}

	/** The queue without its gone entries, in the same order. */
	#compactQueue(): void {
		const slots: number[] = [];
		const taken: number[] = [];
		for (let i = this.#head; i < this.#queueSlot.length; i++) {
			const s = this.#queueSlot[i]!;
			if (this.id[s] !== 0 && this.#taken[s] === this.#queueTaken[i]) {
				slots.push(s);
				taken.push(this.#queueTaken[i]!);
			}
		}
		this.#queueSlot = slots;
		this.#queueTaken = taken;
		this.#head = 0;
	}

	/** Forgets the request in slot `s` (nothing when it is free, or -1). */
	remove(s: number): void {
		const id = s >= 0 ? this.id[s]! : 0;
		if (id === 0) return;
		this.#slots.delete(id);
		this.id[s] = 0;
		this.endpoint[s] = '';
		this.#free.push(s);
	}

	/** Twice the slots (within the bound): every remembered request keeps its slot. */
	#grow(): void {
		const n = this.id.length;
		const slots = Math.min(n * 2, this.maxSlots);
		const wider = <T extends Uint32Array | Float64Array | Int8Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
			const b = new make(slots);
			b.set(a);
			return b;
		};
		this.id = wider(this.id, Uint32Array);
		this.pid = wider(this.pid, Uint32Array);
		this.tid = wider(this.tid, Uint32Array);
		this.startNs = wider(this.startNs, Float64Array);
		this.latencyMs = wider(this.latencyMs, Float64Array);
		this.slow = wider(this.slow, Int8Array);
		this.closes = wider(this.closes, Uint8Array);
		for (let s = n; s < slots; s++) this.endpoint.push('');
		this.#freeFrom(n);
	}

	/** Slots from `first` to the end are free; the lowest are taken first. */
	#freeFrom(first: number): void {
		for (let s = this.id.length - 1; s >= first; s--) this.#free.push(s);
	}
}

export class RequestAttribution implements SampleAttribution {
	readonly boot: string;
	readonly stats: RequestAttributionStats = { samplesUnattributed: 0, requestsForgotten: 0, samplesLifetimeCut: 0 };
	readonly #slowMs: number;
	readonly #table: RequestTable;
	#held: HeldSample[] = [];
	#startsSinceSweep = 0;

	constructor(options: RequestAttributionOptions = {}) {
		this.boot = options.boot ?? randomBytes(4).toString('hex');
		this.#slowMs = options.slowMs ?? SLOW_REQUEST_MS;
		this.#table = new RequestTable(options.maxRequests ?? 200_000);
	}

	/** The wire form of a request id, shared by the request record and its samples. */
	requestId(request: number): string {
		return `${this.boot}:${request}`;
	}

	/**
	 * The kernel gave a request id to the read at `startNs` (kernel monotonic ns) that began a
	 * request in process `pid`, on thread `tid`; `endpoint` is `METHOD /path/template` from its
	 * request line, or ''.
	 */
	requestStarted(request: number, pid: number, startNs: bigint, endpoint: string, tid = 0): void {
		if (request === 0) return;
		const t = this.#table;
		// An id that wrapped around is a new request: what was kept of the old one goes.
		t.remove(t.slot(request));
		if (t.size >= t.maxSlots) {
			t.remove(t.oldest());
			this.stats.requestsForgotten++;
		}
		const s = t.take(request);
		t.pid[s] = pid;
		t.tid[s] = tid;
		const start = Number(startNs);
		t.startNs[s] = start;
		t.latencyMs[s] = NaN;
		t.slow[s] = -1;
		t.closes[s] = 0;
		t.endpoint[s] = cutEndpoint(endpoint);
		// Without window closes (the profiler is off) nothing else would let go of them.
		if (++this.#startsSinceSweep >= Math.max(4096, t.id.length >> 3)) {
			this.#startsSinceSweep = 0;
			for (let i = 0; i < t.id.length; i++) {
				if (t.id[i] === 0) continue;
				const age = start - t.startNs[i]!;
				if (age > OPEN_REQUEST_TTL_NS || (!Number.isNaN(t.latencyMs[i]!) && age > ANSWERED_TTL_NS)) t.remove(i);
			}
		}
	}

	/**
	 * A server exchange of `pid` was answered, whose request began with the read the kernel gave
	 * id `request` (the addon's tracker pairs them: 0 when the kernel gave it none): returns the
	 * `requestId` its record and samples share, or undefined when the request is not known.
	 */
	requestFinished(request: number, pid: number, endpoint: string, latencyMs: number): string | undefined {
		const t = this.#table;
		const s = t.slot(request);
		// Answered already: a request is answered once (an id that wrapped around is another).
		if (s < 0 || t.pid[s] !== pid || !Number.isNaN(t.latencyMs[s]!)) return undefined;
		t.endpoint[s] = cutEndpoint(endpoint);
		t.latencyMs[s] = Math.max(0, latencyMs);
		return this.requestId(request);
	}

	hold(builder: ProfileBuilder, stack: readonly number[], weight: number, labels: SampleLabels, request: number, ambiguous: boolean): void {
		this.#held.push({ stack, builder, weight, labels, request, ambiguous });
	}

	flush(builder: ProfileBuilder, final = false): void {
		const nowNs = Number(readClocks().ns);
		const t = this.#table;
		this.#decideSlow();
		const carried: HeldSample[] = [];
		const lifetimes = new Lifetimes(this, t, nowNs);
		for (const h of this.#held) {
			const carriedBefore = h.builder === undefined;
			const s = t.slot(h.request);
			const known = s >= 0 && t.pid[s] === h.labels.pid;
			const done = known && !Number.isNaN(t.latencyMs[s]!);
			const slowSoFar = known && (nowNs - t.startNs[s]!) / 1e6 >= this.#slowMs;
			const endpoint = known ? t.endpoint[s]! : '';
			const lifetime = known && h.ambiguous ? lifetimes.of(h.request, s) : undefined;
			// Unknown, or open and young enough that it may still turn slow (it, or for an
			// ambiguous sample a request open before it on the thread): one more window.
			if (!final && !carriedBefore && (!known || (!done && !slowSoFar) || endpoint === '' || lifetime?.wait === true)) {
				carried.push(carry(h));
				continue;
			}
			let labels: SampleLabels = { pid: h.labels.pid, comm: h.labels.comm };
			if (known && endpoint !== '') {
				const slow = done ? t.slow[s] === 1 : slowSoFar;
				const requestId = lifetime ? lifetime.label : slow ? this.requestId(h.request) : undefined;
				if (lifetime?.cut === true) this.stats.samplesLifetimeCut += h.weight;
				labels = {
					...labels,
					endpoint,
					...(requestId !== undefined ? { requestId } : {}),
					...(h.ambiguous ? { ambiguous: true } : {}),
				};
			} else this.stats.samplesUnattributed += h.weight;
			append(builder, h, labels);
		}
		this.#held = carried;
		this.#expire(nowNs);
	}

	/** Requests remembered now (for tests and the benchmark). */
	get size(): number {
		return this.#table.size;
	}

	/** Slow as a window close decides it: answered and decided, or open and older than the threshold. */
	isSlow(s: number, nowNs: number): boolean | undefined {
		const t = this.#table;
		if (!Number.isNaN(t.latencyMs[s]!)) return t.slow[s] === 1;
		return (nowNs - t.startNs[s]!) / 1e6 >= this.#slowMs ? true : undefined;
	}

	/** Slow or not, for requests answered since the last close: over the threshold or their endpoint's p99. */
	#decideSlow(): void {
		const t = this.#table;
		// By endpoint, then process: the endpoint strings are shared, so no key is built per request.
		const fresh = new Map<string, Map<number, number[]>>();
		for (let s = 0; s < t.id.length; s++) {
			if (t.id[s] === 0 || t.slow[s] !== -1 || Number.isNaN(t.latencyMs[s]!)) continue;
			let byPid = fresh.get(t.endpoint[s]!);
			if (!byPid) fresh.set(t.endpoint[s]!, (byPid = new Map()));
			let list = byPid.get(t.pid[s]!);
			if (!list) byPid.set(t.pid[s]!, (list = []));
			list.push(s);
		}
		for (const byPid of fresh.values()) {
			for (const list of byPid.values()) {
				const p99 = quantile(
					list.map((s) => t.latencyMs[s]!).sort((a, b) => a - b),
					0.99,
				);
				for (const s of list) t.slow[s] = isSlowRequest(t.latencyMs[s]!, p99, this.#slowMs) ? 1 : 0;
			}
		}
	}

	/** Drops answered requests one close after their samples were labelled, and stale open ones. */
	#expire(nowNs: number): void {
		const t = this.#table;
		for (let s = 0; s < t.id.length; s++) {
			if (t.id[s] === 0) continue;
			if (t.slow[s] !== -1) {
				if (t.closes[s]!++ >= 1) t.remove(s);
			} else if (nowNs - t.startNs[s]! > OPEN_REQUEST_TTL_NS) t.remove(s);
		}
	}
}

/** A request's end (its response's last byte), kernel monotonic ns; undefined while it is open. */
function endNs(t: RequestTable, s: number): number | undefined {
	const latency = t.latencyMs[s]!;
	return Number.isNaN(latency) ? undefined : t.startNs[s]! + latency * 1e6;
}

/** The `requestId` label of an ambiguous sample stamped with a request (see `Lifetimes.of`). */
interface LifetimeLabel {
	label: string | undefined;
	/** A request open before it on the thread is still open and may yet turn slow. */
	wait: boolean;
	/** The oldest requests did not fit the label. */
	cut: boolean;
}

/** (request id, its slot in the table). */
type Slot = readonly [number, number];

/**
 * For one window close: which slow requests' lifetimes may hold an ambiguous sample, per stamp.
 * Only the threads an ambiguous sample asks about are worked out, each in one sweep of its
 * requests in start order, keeping those still open at the point reached: a window of many
 * requests costs its requests times the few open at once, not its requests squared.
 */
class Lifetimes {
	readonly #attribution: RequestAttribution;
	readonly #table: RequestTable;
	readonly #nowNs: number;
	#byThread: Map<string, Slot[]> | undefined;
	readonly #swept = new Map<string, Map<number, LifetimeLabel>>();

	constructor(attribution: RequestAttribution, table: RequestTable, nowNs: number) {
		this.#attribution = attribution;
		this.#table = table;
		this.#nowNs = nowNs;
	}

	/**
	 * The `requestId` label of an ambiguous sample stamped with `request` (`z`, in slot `s`): every
	 * slow request Y of its thread with start(Y) <= start(z) <= end(Y), oldest first (see
	 * `parseRequestIds`), marked when the sample may come after Y ended.
	 */
	of(request: number, s: number): LifetimeLabel {
		const t = this.#table;
		// Without its thread only the stamp itself is known to hold the sample.
		if (t.tid[s] === 0) return this.#label(request, s, [[request, s]]);
		const key = `${t.pid[s]}:${t.tid[s]}`;
		let labels = this.#swept.get(key);
		if (!labels) this.#swept.set(key, (labels = this.#sweep(this.#threads().get(key) ?? [])));
		return labels.get(request) ?? this.#label(request, s, [[request, s]]);
	}

	/** The label of every request of one thread (oldest first), as a stamp. */
	#sweep(thread: readonly Slot[]): Map<number, LifetimeLabel> {
		const t = this.#table;
		const out = new Map<number, LifetimeLabel>();
		// Slow (or maybe slow) requests not known to have ended before the point reached.
		let open: Slot[] = [];
		for (const [id, z] of thread) {
			open = open.filter(([, y]) => {
				const yEnd = endNs(t, y);
				return yEnd === undefined || yEnd >= t.startNs[z]!;
			});
			if (this.#attribution.isSlow(z, this.#nowNs) !== false) open.push([id, z]);
			out.set(id, this.#label(id, z, open));
		}
		return out;
	}

	/** The label of a sample stamped `request` (slot `z`), from the requests open when it started (oldest first). */
	#label(request: number, z: number, open: readonly Slot[]): LifetimeLabel {
		const a = this.#attribution;
		const t = this.#table;
		const entries: RequestIdEntry[] = [];
		let wait = false;
		const zEnd = endNs(t, z);
		for (const [id, y] of open) {
			const slow = a.isSlow(y, this.#nowNs);
			if (slow === undefined) wait = true;
			if (slow !== true) continue;
			const yEnd = endNs(t, y);
			// Inside y's lifetime for sure: a sample of y itself, or of a request that ended before y.
			const inside = id === request || (zEnd !== undefined && (yEnd === undefined || zEnd <= yEnd));
			entries.push({ requestId: a.requestId(id), mayBeAfter: !inside });
		}
		let cut = false;
		while (formatRequestIds(entries).length > limits.shortString) {
			entries.shift();
			cut = true;
		}
		return { label: entries.length > 0 ? formatRequestIds(entries) : undefined, wait, cut };
	}

	/** The requests of each thread (`pid:tid`), oldest first. */
	#threads(): Map<string, Slot[]> {
		if (this.#byThread) return this.#byThread;
		const t = this.#table;
		const by = new Map<string, Slot[]>();
		for (let s = 0; s < t.id.length; s++) {
			if (t.id[s] === 0 || t.tid[s] === 0) continue;
			const key = `${t.pid[s]}:${t.tid[s]}`;
			let list = by.get(key);
			if (!list) by.set(key, (list = []));
			list.push([t.id[s]!, s]);
		}
		for (const list of by.values()) list.sort((x, y) => t.startNs[x[1]]! - t.startNs[y[1]]! || x[0] - y[0]);
		return (this.#byThread = by);
	}
}

function cutEndpoint(endpoint: string): string {
	return endpoint.length <= limits.shortString ? endpoint : endpoint.slice(0, limits.shortString);
}

/** A held sample that waits for the next window: its frames, since that window has its own table. */
function carry(h: HeldSample): HeldSample {
	if (!h.builder) return h;
	const b = h.builder;
	return { ...h, builder: undefined, stack: (h.stack as readonly number[]).map((id) => b.frames.frame(id)) };
}

function append(builder: ProfileBuilder, h: HeldSample, labels: SampleLabels): void {
	if (h.builder === builder) builder.appendSampleIds(h.stack as number[], h.weight, labels);
	else if (h.builder === undefined) builder.appendSample(h.stack as readonly Frame[], h.weight, labels);
	else {
		const from = h.builder;
		builder.appendSample(
			(h.stack as readonly number[]).map((id) => from.frames.frame(id)),
			h.weight,
			labels,
		);
	}
}

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

export interface RequestInfo {
	pid: number;
	/** The thread that read it, whose samples it stamps; 0 when not known. */
	tid: number;
	/** `METHOD /path/template`, cut to the label's wire limit; '' while the request line is unknown. */
	endpoint: string;
	startNs: bigint;
	latencyMs?: number;
	/** Decided once, when the window it ended in closes. */
	slow?: boolean;
	/** Window closes since `slow` was decided: kept one more for samples drained late. */
	closesSinceDecided: number;
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
const OPEN_REQUEST_TTL_NS = 600n * 1_000_000_000n;
/** Answered requests this old have had every window they could be labelled in. */
const ANSWERED_TTL_NS = 120n * 1_000_000_000n;

export class RequestAttribution implements SampleAttribution {
	readonly boot: string;
	readonly stats: RequestAttributionStats = { samplesUnattributed: 0, requestsForgotten: 0, samplesLifetimeCut: 0 };
	readonly #slowMs: number;
	readonly #max: number;
	readonly #requests = new Map<number, RequestInfo>();
	#held: HeldSample[] = [];
	#startsSinceSweep = 0;

	constructor(options: RequestAttributionOptions = {}) {
		this.boot = options.boot ?? randomBytes(4).toString('hex');
		this.#slowMs = options.slowMs ?? SLOW_REQUEST_MS;
		this.#max = options.maxRequests ?? 200_000;
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
		// The id wrapped around: the new request goes to the end, with the youngest.
		this.#requests.delete(request);
		while (this.#requests.size >= this.#max) {
			this.#requests.delete(this.#requests.keys().next().value as number);
			this.stats.requestsForgotten++;
		}
		this.#requests.set(request, { pid, tid, endpoint: cutEndpoint(endpoint), startNs, closesSinceDecided: 0 });
		// Without window closes (the profiler is off) nothing else would let go of them.
		if (++this.#startsSinceSweep >= 4096) {
			this.#startsSinceSweep = 0;
			for (const [id, info] of this.#requests) {
				const age = startNs - info.startNs;
				if (age > OPEN_REQUEST_TTL_NS || (info.latencyMs !== undefined && age > ANSWERED_TTL_NS)) this.#requests.delete(id);
			}
		}
	}

	/**
	 * A server exchange of `pid` was answered, whose request began with the read the kernel gave
	 * id `request` (the addon's tracker pairs them: 0 when the kernel gave it none): returns the
	 * `requestId` its record and samples share, or undefined when the request is not known.
	 */
	requestFinished(request: number, pid: number, endpoint: string, latencyMs: number): string | undefined {
		if (request === 0) return undefined;
		const info = this.#requests.get(request);
		// Answered already: a request is answered once (an id that wrapped around is another).
		if (!info || info.pid !== pid || info.latencyMs !== undefined) return undefined;
		info.endpoint = cutEndpoint(endpoint);
		info.latencyMs = Math.max(0, latencyMs);
		return this.requestId(request);
	}

	hold(builder: ProfileBuilder, stack: readonly number[], weight: number, labels: SampleLabels, request: number, ambiguous: boolean): void {
		this.#held.push({ stack, builder, weight, labels, request, ambiguous });
	}

	flush(builder: ProfileBuilder, final = false): void {
		const nowNs = readClocks().ns;
		this.#decideSlow();
		const carried: HeldSample[] = [];
		const lifetimes = new Lifetimes(this, nowNs);
		for (const h of this.#held) {
			const carriedBefore = h.builder === undefined;
			const info = this.#requests.get(h.request);
			const known = info !== undefined && info.pid === h.labels.pid;
			const done = known && info.latencyMs !== undefined;
			const slowSoFar = known && Number(nowNs - info.startNs) / 1e6 >= this.#slowMs;
			// Unknown, or open and young enough that it may still turn slow: one more window.
			const lifetime = known && h.ambiguous ? lifetimes.of(h.request, info) : undefined;
			// Unknown, or open and young enough that it may still turn slow (it, or for an
			// ambiguous sample a request open before it on the thread): one more window.
			if (!final && !carriedBefore && (!known || (!done && !slowSoFar) || info.endpoint === '' || lifetime?.wait === true)) {
				carried.push(carry(h));
				continue;
			}
			let labels: SampleLabels = { pid: h.labels.pid, comm: h.labels.comm };
			if (known && info.endpoint !== '') {
				const slow = done ? info.slow === true : slowSoFar;
				const requestId = lifetime ? lifetime.label : slow ? this.requestId(h.request) : undefined;
				if (lifetime?.cut === true) this.stats.samplesLifetimeCut += h.weight;
				labels = {
					...labels,
					endpoint: info.endpoint,
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
		return this.#requests.size;
	}

	/** The remembered requests, by id (read by `Lifetimes` while a window closes). */
	get requests(): ReadonlyMap<number, Readonly<RequestInfo>> {
		return this.#requests;
	}

	/** Slow as a window close decides it: answered and decided, or open and older than the threshold. */
	isSlow(info: Readonly<RequestInfo>, nowNs: bigint): boolean | undefined {
		if (info.latencyMs !== undefined) return info.slow === true;
		return Number(nowNs - info.startNs) / 1e6 >= this.#slowMs ? true : undefined;
	}

	/** Slow or not, for requests answered since the last close: over the threshold or their endpoint's p99. */
	#decideSlow(): void {
		const fresh = new Map<string, RequestInfo[]>();
		for (const info of this.#requests.values()) {
			if (info.latencyMs === undefined || info.slow !== undefined) continue;
			const key = `${info.pid}\0${info.endpoint}`;
			let list = fresh.get(key);
			if (!list) fresh.set(key, (list = []));
			list.push(info);
		}
		for (const list of fresh.values()) {
			const p99 = quantile(
				list.map((i) => i.latencyMs!).sort((a, b) => a - b),
				0.99,
			);
			for (const info of list) info.slow = isSlowRequest(info.latencyMs!, p99, this.#slowMs);
		}
	}

	/** Drops answered requests one close after their samples were labelled, and stale open ones. */
	#expire(nowNs: bigint): void {
		for (const [request, info] of this.#requests) {
			if (info.slow !== undefined) {
				if (info.closesSinceDecided++ >= 1) this.#requests.delete(request);
			} else if (nowNs - info.startNs > OPEN_REQUEST_TTL_NS) this.#requests.delete(request);
		}
	}
}

/** A request's end (its response's last byte), kernel monotonic ns; undefined while it is open. */
function endNs(info: Readonly<RequestInfo>): bigint | undefined {
	return info.latencyMs === undefined ? undefined : info.startNs + BigInt(Math.round(info.latencyMs * 1e6));
}

/** The `requestId` label of an ambiguous sample stamped with a request (see `Lifetimes.of`). */
interface LifetimeLabel {
	label: string | undefined;
	/** A request open before it on the thread is still open and may yet turn slow. */
	wait: boolean;
	/** The oldest requests did not fit the label. */
	cut: boolean;
}

/**
 * For one window close: which slow requests' lifetimes may hold an ambiguous sample, per stamp.
 * Only the threads an ambiguous sample asks about are worked out, each in one sweep of its
 * requests in start order, keeping those still open at the point reached: a window of many
 * requests costs its requests times the few open at once, not its requests squared.
 */
class Lifetimes {
	readonly #attribution: RequestAttribution;
	readonly #nowNs: bigint;
	#byThread: Map<string, [number, Readonly<RequestInfo>][]> | undefined;
	readonly #swept = new Map<string, Map<number, LifetimeLabel>>();

	constructor(attribution: RequestAttribution, nowNs: bigint) {
		this.#attribution = attribution;
		this.#nowNs = nowNs;
	}

	/**
	 * The `requestId` label of an ambiguous sample stamped with `request` (`z`): every slow
	 * request Y of its thread with start(Y) <= start(z) <= end(Y), oldest first (see
	 * `parseRequestIds`), marked when the sample may come after Y ended.
	 */
	of(request: number, z: Readonly<RequestInfo>): LifetimeLabel {
		// Without its thread only the stamp itself is known to hold the sample.
		if (z.tid === 0) return this.#label(request, z, [[request, z]]);
		const key = `${z.pid}:${z.tid}`;
		let labels = this.#swept.get(key);
		if (!labels) this.#swept.set(key, (labels = this.#sweep(this.#threads().get(key) ?? [])));
		return labels.get(request) ?? this.#label(request, z, [[request, z]]);
	}

	/** The label of every request of one thread (oldest first), as a stamp. */
	#sweep(thread: readonly [number, Readonly<RequestInfo>][]): Map<number, LifetimeLabel> {
		const out = new Map<number, LifetimeLabel>();
		// Slow (or maybe slow) requests not known to have ended before the point reached.
		let open: [number, Readonly<RequestInfo>][] = [];
		for (const [id, z] of thread) {
			open = open.filter(([, y]) => {
				const yEnd = endNs(y);
				return yEnd === undefined || yEnd >= z.startNs;
			});
			if (this.#attribution.isSlow(z, this.#nowNs) !== false) open.push([id, z]);
			out.set(id, this.#label(id, z, open));
		}
		return out;
	}

	/** The label of a sample stamped `request`, from the requests open when it started (oldest first). */
	#label(request: number, z: Readonly<RequestInfo>, open: readonly [number, Readonly<RequestInfo>][]): LifetimeLabel {
		const a = this.#attribution;
		const entries: RequestIdEntry[] = [];
		let wait = false;
		const zEnd = endNs(z);
		for (const [id, y] of open) {
			const slow = a.isSlow(y, this.#nowNs);
			if (slow === undefined) wait = true;
			if (slow !== true) continue;
			const yEnd = endNs(y);
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
	#threads(): Map<string, [number, Readonly<RequestInfo>][]> {
		if (this.#byThread) return this.#byThread;
		const by = new Map<string, [number, Readonly<RequestInfo>][]>();
		for (const [id, info] of this.#attribution.requests) {
			if (info.tid === 0) continue;
			const key = `${info.pid}:${info.tid}`;
			let list = by.get(key);
			if (!list) by.set(key, (list = []));
			list.push([id, info]);
		}
		for (const list of by.values()) list.sort((x, y) => (x[1].startNs < y[1].startNs ? -1 : x[1].startNs > y[1].startNs ? 1 : 0));
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

import type { ClickHouseClient } from '@clickhouse/client';
import type { Frame, ProfileSample } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile, type ProfileQuery, type TimelineQuery } from '../profile-store.ts';
import { MERGE_SLICE, yieldToLoop } from '../merge-slice.ts';
import { checkQueryBudget } from '../query-budget.ts';
import type { RetentionState } from './retention-state.ts';
import { dayRange, num, str } from './sql.ts';

/** The longest window the protocol accepts; bounds how far back a window overlapping a range starts. */
export const MAX_WINDOW_MS = 3_600_000;
/** Stacks remembered across queries; past this the memory starts over. */
export const DEFAULT_CACHED_STACKS = 2_000_000;
/**
 * Distinct stacks resolved to frames per slice of a merge: each is one dictionary look-up of the
 * stacks the cache lacks (its keys far under max_query_size), then their frames mapped at once.
 */
const STACK_SLICE = MERGE_SLICE / 8;
/** Frames one look-up names at most: a slice's stacks may name far more than it has stacks. */
const FRAME_LOOKUP = 20_000;
/**
 * Rows of an answer turned into objects between two returns to the event loop: a row is parsed
 * JSON, about as much work as several samples of the SQLite merge.
 */
const ROW_SLICE = MERGE_SLICE / 8;

/**
 * Stacks and frames read from the dictionary, kept across queries: keys are content hashes, so
 * an entry never changes and needs no invalidation. An index into `frames` holds only until the
 * cache next starts over (`generation`).
 */
class DictionaryCache {
	readonly stacks = new Map<string, number[]>();
	readonly frames: Frame[] = [];
	/** The hash of each of `frames`. */
	readonly frameHashes: string[] = [];
	readonly frameIndex = new Map<string, number>();
	/** Times the cache outgrew its budget and started over. */
	resets = 0;
	generation = 0;

	constructor(readonly budget: number) {}

	clearIfLarge(): void {
		if (this.stacks.size < this.budget) return;
		this.resets++;
		this.generation++;
		this.stacks.clear();
		this.frames.length = 0;
		this.frameHashes.length = 0;
		this.frameIndex.clear();
	}

	addFrame(hash: string, frame: Frame): void {
		if (this.frameIndex.has(hash)) return;
		this.frameIndex.set(hash, this.frames.length);
		this.frames.push(frame);
		this.frameHashes.push(hash);
	}
}

/**
 * A merged answer's frame table: the frames its samples use, in first-use order. Found by the
 * cache's index while the cache keeps one generation, and by hash across generations, so a key
 * is looked up once per distinct frame and generation, not per frame of every stack.
 */
class AnswerFrames {
	readonly frames: Frame[] = [];
	readonly #byHash = new Map<string, number>();
	#generation = -1;
	#byIndex = new Int32Array(0);

	/** The answer's id of the cache's frame at `index`; in the same synchronous run as the read that gave `index`. */
	of(cache: DictionaryCache, index: number): number {
		if (cache.generation !== this.#generation) {
			this.#generation = cache.generation;
			this.#byIndex = new Int32Array(cache.frames.length).fill(-1);
		}
		if (index >= this.#byIndex.length) {
			const grown = new Int32Array(Math.max(index + 1, cache.frames.length, this.#byIndex.length * 2)).fill(-1);
			grown.set(this.#byIndex);
			this.#byIndex = grown;
		}
		let id = this.#byIndex[index]!;
		if (id >= 0) return id;
		const hash = cache.frameHashes[index]!;
		id = this.#byHash.get(hash) ?? -1;
		if (id < 0) {
			id = this.frames.push(cache.frames[index]!) - 1;
			this.#byHash.set(hash, id);
		}
		this.#byIndex[index] = id;
		return id;
	}
}

/** What one dictionary look-up read: stacks as their frames' hashes, and frames by hash. */
interface DictionaryRead {
	stacks: Map<string, string[]>;
	frames: Map<string, Frame>;
}

/** A row of a merged query's samples, as ClickHouse sends it (JSONEachRow). */
interface SampleRow {
	/** Stack hash. */
	s: string;
	p: number;
	c: string;
	/** Summed count, as text (a UInt64). */
	n: string;
	e: string;
	r: string;
	a: number;
}

/**
 * Merged profiles: ClickHouse sums samples by (stack, pid, comm, request labels) over the matching windows of
 * every host at once; the stacks' frames come from the dictionary (and a cache of it). What
 * ClickHouse answers is read as a stream of rows and merged in slices with the event loop free
 * between them (MERGE_SLICE), so a whole-host hour does not hold the hub for seconds. Only hashes
 * cross a slice boundary: the cache may start over between two slices (another query's look-up),
 * so what a slice reads of it, it turns into the answer's frames before it ends.
 */
export class ProfileReader {
	readonly #client: ClickHouseClient;
	readonly #retention: RetentionState;
	readonly #cache: DictionaryCache;

	constructor(client: ClickHouseClient, retention: RetentionState, cacheBudget = DEFAULT_CACHED_STACKS) {
		this.#client = client;
		this.#retention = retention;
		this.#cache = new DictionaryCache(cacheBudget);
	}

	/** Times the cache of stacks read from the dictionary started over. */
	get cacheResets(): number {
		return this.#cache.resets;
	}

	async query(q: ProfileQuery): Promise<MergedProfile> {
		const lo = q.fromMs - MAX_WINDOW_MS;
		const days = dayRange(lo, q.toMs);
		const where = [
			days,
			`start_ms > ${num(Math.max(0, lo))}`,
			`start_ms < ${num(q.toMs)}`,
			`start_ms + duration_ms > ${num(q.fromMs)}`,
			this.#visible(),
		];
		if (q.host !== undefined) where.push(`host = ${str(q.host)}`);
		const windowWhere = where.join(' AND ');
		const sampleWhere = [...where, 'stack != 0'];
		sampleWhere.push(...sampleFilters(q));
		const rows: SampleRow[] = [];
		/** Each distinct stack of the answer, in first-use order, with its frames once resolved. */
		const stacks = new Map<string, number[] | undefined>();
		const [windows] = await Promise.all([
			this.#rows<{ n: string; fd: number | null; d: string }>(
				`SELECT count() AS n, sum(frequency_hz * duration_ms) AS fd, sum(duration_ms) AS d FROM profile_windows WHERE ${windowWhere}`,
			),
			// In order of first appearance (window start, then place in the window), as stored.
			this.#eachRow<SampleRow>(
				`SELECT toString(stack) AS s, pid AS p, comm AS c, toString(sum(count)) AS n, endpoint AS e, request_id AS r, ambiguous AS a
				 FROM profile_samples WHERE ${sampleWhere.join(' AND ')}
				 GROUP BY stack, pid, comm, endpoint, request_id, ambiguous ORDER BY min(start_ms * 1048576 + ord)`,
				(row) => {
					rows.push(row);
					if (!stacks.has(row.s)) stacks.set(row.s, undefined);
				},
			),
		]);
		const answer = new AnswerFrames();
		const keys = [...stacks.keys()];
		const slices: string[][] = [];
		for (let i = 0; i < keys.length; i += STACK_SLICE) slices.push(keys.slice(i, i + STACK_SLICE));
		// The next slice's look-up runs while this one's is applied: one round trip after another
		// made a whole-host hour wait on each in turn.
		const lookUpSlice = (i: number) => {
			const read = this.#lookUp(days, slices[i]!, true);
			// Awaited later, or left behind when this query fails first: never an unhandled rejection.
			read.catch(() => {});
			return read;
		};
		let next = slices.length > 0 ? lookUpSlice(0) : undefined;
		for (let i = 0; i < slices.length; i++) {
			const read = await next!;
			checkQueryBudget();
			next = i + 1 < slices.length ? lookUpSlice(i + 1) : undefined;
			let todo = this.#apply(slices[i]!, read, stacks, answer);
			// Again only for stacks the cache forgot while this slice read the dictionary; this time
			// every frame of them is read, so nothing the cache may forget again is needed.
			while (todo.length > 0) todo = this.#apply(todo, await this.#lookUp(days, todo, false), stacks, answer);
			await yieldToLoop();
		}
		const samples: ProfileSample[] = [];
		for (let i = 0; i < rows.length; i++) {
			if (i > 0 && i % ROW_SLICE === 0) await yieldToLoop();
			const { s, p, c, n, e, r, a } = rows[i]!;
			const sample: { -readonly [K in keyof ProfileSample]: ProfileSample[K] } = {
				pid: Number(p),
				comm: c,
				stack: stacks.get(s)!.slice(),
				weight: Number(n),
			};
			if (e !== '') sample.endpoint = e;
			if (r !== '') sample.requestId = r;
			if (Number(a) !== 0) sample.ambiguous = true;
			samples.push(sample);
		}
		const w = windows[0];
		const d = Number(w?.d ?? 0);
		return {
			profile: {
				startMs: q.fromMs,
				durationMs: Math.max(0, q.toMs - q.fromMs),
				frequencyHz: d > 0 ? Number(w?.fd ?? 0) / d : FALLBACK_FREQUENCY_HZ,
				frames: answer.frames,
				samples,
			},
			windows: Number(w?.n ?? 0),
		};
	}

	/** Samples per bucket, summed by ClickHouse; a window counts in its start's bucket. */
	async timeline(q: TimelineQuery): Promise<number[]> {
		const buckets = new Array<number>(Math.max(0, Math.ceil((q.toMs - q.fromMs) / q.bucketMs))).fill(0);
		if (buckets.length === 0) return buckets;
		const lo = q.fromMs - MAX_WINDOW_MS;
		const where = [
			dayRange(lo, q.toMs),
			`start_ms > ${num(Math.max(0, lo))}`,
			`start_ms < ${num(q.toMs)}`,
			`start_ms + duration_ms > ${num(q.fromMs)}`,
			this.#visible(),
			'stack != 0',
		];
		if (q.host !== undefined) where.push(`host = ${str(q.host)}`);
		where.push(...sampleFilters(q));
		const rows = await this.#compact<[string, string]>(
			`SELECT toString(intDiv(greatest(toInt64(start_ms), ${num(q.fromMs)}) - ${num(q.fromMs)}, ${num(q.bucketMs)})) AS b, toString(sum(count))
			 FROM profile_samples WHERE ${where.join(' AND ')} GROUP BY b`,
		);
		for (const [b, count] of rows) {
			const i = Math.min(buckets.length - 1, Number(b));
			buckets[i]! += Number(count);
		}
		return buckets;
	}

	/** Windows that ended after the retention cutoff. */
	#visible(): string {
		const cutoff = this.#retention.cutoffMs;
		return Number.isFinite(cutoff) ? `start_ms + duration_ms > ${num(cutoff)}` : '1';
	}

	/**
	 * Reads from the days the query covers the stacks of `keys` the cache lacks, and their frames
	 * it lacks (`trustCache`), or all of their frames.
	 */
	async #lookUp(days: string, keys: readonly string[], trustCache: boolean): Promise<DictionaryRead> {
		this.#cache.clearIfLarge();
		const missing = keys.filter((s) => !this.#cache.stacks.has(s));
		const read: DictionaryRead = { stacks: new Map(), frames: new Map() };
		if (missing.length === 0) return read;
		await this.#eachRow<{ s: string; f: string[] }>(
			`SELECT toString(stack) AS s, arrayMap(f -> toString(f), any(frames)) AS f FROM profile_stacks
			 WHERE ${days} AND stack IN (${missing.join(',')}) GROUP BY stack`,
			(row) => read.stacks.set(row.s, row.f),
		);
		for (const s of missing) if (!read.stacks.has(s)) throw new Error(`store corrupt: sample refers to missing stack ${s}`);
		const wanted = new Set<string>();
		for (const hashes of read.stacks.values()) for (const f of hashes) if (!trustCache || !this.#cache.frameIndex.has(f)) wanted.add(f);
		const list = [...wanted];
		for (let i = 0; i < list.length; i += FRAME_LOOKUP) {
			await this.#eachRow<{ h: string; k: Frame['kind']; m: string; n: string }>(
				`SELECT toString(frame) AS h, any(kind) AS k, any(module) AS m, any(name) AS n FROM profile_frames
				 WHERE ${days} AND frame IN (${list.slice(i, i + FRAME_LOOKUP).join(',')}) GROUP BY frame`,
				(row) => read.frames.set(row.h, { name: row.n, module: row.m, kind: row.k }),
			);
		}
		for (const f of wanted) if (!read.frames.has(f)) throw new Error(`store corrupt: a stack refers to missing frame ${f}`);
		return read;
	}

	/**
	 * Adds what a look-up read to the cache, and sets in `into` the answer's frames of each of
	 * `keys`. Synchronous: the cache's indices hold until it next starts over. Returns the keys it
	 * could not resolve, because the cache forgot a stack or frame the look-up trusted it with.
	 */
	#apply(keys: readonly string[], read: DictionaryRead, into: Map<string, number[] | undefined>, answer: AnswerFrames): string[] {
		for (const [hash, frame] of read.frames) this.#cache.addFrame(hash, frame);
		for (const [stack, hashes] of read.stacks) {
			if (this.#cache.stacks.has(stack)) continue;
			const indices: number[] = [];
			for (const f of hashes) {
				const index = this.#cache.frameIndex.get(f);
				if (index === undefined) break;
				indices.push(index);
			}
			if (indices.length === hashes.length) this.#cache.stacks.set(stack, indices);
		}
		const again: string[] = [];
		for (const stack of keys) {
			const shared = this.#cache.stacks.get(stack);
			if (shared === undefined) again.push(stack);
			else
				into.set(
					stack,
					shared.map((index) => answer.of(this.#cache, index)),
				);
		}
		return again;
	}

	/**
	 * Streams a JSONEachRow answer into `onRow`, returning to the event loop every ROW_SLICE rows
	 * (a whole answer parsed at once is a long pause of its own).
	 */
	async #eachRow<T>(query: string, onRow: (row: T) => void): Promise<void> {
		const result = await this.#client.query({ query, format: 'JSONEachRow' });
		let done = 0;
		for await (const rows of result.stream<T>()) {
			for (const row of rows) onRow(row.json());
			done += rows.length;
			if (done >= ROW_SLICE) {
				done = 0;
				checkQueryBudget();
				await yieldToLoop();
			}
		}
	}

	async #rows<T>(query: string): Promise<T[]> {
		return (await this.#client.query({ query, format: 'JSONEachRow' })).json<T>();
	}

	async #compact<T>(query: string): Promise<T[]> {
		const result = await (await this.#client.query({ query, format: 'JSONCompact' })).json<T>();
		return result.data;
	}
}

/** The conditions on sample rows a query's pid, comm, endpoint and request filters make. */
function sampleFilters(q: ProfileQuery): string[] {
	const where: string[] = [];
	if (q.pid !== undefined) where.push(`pid = ${num(q.pid)}`);
	if (q.comm !== undefined) where.push(`comm = ${str(q.comm)}`);
	if (q.endpoint !== undefined) where.push(`endpoint = ${str(q.endpoint)}`);
	// A request's id, or one entry of an ambiguous sample's list (`parseRequestIds`).
	if (q.requestId !== undefined) where.push(`has(splitByChar(' ', replaceAll(request_id, '+', '')), ${str(q.requestId)})`);
	return where;
}

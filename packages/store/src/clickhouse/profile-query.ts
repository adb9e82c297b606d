import type { ClickHouseClient } from '@clickhouse/client';
import type { Frame, ProfileSample } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile, type ProfileQuery, type TimelineQuery } from '../profile-store.ts';
import type { RetentionState } from './retention-state.ts';
import { dayRange, num, str } from './sql.ts';

/** The longest window the protocol accepts; bounds how far back a window overlapping a range starts. */
export const MAX_WINDOW_MS = 3_600_000;
/** Dictionary keys one look-up names at most (the query text stays far under max_query_size). */
const LOOKUP_CHUNK = 20_000;
/** Stacks remembered across queries; past this the memory starts over. */
export const DEFAULT_CACHED_STACKS = 2_000_000;

/**
 * Stacks and frames read from the dictionary, kept across queries: keys are content hashes, so
 * an entry never changes and needs no invalidation.
 */
class DictionaryCache {
	readonly stacks = new Map<string, number[]>();
	readonly frames: Frame[] = [];
	readonly frameIndex = new Map<string, number>();
	/** Times the cache outgrew its budget and started over. */
	resets = 0;

	constructor(readonly budget: number) {}

	clearIfLarge(): void {
		if (this.stacks.size < this.budget) return;
		this.resets++;
		this.stacks.clear();
		this.frames.length = 0;
		this.frameIndex.clear();
	}
}

/**
 * Merged profiles: ClickHouse sums samples by (stack, pid, comm, request labels) over the matching windows of
 * every host at once; the stacks' frames come from the dictionary (and a cache of it).
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
		const [windows, rows] = await Promise.all([
			this.#rows<{ n: string; fd: number | null; d: string }>(
				`SELECT count() AS n, sum(frequency_hz * duration_ms) AS fd, sum(duration_ms) AS d FROM profile_windows WHERE ${windowWhere}`,
			),
			// In order of first appearance (window start, then place in the window), as stored.
			this.#compact<[string, number, string, string, string, string, number]>(
				`SELECT toString(stack), pid, comm, toString(sum(count)), endpoint, request_id, ambiguous
				 FROM profile_samples WHERE ${sampleWhere.join(' AND ')}
				 GROUP BY stack, pid, comm, endpoint, request_id, ambiguous ORDER BY min(start_ms * 1048576 + ord)`,
			),
		]);
		await this.#loadStacks(
			days,
			rows.map((r) => r[0]),
		);
		const frames: Frame[] = [];
		const local = new Map<number, number>();
		const samples: ProfileSample[] = rows.map(([stack, pid, comm, count, endpoint, requestId, ambiguous]) => {
			const shared = this.#cache.stacks.get(stack);
			if (shared === undefined) throw new Error(`store corrupt: sample refers to missing stack ${stack}`);
			return {
				pid: Number(pid),
				comm,
				...(endpoint === '' ? {} : { endpoint }),
				...(requestId === '' ? {} : { requestId }),
				...(Number(ambiguous) === 0 ? {} : { ambiguous: true }),
				stack: shared.map((index) => {
					let id = local.get(index);
					if (id === undefined) {
						local.set(index, (id = frames.length));
						frames.push(this.#cache.frames[index]!);
					}
					return id;
				}),
				weight: Number(count),
			};
		});
		const w = windows[0];
		const d = Number(w?.d ?? 0);
		return {
			profile: {
				startMs: q.fromMs,
				durationMs: Math.max(0, q.toMs - q.fromMs),
				frequencyHz: d > 0 ? Number(w?.fd ?? 0) / d : FALLBACK_FREQUENCY_HZ,
				frames,
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

	/** Reads the stacks (and their frames) the cache lacks, from the days the query covers. */
	async #loadStacks(days: string, stacks: readonly string[]): Promise<void> {
		this.#cache.clearIfLarge();
		const missing = [...new Set(stacks.filter((s) => !this.#cache.stacks.has(s)))];
		if (missing.length === 0) return;
		const found = new Map<string, string[]>();
		await Promise.all(
			chunks(missing).map(async (part) => {
				const rows = await this.#compact<[string, string[]]>(
					`SELECT toString(stack), arrayMap(f -> toString(f), any(frames)) FROM profile_stacks
					 WHERE ${days} AND stack IN (${part.join(',')}) GROUP BY stack`,
				);
				for (const [stack, frames] of rows) found.set(stack, frames);
			}),
		);
		const unknownFrames = new Set<string>();
		for (const frames of found.values()) for (const f of frames) if (!this.#cache.frameIndex.has(f)) unknownFrames.add(f);
		await Promise.all(
			chunks([...unknownFrames]).map(async (part) => {
				const rows = await this.#compact<[string, Frame['kind'], string, string]>(
					`SELECT toString(frame), any(kind), any(module), any(name) FROM profile_frames
					 WHERE ${days} AND frame IN (${part.join(',')}) GROUP BY frame`,
				);
				for (const [hash, kind, module, name] of rows) {
					if (this.#cache.frameIndex.has(hash)) continue;
					this.#cache.frameIndex.set(hash, this.#cache.frames.length);
					this.#cache.frames.push({ name, module, kind });
				}
			}),
		);
		for (const [stack, frames] of found) {
			this.#cache.stacks.set(
				stack,
				frames.map((f) => {
					const index = this.#cache.frameIndex.get(f);
					if (index === undefined) throw new Error(`store corrupt: stack ${stack} refers to missing frame ${f}`);
					return index;
				}),
			);
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

function chunks<T>(list: readonly T[]): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < list.length; i += LOOKUP_CHUNK) out.push(list.slice(i, i + LOOKUP_CHUNK));
	return out;
}

import type { HostSummary, MergedProfile, ProfileStore } from '@firesight/store';
import { selectedHosts } from './host-selection.ts';
import type { HostSelection } from './inputs.ts';
import type { RangeBase } from './range-extension.ts';

/** A merged range and what has been derived from it (trees, tables), computed once each. */
export interface CachedRange {
	readonly merged: MergedProfile;
	/** Whether this answer came from the cache rather than a fresh merge. */
	readonly hit: boolean;
	derive<T>(key: string, make: () => T): T;
}

export interface RangeCacheLimits {
	/** Merged ranges kept. */
	readonly maxEntries: number;
	/** Frames in all kept samples' stacks together: the memory bound (a frame id is a number). */
	readonly maxFrames: number;
}

export const DEFAULT_RANGE_CACHE_LIMITS: RangeCacheLimits = { maxEntries: 16, maxFrames: 8_000_000 };

interface Entry {
	stamp: string;
	frames: number;
	merged: Promise<MergedProfile>;
	derived: Map<string, unknown>;
}

export interface RangeCacheStats {
	hits: number;
	misses: number;
	/** Entries dropped because a stored window changed under them. */
	stale: number;
	evicted: number;
	/** Misses answered by extending an earlier range of the same query rather than merging afresh. */
	extended: number;
}

/**
 * Merged profiles of recent queries, least recently used first out. An entry is keyed by the
 * query (range and filters) and stamped with the stored windows of the hosts it covers; a new
 * or pruned window changes the stamp, so the next query does not answer from an outdated merge
 * (it extends the newest merge of the same filters when it can, see `mergedRange`). Zooming,
 * searching and redrawing the same range then reuse one merge.
 */
export class RangeCache {
	readonly #limits: RangeCacheLimits;
	readonly #entries = new Map<string, Entry>();
	#frames = 0;
	/** Per query without its range, the newest merge a later range can be extended from. */
	readonly #bases = new Map<string, RangeBase>();
	readonly stats: RangeCacheStats = { hits: 0, misses: 0, stale: 0, evicted: 0, extended: 0 };

	constructor(limits: RangeCacheLimits = DEFAULT_RANGE_CACHE_LIMITS) {
		this.#limits = limits;
	}

	get size(): number {
		return this.#entries.size;
	}

	/** Forgets every merge (a benchmark's cold start). */
	clear(): void {
		this.#entries.clear();
		this.#bases.clear();
		this.#frames = 0;
	}

	/** The range a query of this family (see `rangeFamily`) may be extended from. */
	base(family: string): RangeBase | undefined {
		return this.#bases.get(family);
	}

	setBase(family: string, base: RangeBase): void {
		this.#bases.delete(family);
		this.#bases.set(family, base);
		// As many families as entries, the least recently merged first out.
		for (const key of this.#bases.keys()) {
			if (this.#bases.size <= this.#limits.maxEntries) break;
			this.#bases.delete(key);
		}
	}

	async get(key: string, stamp: string, load: () => Promise<MergedProfile>): Promise<CachedRange> {
		let entry = this.#entries.get(key);
		let hit = entry !== undefined && entry.stamp === stamp;
		if (entry && !hit) {
			this.stats.stale += 1;
			this.#drop(key, entry);
			entry = undefined;
		}
		if (entry) {
			this.stats.hits += 1;
			// Most recently used last.
			this.#entries.delete(key);
			this.#entries.set(key, entry);
		} else {
			this.stats.misses += 1;
			hit = false;
			const created: Entry = { stamp, frames: 0, merged: load(), derived: new Map() };
			entry = created;
			this.#entries.set(key, created);
			// Concurrent queries of one range share the merge in flight; a failed one is not kept.
			created.merged.then(
				(merged) => {
					if (this.#entries.get(key) !== created) return;
					for (const sample of merged.profile.samples) created.frames += sample.stack.length + 1;
					this.#frames += created.frames;
					this.#evict();
				},
				() => {
					if (this.#entries.get(key) === created) this.#drop(key, created);
				},
			);
		}
		const held = entry;
		const merged = await held.merged;
		return {
			merged,
			hit,
			derive<T>(name: string, make: () => T): T {
				if (!held.derived.has(name)) held.derived.set(name, make());
				return held.derived.get(name) as T;
			},
		};
	}

	#drop(key: string, entry: Entry): void {
		this.#entries.delete(key);
		this.#frames -= entry.frames;
	}

	#evict(): void {
		for (const [key, entry] of this.#entries) {
			if (this.#entries.size <= this.#limits.maxEntries && this.#frames <= this.#limits.maxFrames) return;
			// Never the only entry: one merge larger than the bound is still answered once.
			if (this.#entries.size === 1) return;
			this.stats.evicted += 1;
			this.#drop(key, entry);
		}
	}
}

const caches = new WeakMap<object, RangeCache>();

/** The cache of one store: every context built on the same store shares it. */
export function rangeCacheFor(profiles: object): RangeCache {
	let cache = caches.get(profiles);
	if (!cache) {
		cache = new RangeCache();
		caches.set(profiles, cache);
	}
	return cache;
}

/** The stored windows of the selected hosts that have any, sorted by host. */
export async function hostWindows(profiles: Pick<ProfileStore, 'listHosts'>, selection: HostSelection | undefined): Promise<HostSummary[]> {
	const wanted = selectedHosts(selection);
	const all = wanted.includes(undefined);
	return (await profiles.listHosts()).filter((h) => all || wanted.includes(h.host));
}

/** Their number and extent per host: any window stored or pruned for these hosts changes it. */
export function stampOf(hosts: readonly HostSummary[]): string {
	return hosts.map((h) => `${h.host}:${h.windows}:${h.firstMs}:${h.lastMs}`).join('|');
}

import type { Frame } from '@firesight/protocol';
import { KINDS } from './profile-codec.ts';
import { IntMap } from './int-map.ts';
import { StackTable } from './stack-table.ts';

/** The database ids of one host's interned rows, so storing a window mostly skips SQL. */
export interface HostCache {
	id: number;
	/** Frame ids by kind code, then module, then name: no key string is built per frame. */
	frames: Map<string, Map<string, number>>[];
	comms: Map<string, number>;
	/** Request label rows by `labelKey()`, with the last_ms last written for each. */
	labels: Map<string, { id: number; lastMs: number }>;
}

export function newHostCache(id: number): HostCache {
	return { id, frames: KINDS.map(() => new Map()), comms: new Map(), labels: new Map() };
}

/**
 * What the profile store remembers of the database. Insert fills the write side (per-host ids);
 * both insert and query fill the stacks (found by host and frames when storing, by id when
 * merging: their frames as database ids, turned into indices into `frameTable`), so a merged
 * query groups and resolves stacks with integer lookups instead of reading and decoding blobs
 * and frame rows every time.
 */
export class ProfileCaches {
	/**
	 * Entries the caches hold before they start over: a stack, 32 of its frame ids, a frame of a
	 * host, a request label, about 100 to 250 bytes each, so about 4 to 10 MiB at this size. Frames
	 * a collector cannot name make many stacks new: a soak of `up` on a busy 2-core host made
	 * 4,600 stacks a minute (5,500 in its first), about 11,000 entries a minute, so it fills this
	 * in its first 3 minutes and the caches' memory stays level from then on (their arrays are
	 * kept for the next fill). 50 hosts of 300 steady stacks each take about 35,000 entries; a
	 * fleet whose steady stacks outgrow this starts over often (counted) and wants a larger budget.
	 */
	static readonly DEFAULT_BUDGET = 40_000;
	/** Frame ids of stacks that weigh as one entry of the budget. */
	static readonly FRAMES_PER_ENTRY = 32;
	readonly budget: number;
	/** Times the caches outgrew their budget and started over (ids are read again from the database). */
	resets = 0;
	/** Prunes that dropped windows: a merge under way tells a stack a prune took from a corrupt store. */
	prunes = 0;
	/** Times the caches were emptied: frameTable indices a merge under way holds are stale once it moves. */
	generation = 0;
	readonly hosts = new Map<string, HostCache>();
	/** Stored stacks, found by host and frames or by id; their frames are database frame ids. */
	readonly stacks = new StackTable();
	/** Request label rows held over all hosts' `labels`. */
	labels = 0;
	/** Every frame seen, once: equal frames of different hosts share one entry. */
	readonly frameTable: Frame[] = [];
	/** frameTable indices by kind, module and name: no key string is kept per frame. */
	readonly #frameIndexByKey = new Map<string, Map<string, Map<string, number>>>();
	/** frameTable indices by database frame id, in typed arrays rather than a Map entry each. */
	readonly #frameIndexOf = new IntMap(1024);

	constructor(budget = ProfileCaches.DEFAULT_BUDGET) {
		this.budget = budget;
	}

	/** Entries held, to weigh against the budget. */
	get entries(): number {
		return this.stacks.size + Math.ceil(this.stacks.frameCount / ProfileCaches.FRAMES_PER_ENTRY) + this.#frameIndexOf.size + this.labels;
	}

	/** Between windows and queries, never within one: forgets everything once over the budget. */
	trim(): void {
		if (this.entries <= this.budget) return;
		this.forget();
		this.resets++;
	}

	/** A stored stack's frames as indices into frameTable, root first, or undefined when not loaded. */
	stackFrameIndices(stackId: number): number[] | undefined {
		const r = this.stacks.byId(stackId);
		if (r < 0) return undefined;
		return this.stacks.mapFrames(r, (f) => {
			const index = this.#frameIndexOf.get(f);
			if (index < 0) throw new Error(`store corrupt: stack ${stackId} refers to a frame not loaded (${f})`);
			return index;
		});
	}

	/** A database frame's index in frameTable, or undefined when not loaded yet. */
	frameIndexOf(dbId: number): number | undefined {
		const index = this.#frameIndexOf.get(dbId);
		return index < 0 ? undefined : index;
	}

	/** Gives a database frame its index in frameTable (the frame object is kept, not copied). */
	frameIndex(dbId: number, f: Frame): number {
		let index: number | undefined = this.#frameIndexOf.get(dbId);
		if (index >= 0) return index;
		let byModule = this.#frameIndexByKey.get(f.kind);
		if (byModule === undefined) this.#frameIndexByKey.set(f.kind, (byModule = new Map()));
		let byName = byModule.get(f.module);
		if (byName === undefined) byModule.set(f.module, (byName = new Map()));
		index = byName.get(f.name);
		if (index === undefined) {
			index = this.frameTable.length;
			this.frameTable.push(f);
			byName.set(f.name, index);
		}
		this.#frameIndexOf.set(dbId, index);
		return index;
	}

	/** Forgets every cached id: after a prune, or a transaction that rolled back rows they named. */
	forget(): void {
		this.generation++;
		this.hosts.clear();
		this.stacks.clear();
		this.labels = 0;
		this.#frameIndexOf.clear();
		this.#frameIndexByKey.clear();
		this.frameTable.length = 0;
	}
}

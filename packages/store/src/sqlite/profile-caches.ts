import type { Frame } from '@firesight/protocol';
import { KINDS } from './profile-codec.ts';

/** A stack's node in the per-host trie of stacks, keyed by database frame ids root first. */
export interface StackNode {
	/** Database id of the stack ending here, or -1 when only longer stacks pass through. */
	id: number;
	/** The last_ms last written for it. */
	lastMs: number;
	next: Map<number, StackNode> | undefined;
}

/** The database ids of one host's interned rows, so storing a window mostly skips SQL. */
export interface HostCache {
	id: number;
	/** Frame ids by kind code, then module, then name: no key string is built per frame. */
	frames: Map<string, Map<string, number>>[];
	/**
	 * Stacks as a trie over numeric frame ids. Finding a stack walks its frames with integer Map
	 * lookups; the former key (the encoded blob as a string) cost an allocation and a string hash
	 * per stack per window, which dominated storing large windows.
	 */
	stacks: StackNode;
	comms: Map<string, number>;
	/** Request label rows by `labelKey()`, with the last_ms last written for each. */
	labels: Map<string, { id: number; lastMs: number }>;
}

export function newHostCache(id: number): HostCache {
	return { id, frames: KINDS.map(() => new Map()), stacks: { id: -1, lastMs: 0, next: undefined }, comms: new Map(), labels: new Map() };
}

/**
 * What the profile store remembers of the database. Insert fills the write side (per-host ids);
 * both insert and query fill the read side: each stack's frames as indices into `frameTable`,
 * so a merged query groups and resolves stacks with integer lookups instead of reading and
 * decoding blobs and frame rows every time.
 */
export class ProfileCaches {
	/**
	 * Stack-trie nodes, stacks and frames the caches hold before they start over. Frames a
	 * collector cannot name (module+offset, JIT code) make most stacks new: a soak of `up` grew
	 * the trie by about 1,000 nodes a second, without end. About 30 MB at this size.
	 */
	static readonly DEFAULT_BUDGET = 100_000;
	readonly budget: number;
	/** Stack-trie nodes made since the caches last started over. */
	nodes = 0;
	/** Times the caches outgrew their budget and started over (ids are read again from the database). */
	resets = 0;
	/** Prunes that dropped windows: a merge under way tells a stack a prune took from a corrupt store. */
	prunes = 0;
	/** Times the caches were emptied: frameTable indices a merge under way holds are stale once it moves. */
	generation = 0;
	readonly hosts = new Map<string, HostCache>();
	/** Database stack id → indices into frameTable, root first. */
	readonly stackFrames = new Map<number, number[]>();
	/** Every frame seen, once: equal frames of different hosts share one entry. */
	readonly frameTable: Frame[] = [];
	readonly #frameIndexByKey = new Map<string, number>();
	readonly #frameIndexOf = new Map<number, number>();

	constructor(budget = ProfileCaches.DEFAULT_BUDGET) {
		this.budget = budget;
	}

	/** Between windows and queries, never within one: forgets everything once over the budget. */
	trim(): void {
		if (this.nodes + this.stackFrames.size + this.frameTable.length <= this.budget) return;
		this.forget();
		this.resets++;
	}

	/** A database frame's index in frameTable, or undefined when not loaded yet. */
	frameIndexOf(dbId: number): number | undefined {
		return this.#frameIndexOf.get(dbId);
	}

	/** Gives a database frame its index in frameTable (the frame object is kept, not copied). */
	frameIndex(dbId: number, f: Frame): number {
		let index = this.#frameIndexOf.get(dbId);
		if (index !== undefined) return index;
		const key = `${f.kind}\0${f.module}\0${f.name}`;
		index = this.#frameIndexByKey.get(key);
		if (index === undefined) {
			index = this.frameTable.length;
			this.frameTable.push(f);
			this.#frameIndexByKey.set(key, index);
		}
		this.#frameIndexOf.set(dbId, index);
		return index;
	}

	/** Forgets every cached id: after a prune, or a transaction that rolled back rows they named. */
	forget(): void {
		this.generation++;
		this.hosts.clear();
		this.stackFrames.clear();
		this.#frameIndexOf.clear();
		this.#frameIndexByKey.clear();
		this.frameTable.length = 0;
		this.nodes = 0;
	}
}

/**
 * An immutable, address-sorted table of [start, end) ranges with names, searched by binary search.
 *
 * Stored in columns so a table of a few hundred thousand symbols (kallsyms, a big binary) costs
 * a few MB and almost nothing to the garbage collector: addresses as doubles relative to one
 * bigint base (exact, as every table spans far less than 2^53 bytes), names as UTF-8 in one buffer,
 * decoded to strings only when an address hits them.
 */
export interface SymbolEntry {
	start: bigint;
	/** Exclusive end. Equal to start when the size is unknown and nothing bounds it. */
	end: bigint;
	name: string;
	/** Free-form tag carried with the entry (kallsyms uses it for the module name). */
	tag?: string;
}

/** How far back to look for an enclosing range when the nearest start does not cover. */
const NESTED_LOOKBACK = 8;
const TWO32 = 0x1_0000_0000;

/** The columns of a table, as SymbolTableBuilder produces them. */
export interface SymbolColumns {
	base: bigint;
	/** start - base, ascending. */
	starts: Float64Array;
	/** end - base. */
	ends: Float64Array;
	/** UTF-8 names back to back; entry i is nameBytes[nameOffs[i], nameOffs[i + 1]). */
	nameBytes: Buffer;
	nameOffs: Uint32Array;
	/** Index into `tagNames` (0 = no tag), or undefined when no entry has a tag. */
	tagIds: Uint32Array | undefined;
	tagNames: readonly (string | undefined)[];
}

export class SymbolTable {
	private readonly base: bigint;
	private readonly starts: Float64Array;
	private readonly ends: Float64Array;
	private readonly nameBytes: Buffer;
	private readonly nameOffs: Uint32Array;
	private readonly tagIds: Uint32Array | undefined;
	private readonly tagNames: readonly (string | undefined)[];
	/** Names decoded so far (only symbols that were hit), final or not. */
	private readonly decoded = new Map<number, string>();
	/** Indexes whose name has been through the demangler (done lazily, on first hit). */
	private readonly final = new Set<number>();

	/** `entries` must already be sorted by start (see `sortAndMerge`); or columns from a builder. */
	constructor(entries: readonly SymbolEntry[] | SymbolColumns) {
		const c = Array.isArray(entries) ? columnsOf(entries as readonly SymbolEntry[]) : (entries as SymbolColumns);
		this.base = c.base;
		this.starts = c.starts;
		this.ends = c.ends;
		this.nameBytes = c.nameBytes;
		this.nameOffs = c.nameOffs;
		this.tagIds = c.tagIds;
		this.tagNames = c.tagNames;
	}

	get size(): number {
		return this.starts.length;
	}

	/**
	 * Bytes of its columns: what the table holds however it is used. Names decoded on a hit come on
	 * top, as many as the distinct symbols that samples hit.
	 */
	get bytes(): number {
		return (
			this.starts.byteLength + this.ends.byteLength + this.nameBytes.byteLength + this.nameOffs.byteLength + (this.tagIds?.byteLength ?? 0)
		);
	}

	/** Index of the entry covering `addr`, or -1. */
	find(addr: bigint): number {
		const starts = this.starts;
		if (starts.length === 0 || addr < this.base) return -1;
		const d = addr - this.base;
		const x = d > 0x1f_ffff_ffff_ffffn ? Number.POSITIVE_INFINITY : Number(d);
		let lo = 0;
		let hi = starts.length - 1;
		let at = -1;
		while (lo <= hi) {
			const mid = (lo + hi) >>> 1;
			if (starts[mid]! <= x) {
				at = mid;
				lo = mid + 1;
			} else {
				hi = mid - 1;
			}
		}
		// A small symbol nested in a bigger one (or a zero-size marker) can sit between the
		// enclosing function's start and the address.
		for (let i = at; i >= 0 && i > at - NESTED_LOOKBACK; i--) {
			if (x < this.ends[i]!) return i;
		}
		return -1;
	}

	name(i: number): string {
		let n = this.decoded.get(i);
		if (n === undefined) {
			n = this.nameBytes.toString('utf8', this.nameOffs[i]!, this.nameOffs[i + 1]!);
			this.decoded.set(i, n);
		}
		return n;
	}

	/** Replaces a raw name with its final (demangled) form. */
	setFinalName(i: number, name: string): void {
		this.decoded.set(i, name);
		this.final.add(i);
	}

	isFinal(i: number): boolean {
		return this.final.has(i);
	}

	start(i: number): bigint {
		return this.base + BigInt(this.starts[i]!);
	}

	tag(i: number): string | undefined {
		return this.tagIds === undefined ? undefined : this.tagNames[this.tagIds[i]!];
	}
}

function columnsOf(entries: readonly SymbolEntry[]): SymbolColumns {
	const b = new SymbolTableBuilder(entries.length);
	for (const e of entries) {
		const name = Buffer.from(e.name, 'utf8');
		b.add(e.start, Number(e.end - e.start), name, 0, name.length, 0, e.tag === undefined ? 0 : b.tagId(e.tag));
	}
	// Already sorted and merged by the caller: keep every entry, in order.
	const m = b.merge(false, false);
	return b.columns(m);
}

/** Entries after sorting and merging, before their ends are settled and names compacted. */
export interface MergedSymbols {
	readonly length: number;
	/** start - base, ascending and distinct (unless merging was off). */
	readonly starts: Float64Array;
	/** end - base; the caller may adjust these (e.g. extend zero-size symbols). */
	readonly ends: Float64Array;
	/** The candidate each entry came from, for `extra` and `tag`. */
	readonly pick: Uint32Array;
}

/**
 * Collects candidate symbols straight from file bytes (no object per symbol, no bigint per
 * comparison), then sorts them by address, merges those sharing an address, and packs a table.
 * Candidates whose address is more than 2^53 above the lowest one are dropped as nonsense.
 */
export class SymbolTableBuilder {
	private n = 0;
	private lo: Uint32Array;
	private hi: Uint32Array;
	private sizes: Float64Array;
	private extras: Float64Array;
	private ranks: Float64Array;
	private tags: Uint32Array;
	private srcs: Uint16Array;
	private nameStarts: Uint32Array;
	private nameEnds: Uint32Array;
	private readonly sources: Buffer[] = [];
	private readonly tagIndex = new Map<string, number>();
	private readonly tagNames: (string | undefined)[] = [undefined];
	private base: bigint = 0n;

	/**
	 * `capacity`: how many candidates to expect; a good guess spares the garbage of growing
	 * (which a big binary's hundreds of thousands of symbols would make megabytes of).
	 */
	constructor(capacity = 1024) {
		const cap = Math.max(16, Math.ceil(capacity));
		this.lo = new Uint32Array(cap);
		this.hi = new Uint32Array(cap);
		this.sizes = new Float64Array(cap);
		this.extras = new Float64Array(cap);
		this.ranks = new Float64Array(cap);
		this.tags = new Uint32Array(cap);
		this.srcs = new Uint16Array(cap);
		this.nameStarts = new Uint32Array(cap);
		this.nameEnds = new Uint32Array(cap);
	}

	get length(): number {
		return this.n;
	}

	/** A small id for a tag string (0 means none). */
	tagId(tag: string): number {
		let id = this.tagIndex.get(tag);
		if (id === undefined) {
			id = this.tagNames.length;
			this.tagNames.push(tag);
			this.tagIndex.set(tag, id);
		}
		return id;
	}

	/** Adds a candidate given as a bigint start; see addParts. */
	add(start: bigint, size: number, src: Buffer, nameStart: number, nameEnd: number, rank: number, tag = 0, extra = 0): void {
		this.addParts(Number(start & 0xffff_ffffn), Number(start >> 32n), size, src, nameStart, nameEnd, rank, tag, extra);
	}

	/**
	 * Adds a candidate whose start is `hi * 2^32 + lo` and name `src[nameStart, nameEnd)`. Lower
	 * `rank` wins among candidates sharing a start. `extra` is any number the caller wants back
	 * for the kept candidate (e.g. its section's end, relative to its start).
	 */
	addParts(lo: number, hi: number, size: number, src: Buffer, nameStart: number, nameEnd: number, rank: number, tag = 0, extra = 0): void {
		if (this.n === this.lo.length) this.grow();
		let s = this.sources.length - 1;
		if (s < 0 || this.sources[s] !== src) {
			s = this.sources.indexOf(src);
			if (s < 0) s = this.sources.push(src) - 1;
		}
		const i = this.n++;
		this.lo[i] = lo;
		this.hi[i] = hi;
		this.sizes[i] = size > 0 ? size : 0;
		this.extras[i] = extra;
		this.ranks[i] = rank;
		this.tags[i] = tag;
		this.srcs[i] = s;
		this.nameStarts[i] = nameStart;
		this.nameEnds[i] = nameEnd;
	}

	/** Candidate `i`'s `extra` and `tag`. */
	extra(i: number): number {
		return this.extras[i]!;
	}

	tag(i: number): number {
		return this.tags[i]!;
	}

	/**
	 * Sorts by start (stable) and, when `merge`, collapses candidates sharing a start into the one
	 * with the lowest rank (then, when `tieByName`, the shorter name, then the smaller one; else
	 * the first added), keeping the largest end.
	 */
	merge(tieByName: boolean, merge = true): MergedSymbols {
		const n = this.n;
		let bhi = 0xffff_ffff;
		let blo = 0xffff_ffff;
		for (let i = 0; i < n; i++) {
			const h = this.hi[i]!;
			if (h < bhi || (h === bhi && this.lo[i]! < blo)) {
				bhi = h;
				blo = this.lo[i]!;
			}
		}
		if (n === 0) bhi = blo = 0;
		this.base = (BigInt(bhi) << 32n) | BigInt(blo);
		const keys = new Float64Array(n);
		let order = new Uint32Array(n);
		let kept = 0;
		let sorted = true;
		for (let i = 0; i < n; i++) {
			const dh = this.hi[i]! - bhi;
			if (dh >= 0x20_0000) continue; // 2^53 above the base: not a real address
			const k = dh * TWO32 + (this.lo[i]! - blo);
			keys[i] = k;
			if (kept > 0 && k < keys[order[kept - 1]!]!) sorted = false;
			order[kept++] = i;
		}
		order = order.subarray(0, kept);
		if (!sorted) order.sort((a, b) => keys[a]! - keys[b]! || a - b);

		const starts = new Float64Array(kept);
		const ends = new Float64Array(kept);
		const pick = new Uint32Array(kept);
		let m = 0;
		for (let j = 0; j < kept; j++) {
			const c = order[j]!;
			const k = keys[c]!;
			const end = k + this.sizes[c]!;
			if (merge && m > 0 && starts[m - 1] === k) {
				if (end > ends[m - 1]!) ends[m - 1] = end;
				if (this.better(c, pick[m - 1]!, tieByName)) pick[m - 1] = c;
				continue;
			}
			starts[m] = k;
			ends[m] = end;
			pick[m] = c;
			m++;
		}
		return { length: m, starts: starts.subarray(0, m), ends: ends.subarray(0, m), pick: pick.subarray(0, m) };
	}

	/** Packs merged entries into table columns, copying only the kept names. */
	columns(m: MergedSymbols): SymbolColumns {
		let bytes = 0;
		for (let j = 0; j < m.length; j++) {
			const c = m.pick[j]!;
			bytes += this.nameEnds[c]! - this.nameStarts[c]!;
		}
		const nameBytes = Buffer.allocUnsafe(bytes);
		const nameOffs = new Uint32Array(m.length + 1);
		let at = 0;
		let anyTag = false;
		const tagIds = new Uint32Array(m.length);
		for (let j = 0; j < m.length; j++) {
			const c = m.pick[j]!;
			nameOffs[j] = at;
			at += this.sources[this.srcs[c]!]!.copy(nameBytes, at, this.nameStarts[c]!, this.nameEnds[c]!);
			tagIds[j] = this.tags[c]!;
			if (tagIds[j] !== 0) anyTag = true;
		}
		nameOffs[m.length] = at;
		return {
			base: this.base,
			// Copies, so the builder's oversized arrays can go.
			starts: m.starts.slice(),
			ends: m.ends.slice(),
			nameBytes,
			nameOffs,
			tagIds: anyTag ? tagIds : undefined,
			tagNames: this.tagNames,
		};
	}

	/** The table, releasing nothing the builder holds: drop the builder afterwards. */
	build(m: MergedSymbols): SymbolTable {
		return new SymbolTable(this.columns(m));
	}

	private better(a: number, b: number, tieByName: boolean): boolean {
		const ra = this.ranks[a]!;
		const rb = this.ranks[b]!;
		if (ra !== rb) return ra < rb;
		if (!tieByName) return false;
		const la = this.nameEnds[a]! - this.nameStarts[a]!;
		const lb = this.nameEnds[b]! - this.nameStarts[b]!;
		if (la !== lb) return la < lb;
		const sa = this.sources[this.srcs[a]!]!;
		const sb = this.sources[this.srcs[b]!]!;
		return sa.compare(sb, this.nameStarts[b]!, this.nameEnds[b]!, this.nameStarts[a]!, this.nameEnds[a]!) < 0;
	}

	private grow(): void {
		const cap = this.lo.length * 2;
		const g = <T extends Uint32Array | Float64Array | Uint16Array>(a: T, make: (n: number) => T): T => {
			const b = make(cap);
			b.set(a as never);
			return b;
		};
		this.lo = g(this.lo, (k) => new Uint32Array(k));
		this.hi = g(this.hi, (k) => new Uint32Array(k));
		this.sizes = g(this.sizes, (k) => new Float64Array(k));
		this.extras = g(this.extras, (k) => new Float64Array(k));
		this.ranks = g(this.ranks, (k) => new Float64Array(k));
		this.tags = g(this.tags, (k) => new Uint32Array(k));
		this.srcs = g(this.srcs, (k) => new Uint16Array(k));
		this.nameStarts = g(this.nameStarts, (k) => new Uint32Array(k));
		this.nameEnds = g(this.nameEnds, (k) => new Uint32Array(k));
	}
}

/**
 * Sorts by start and collapses entries that share a start into one, keeping the name `better`
 * prefers and the largest end.
 */
export function sortAndMerge<T extends SymbolEntry>(entries: T[], better: (a: T, b: T) => boolean): T[] {
	entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
	const out: T[] = [];
	for (const e of entries) {
		const last = out[out.length - 1];
		if (last !== undefined && last.start === e.start) {
			const end = last.end > e.end ? last.end : e.end;
			const keep = better(e, last) ? e : last;
			keep.end = end;
			out[out.length - 1] = keep;
		} else {
			out.push(e);
		}
	}
	return out;
}

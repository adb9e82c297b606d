/**
 * An immutable, address-sorted table of [start, end) ranges with names, searched by binary search.
 * Addresses are bigint because kernel addresses do not fit a double exactly.
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

export class SymbolTable {
	private readonly starts: BigUint64Array;
	private readonly ends: BigUint64Array;
	private readonly names: string[];
	private readonly tags: (string | undefined)[];
	/** Set once a name has been through the demangler (done lazily, on first hit). */
	private readonly final: Uint8Array;

	/** `entries` must already be sorted by start (see `sortAndMerge`). */
	constructor(entries: readonly SymbolEntry[]) {
		this.starts = new BigUint64Array(entries.length);
		this.ends = new BigUint64Array(entries.length);
		this.names = new Array<string>(entries.length);
		this.tags = new Array<string | undefined>(entries.length);
		this.final = new Uint8Array(entries.length);
		for (let i = 0; i < entries.length; i++) {
			const e = entries[i]!;
			this.starts[i] = e.start;
			this.ends[i] = e.end;
			this.names[i] = e.name;
			this.tags[i] = e.tag;
		}
	}

	get size(): number {
		return this.names.length;
	}

	/** Index of the entry covering `addr`, or -1. */
	find(addr: bigint): number {
		const starts = this.starts;
		let lo = 0;
		let hi = starts.length - 1;
		let at = -1;
		while (lo <= hi) {
			const mid = (lo + hi) >>> 1;
			if (starts[mid]! <= addr) {
				at = mid;
				lo = mid + 1;
			} else {
				hi = mid - 1;
			}
		}
		// A small symbol nested in a bigger one (or a zero-size marker) can sit between the
		// enclosing function's start and the address.
		for (let i = at; i >= 0 && i > at - NESTED_LOOKBACK; i--) {
			if (addr < this.ends[i]!) return i;
		}
		return -1;
	}

	name(i: number): string {
		return this.names[i]!;
	}

	/** Replaces a raw name with its final (demangled) form. */
	setFinalName(i: number, name: string): void {
		this.names[i] = name;
		this.final[i] = 1;
	}

	isFinal(i: number): boolean {
		return this.final[i] === 1;
	}

	start(i: number): bigint {
		return this.starts[i]!;
	}

	tag(i: number): string | undefined {
		return this.tags[i];
	}
}

/**
 * Sorts by start and collapses entries that share a start into one, keeping the name `better`
 * prefers and the largest end.
 */
export function sortAndMerge<T extends SymbolEntry>(
	entries: T[],
	better: (a: T, b: T) => boolean,
): T[] {
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

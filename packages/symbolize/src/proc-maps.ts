/** One line of /proc/PID/maps. */
export interface Mapping {
	readonly start: bigint;
	readonly end: bigint;
	readonly perms: string;
	readonly offset: bigint;
	/** `major:minor` in hex, as the kernel prints it. */
	readonly dev: string;
	readonly inode: number;
	/** Path as printed, without a trailing ` (deleted)`; `[vdso]`, `[heap]`, ... or '' for anonymous. */
	readonly path: string;
	readonly deleted: boolean;
}

const DELETED = ' (deleted)';

/** Parses /proc/PID/maps text; malformed lines are skipped. Result is sorted by start. */
export function parseMaps(text: string): Mapping[] {
	const out: Mapping[] = [];
	for (const line of text.split('\n')) {
		if (line === '') continue;
		const m = mapsLine(line);
		if (m !== undefined) out.push(m);
	}
	out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
	return out;
}

function mapsLine(line: string): Mapping | undefined {
	// Five space-separated fields, then padding, then a path that may itself contain spaces.
	const fields: string[] = [];
	let p = 0;
	for (let f = 0; f < 5; f++) {
		while (line.charCodeAt(p) === 32) p++;
		const e = line.indexOf(' ', p);
		fields.push(e < 0 ? line.slice(p) : line.slice(p, e));
		p = e < 0 ? line.length : e;
	}
	while (line.charCodeAt(p) === 32) p++;
	let path = line.slice(p);
	const [range, perms, offset, dev, inode] = fields;
	if (range === undefined || perms === undefined || offset === undefined || dev === undefined || inode === undefined) return undefined;
	const dash = range.indexOf('-');
	if (dash < 0 || !/^[0-9a-f]+$/i.test(offset)) return undefined;
	let deleted = false;
	if (path.endsWith(DELETED)) {
		deleted = true;
		path = path.slice(0, -DELETED.length);
	}
	try {
		return {
			start: BigInt(`0x${range.slice(0, dash)}`),
			end: BigInt(`0x${range.slice(dash + 1)}`),
			perms,
			offset: BigInt(`0x${offset}`),
			dev,
			inode: Number(inode),
			path,
			deleted,
		};
	} catch {
		return undefined;
	}
}

/** The mapping containing `addr`, by binary search over sorted mappings. */
export function findMapping(maps: readonly Mapping[], addr: bigint): Mapping | undefined {
	let lo = 0;
	let hi = maps.length - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >>> 1;
		const m = maps[mid]!;
		if (addr < m.start) hi = mid - 1;
		else if (addr >= m.end) lo = mid + 1;
		else return m;
	}
	return undefined;
}

/** True when the mapping is backed by a file on disk (not anonymous, not a kernel pseudo-name). */
export function isFileBacked(m: Mapping): boolean {
	return m.inode !== 0 && m.path.startsWith('/');
}

/** The hex `start-end` name of the mapping under /proc/PID/map_files/. */
export function mapFilesName(m: Mapping): string {
	return `${m.start.toString(16)}-${m.end.toString(16)}`;
}

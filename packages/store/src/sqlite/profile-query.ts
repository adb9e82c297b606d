import type Database from 'better-sqlite3';
import type { Frame, ProfileSample } from '@firesight/profile';
import { FALLBACK_FREQUENCY_HZ, type MergedProfile, type ProfileQuery } from '../profile-store.ts';
import type { ProfileCaches } from './profile-caches.ts';
import { KINDS, decodeStack, sampleLabelsOf, sampleWords } from './profile-codec.ts';
import { IntMap } from './int-map.ts';
import { checkQueryBudget } from '../query-budget.ts';
import { MERGE_SLICE, yieldToLoop } from '../merge-slice.ts';

/** The longest window the protocol accepts; bounds the index range a time query must scan. */
const MAX_WINDOW_MS = 3_600_000;

/**
 * Merges the windows a query selects. Samples are packed per window: the matching windows' blobs
 * are read and summed in JS by (stack id, pid, comm id, label id), then resolved to frames through
 * the caches. The work is cut into slices of about MERGE_SLICE with the event loop free between
 * them. Only database ids cross a slice boundary: the caches may start over between two slices
 * (an insert's trim, a prune), so what a slice reads of them it turns into frames before it ends.
 */
export async function queryProfile(db: Database.Database, caches: ProfileCaches, q: ProfileQuery): Promise<MergedProfile> {
	const where = ['w.start_ms > @lo', 'w.start_ms < @to', 'w.start_ms + w.duration_ms > @from'];
	const params: Record<string, number | string> = { lo: q.fromMs - MAX_WINDOW_MS, to: q.toMs, from: q.fromMs };
	if (q.host !== undefined) {
		where.push('h.name = @host');
		params.host = q.host;
	}
	const windowWhere = where.join(' AND ');
	const prunesAtStart = caches.prunes;
	// The set of windows is fixed here, in one synchronous step with their totals: windows stored
	// while the merge runs are not half in it.
	const win = db
		.prepare(
			`SELECT COUNT(*) n, SUM(w.frequency_hz * w.duration_ms) fd, SUM(w.duration_ms) d
			 FROM windows w JOIN hosts h ON h.id = w.host_id WHERE ${windowWhere}`,
		)
		.get(params) as { n: number; fd: number | null; d: number | null };
	const windowIds = (
		db
			.prepare(
				`SELECT ws.window_id FROM windows w JOIN hosts h ON h.id = w.host_id
				 JOIN window_samples ws ON ws.window_id = w.id WHERE ${windowWhere}${labelWindowsOnly(q)} ORDER BY ws.window_id`,
			)
			.raw()
			.all(params) as [number][]
	).map((r) => r[0]);
	const blobsOf = db.prepare(
		`SELECT w.host_id, ws.data, ws.labels FROM windows w JOIN window_samples ws ON ws.window_id = w.id
		 WHERE ws.window_id IN (SELECT value FROM json_each(?))`,
	);
	let commFilter: Set<number> | undefined;
	if (q.comm !== undefined) {
		commFilter = new Set((db.prepare('SELECT id FROM comms WHERE comm = ?').raw().all(q.comm) as [number][]).map((r) => r[0]));
	}
	const labelFilter = labelIdsMatching(db, q);
	// Rows in parallel arrays, found by stack id through an integer hash table and then a short
	// chain of the rows with that stack (one per pid and comm): a string key per sample and
	// Maps keyed by id used to dominate the whole query.
	const rowStack: number[] = [];
	const rowPid: number[] = [];
	const rowComm: number[] = [];
	const rowLabel: number[] = [];
	const rowCount: number[] = [];
	const rowNext: number[] = [];
	const firstRow = new IntMap(1 << 14);
	const hosts = new Set<number>();
	let done = 0;
	for (let w = 0; w < windowIds.length;) {
		// Windows are read a few at a time (a read can stay open only within a slice).
		const batch = windowIds.slice(w, w + 16);
		w += batch.length;
		for (const [hostId, data, labelData] of blobsOf.raw().all(JSON.stringify(batch)) as [number, Buffer, Buffer | null][]) {
			hosts.add(hostId);
			// Per window: a caller whose time ran out stops the scan here, not at its end.
			checkQueryBudget();
			const quads = sampleWords(data);
			const labels = labelData === null ? undefined : sampleWords(labelData);
			for (let o = 0; o + 4 <= quads.length; o += 4) {
				const stackId = quads[o]!;
				const pid = quads[o + 1]!;
				const commId = quads[o + 2]!;
				const count = quads[o + 3]!;
				const labelId = labels?.[o >>> 2] ?? 0;
				if (q.pid !== undefined && pid !== q.pid) continue;
				if (commFilter && !commFilter.has(commId)) continue;
				if (labelFilter && !labelFilter.has(labelId)) continue;
				// Stack, comm and label ids are unique across hosts, so a row never mixes two hosts.
				const head = firstRow.get(stackId);
				let row = head;
				while (row >= 0 && (rowPid[row] !== pid || rowComm[row] !== commId || rowLabel[row] !== labelId)) row = rowNext[row]!;
				if (row >= 0) {
					rowCount[row]! += count;
				} else {
					firstRow.set(stackId, rowStack.length);
					rowStack.push(stackId);
					rowPid.push(pid);
					rowComm.push(commId);
					rowLabel.push(labelId);
					rowCount.push(count);
					rowNext.push(head);
				}
			}
			done += quads.length >>> 2;
		}
		if (done >= MERGE_SLICE) {
			done = 0;
			await yieldToLoop();
		}
	}
	// The answer's frame table holds only the frames its samples use, in first-use order.
	const frames: Frame[] = [];
	const frameIds = new Map<string, number>();
	// A frameTable index's local id, valid while the caches keep their generation; a key is built
	// only once per distinct frame and generation, not per frame of every stack.
	let generation = caches.generation;
	let localOf = new Int32Array(caches.frameTable.length).fill(-1);
	const localFrame = (index: number): number => {
		if (index >= localOf.length) {
			const grown = new Int32Array(Math.max(index + 1, localOf.length * 2)).fill(-1);
			grown.set(localOf);
			localOf = grown;
		}
		let id = localOf[index]!;
		if (id >= 0) return id;
		const f = caches.frameTable[index]!;
		const key = `${f.kind}\0${f.module}\0${f.name}`;
		id = frameIds.get(key) ?? -1;
		if (id < 0) {
			id = frames.push(f) - 1;
			frameIds.set(key, id);
		}
		localOf[index] = id;
		return id;
	};
	/** Each stack row of the answer as local frame ids; undefined when the stack is gone. */
	const stackOf = new Map<number, number[]>();
	const stackIds = [...new Set(rowStack)];
	for (let i = 0; i < stackIds.length; i += MERGE_SLICE / 8) {
		checkQueryBudget();
		const chunk = stackIds.slice(i, i + MERGE_SLICE / 8);
		loadStacks(db, caches, chunk);
		if (caches.generation !== generation) {
			generation = caches.generation;
			localOf.fill(-1);
		}
		// In the same slice as the load: the caches' indices hold only until they next start over.
		for (const id of chunk) {
			const shared = caches.stackFrameIndices(id);
			if (shared !== undefined) {
				for (let i = 0; i < shared.length; i++) shared[i] = localFrame(shared[i]!);
				stackOf.set(id, shared);
			}
		}
		await yieldToLoop();
	}
	const comms = new Map<number, string>();
	for (const [id, comm] of db
		.prepare('SELECT id, comm FROM comms WHERE id IN (SELECT value FROM json_each(?))')
		.raw()
		.iterate(JSON.stringify([...new Set(rowComm)])) as Iterable<[number, string]>) {
		comms.set(id, comm);
	}
	const labelsById = labelRows(db, rowLabel);
	const samples: ProfileSample[] = [];
	// Equal (stack, pid, comm, labels) of several hosts become one sample; one host never repeats one,
	// so the key (a string per sample) is only built when there are several.
	const merged = hosts.size > 1 ? new Map<string, number>() : undefined;
	for (let r = 0; r < rowStack.length; r++) {
		if (r > 0 && r % MERGE_SLICE === 0) await yieldToLoop();
		const local = stackOf.get(rowStack[r]!);
		if (local === undefined) {
			// A prune while the merge ran may take the stacks of the windows it dropped with it.
			if (caches.prunes !== prunesAtStart) continue;
			throw new Error(`store corrupt: sample refers to missing stack ${rowStack[r]}`);
		}
		const stack = local.slice();
		const pid = rowPid[r]!;
		const comm = comms.get(rowComm[r]!) ?? '';
		const weight = rowCount[r]!;
		const labels = labelsById.get(rowLabel[r]!);
		if (merged) {
			const key = `${pid}|${stack.join(',')}|${rowLabel[r] === 0 ? '' : JSON.stringify(labels)}|${comm}`;
			const at = merged.get(key);
			if (at !== undefined) {
				const s = samples[at]!;
				samples[at] = { ...s, weight: s.weight + weight };
				continue;
			}
			merged.set(key, samples.length);
		}
		samples.push(labels === undefined ? { pid, comm, stack, weight } : { pid, comm, ...labels, stack, weight });
	}
	return {
		profile: {
			startMs: q.fromMs,
			durationMs: Math.max(0, q.toMs - q.fromMs),
			frequencyHz: win.d ? (win.fd ?? 0) / win.d : FALLBACK_FREQUENCY_HZ,
			frames,
			samples,
		},
		windows: win.n,
	};
}

/** ` AND ...` keeping only windows with labelled samples, when the query filters by a label. */
export function labelWindowsOnly(q: ProfileQuery): string {
	return q.endpoint !== undefined || q.requestId !== undefined ? ' AND ws.labels IS NOT NULL' : '';
}

/** The label ids the query's endpoint and request filters accept, or undefined when it has neither. */
export function labelIdsMatching(db: Database.Database, q: ProfileQuery): Set<number> | undefined {
	if (q.endpoint === undefined && q.requestId === undefined) return undefined;
	const where: string[] = [];
	const params: string[] = [];
	if (q.endpoint !== undefined) {
		where.push('endpoint = ?');
		params.push(q.endpoint);
	}
	if (q.requestId !== undefined) {
		// A request's id, or one entry of an ambiguous sample's list (`parseRequestIds`).
		where.push(`instr(' ' || replace(request_id, '+', '') || ' ', ' ' || ? || ' ') > 0`);
		params.push(q.requestId);
	}
	const rows = db
		.prepare(`SELECT id FROM sample_labels WHERE ${where.join(' AND ')}`)
		.raw()
		.all(...params) as [number][];
	return new Set(rows.map((r) => r[0]));
}

/** The labels of these label ids (0, no label, is left out). */
function labelRows(db: Database.Database, ids: readonly number[]): Map<number, ReturnType<typeof sampleLabelsOf>> {
	const out = new Map<number, ReturnType<typeof sampleLabelsOf>>();
	const wanted = [...new Set(ids)].filter((id) => id !== 0);
	if (wanted.length === 0) return out;
	for (const [id, endpoint, requestId, ambiguous] of db
		.prepare('SELECT id, endpoint, request_id, ambiguous FROM sample_labels WHERE id IN (SELECT value FROM json_each(?))')
		.raw()
		.iterate(JSON.stringify(wanted)) as Iterable<[number, string, string, number]>) {
		out.set(id, sampleLabelsOf({ endpoint, requestId, ambiguous: ambiguous !== 0 }));
	}
	return out;
}

/**
 * Reads into the caches the stacks (and their frames) no window stored by this process named:
 * after a restart, each stack is read from the database once.
 */
function loadStacks(db: Database.Database, caches: ProfileCaches, stackIds: readonly number[]): void {
	const missing = new Set<number>();
	for (const id of stackIds) if (caches.stacks.byId(id) < 0) missing.add(id);
	if (missing.size === 0) return;
	const decoded: { id: number; host: number; lastMs: number; ids: number[] }[] = [];
	const unknownFrames = new Set<number>();
	for (const [id, host, lastMs, blob] of db
		.prepare('SELECT id, host_id, last_ms, frame_ids FROM stacks WHERE id IN (SELECT value FROM json_each(?))')
		.raw()
		.iterate(JSON.stringify([...missing])) as Iterable<[number, number, number, Buffer]>) {
		const ids = decodeStack(blob);
		for (const f of ids) if (caches.frameIndexOf(f) === undefined) unknownFrames.add(f);
		decoded.push({ id, host, lastMs, ids });
	}
	if (unknownFrames.size > 0) {
		for (const f of db
			.prepare('SELECT id, kind, module, name FROM frames WHERE id IN (SELECT value FROM json_each(?))')
			.all(JSON.stringify([...unknownFrames])) as { id: number; kind: number; module: string; name: string }[]) {
			caches.frameIndex(f.id, { name: f.name, module: f.module, kind: KINDS[f.kind] ?? 'user' });
		}
	}
	for (const s of decoded) {
		for (const f of s.ids) if (caches.frameIndexOf(f) === undefined) throw new Error(`store corrupt: stack refers to missing frame ${f}`);
		// Found by frames too from now on: an insert of the same stack takes this row.
		caches.stacks.add(s.host, s.id, s.lastMs, s.ids, s.ids.length);
	}
}

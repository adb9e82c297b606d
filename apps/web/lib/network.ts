import { isStale, STALE_AFTER_MS, type Received } from './freshness.ts';
import type { ConnectionRow, LiveConnectionsMessage } from './live-messages.ts';

export interface HostConnectionRow extends ConnectionRow {
	host: string;
	/** The host's table arrived more than `staleMs` ago: shown, but as old. */
	stale: boolean;
}

/** Connection rows of every host's latest table, each marked stale when its table is old. */
export function connectionRows(
	hosts: ReadonlyMap<string, LiveConnectionsMessage & Received>,
	now: number,
	staleMs = STALE_AFTER_MS,
): HostConnectionRow[] {
	const rows: HostConnectionRow[] = [];
	for (const [host, snapshot] of hosts) {
		const stale = isStale(snapshot, now, staleMs);
		for (const row of snapshot.connections) rows.push({ ...row, host, stale });
	}
	return rows;
}

/** `10.0.0.1:443`, `[fd00::1]:443`. */
export function endpoint(family: 4 | 6, addr: string, port: number): string {
	return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < UNITS.length - 1) {
		value /= 1024;
		unit++;
	}
	return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `850 ms`, `12 s`, `4 min 3 s`, `2 h 5 min`. */
export function formatDuration(ms: number): string {
	if (ms < 1000) return `${Math.round(ms)} ms`;
	const s = Math.floor(ms / 1000);
	if (s < 60) return `${s} s`;
	const m = Math.floor(s / 60);
	if (m < 60) return `${m} min ${s % 60} s`;
	const h = Math.floor(m / 60);
	if (h < 48) return `${h} h ${m % 60} min`;
	return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A bucket width giving about `points` points over the range, never under the 10 s windows. */
export function seriesStep(rangeMs: number, points = 120): number {
	const raw = Math.max(10_000, rangeMs / points);
	const nice = [10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];
	return nice.find((n) => n >= raw) ?? Math.ceil(raw / 3_600_000) * 3_600_000;
}

export interface ChartSeries {
	key: string;
	label: string;
	points: readonly { t: number; perSecond: number }[];
}

/** Rows of `{t, [series key]: value}` over every bucket, zero where a series has no point. */
export function chartRows(buckets: readonly number[], series: readonly ChartSeries[]): Array<Record<string, number>> {
	const index = new Map(buckets.map((t, i) => [t, i]));
	const rows = buckets.map((t) => {
		const row: Record<string, number> = { t };
		for (const s of series) row[s.key] = 0;
		return row;
	});
	for (const s of series) {
		for (const p of s.points) {
			const i = index.get(p.t);
			if (i !== undefined) rows[i]![s.key] = p.perSecond;
		}
	}
	return rows;
}

import { describeDrop, type DropDenominator } from './drop-descriptions.ts';

/** One loss counter as last read: `source` is a host name, or `hub` for the hub's own. */
export interface DropCounter {
	source: string;
	name: string;
	value: number;
}

/** Every counter at one moment, stamped with when the browser read it (never a collector clock). */
export interface DropsSnapshot {
	receivedMs: number;
	counters: readonly DropCounter[];
	/** Per source, the events per second a share is taken of (summed over hosts for `hub`). */
	denominators: ReadonlyMap<string, Partial<Record<DropDenominator, number>>>;
}

export interface DropRow {
	source: string;
	name: string;
	meaning: string;
	count: number;
	/** Per second since the older snapshot; null with one snapshot, or after a counter restarted. */
	ratePerSec: number | null;
	/** Rate over the rate of the events it is part of; null where there is no such total. */
	share: number | null;
	per: DropDenominator | null;
	/** False for what was kept, only cut or left unnamed. */
	lost: boolean;
}

interface PromSample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition; comments and malformed lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
	const out: PromSample[] = [];
	for (const line of text.split('\n')) {
		if (line.startsWith('#')) continue;
		const m = SAMPLE_LINE.exec(line);
		if (!m) continue;
		const value = Number(m[3]);
		if (!Number.isFinite(value)) continue;
		const labels: Record<string, string> = {};
		for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
		out.push({ name: m[1]!, labels, value });
	}
	return out;
}

/** Hub metrics that count losses, and the label that names the reason (none for a plain counter). */
const HUB_LOSSES: Record<string, { name: string; label?: string; skip?: string[] }> = {
	firesight_hub_window_repairs_total: { name: 'windowRepairs', label: 'reason' },
	firesight_hub_messages_rejected_total: { name: 'messagesRejected', label: 'reason' },
	firesight_hub_ingest_unauthorized_total: { name: 'unauthorized' },
	firesight_hub_browsers_dropped_total: { name: 'browsersDropped' },
	firesight_hub_live_requests_thinned_total: { name: 'liveRequestsThinned' },
	firesight_hub_hosts_forgotten_total: { name: 'hostsForgotten' },
	firesight_hub_imports_total: { name: 'imports', label: 'result', skip: ['stored'] },
	firesight_hub_api_refused_total: { name: 'apiRefused', label: 'reason' },
};

/**
 * The loss counters in the hub's /metrics: every collector's (`firesight_collector_drops`) under
 * its host, and the hub's own under `hub`. Also the stored windows per second's raw counts,
 * returned as counters named `@windows` so two snapshots give their rate.
 */
export function countersFromMetrics(text: string): DropCounter[] {
	const out: DropCounter[] = [];
	for (const s of parsePrometheusText(text)) {
		if (s.name === 'firesight_collector_drops') {
			if (s.labels.host && s.labels.counter) out.push({ source: s.labels.host, name: s.labels.counter, value: s.value });
			continue;
		}
		if (s.name === 'firesight_hub_windows_ingested_total' && s.labels.host) {
			out.push({ source: s.labels.host, name: WINDOWS_STORED, value: s.value });
			continue;
		}
		const loss = HUB_LOSSES[s.name];
		if (!loss) continue;
		const label = loss.label ? s.labels[loss.label] : undefined;
		if (loss.label && (label === undefined || loss.skip?.includes(label))) continue;
		out.push({ source: 'hub', name: label === undefined ? `hub.${loss.name}` : `hub.${loss.name}.${label}`, value: s.value });
	}
	return out;
}

/** Not a loss: the windows a host stored, kept beside the losses to give `windows` its rate. */
export const WINDOWS_STORED = '@windowsStored';

const key = (c: Pick<DropCounter, 'source' | 'name'>) => `${c.source}\u0000${c.name}`;

/**
 * The drops panel's rows: each counter with its meaning, count, rate between two snapshots and
 * share of the events it belongs to. Counters that are moving come first, then those that ever
 * counted, then the zeros; in each, losses before what was only cut or unnamed, then by source
 * and name.
 */
export function dropRows(newer: DropsSnapshot, older: DropsSnapshot | null): DropRow[] {
	const before = new Map((older?.counters ?? []).map((c) => [key(c), c.value]));
	const seconds = older ? (newer.receivedMs - older.receivedMs) / 1000 : 0;
	const rateOf = (c: DropCounter): number | null => {
		const prev = before.get(key(c));
		// A counter that went down belongs to a collector that restarted: no honest rate yet.
		if (prev === undefined || seconds <= 0 || c.value < prev) return null;
		return (c.value - prev) / seconds;
	};
	// Windows stored per second by host, and over all hosts for the hub's own counters.
	const windowRates = new Map<string, number>();
	for (const c of newer.counters) {
		if (c.name !== WINDOWS_STORED) continue;
		const rate = rateOf(c);
		if (rate === null) continue;
		windowRates.set(c.source, rate);
		windowRates.set('hub', (windowRates.get('hub') ?? 0) + rate);
	}
	const rows: DropRow[] = [];
	for (const c of newer.counters) {
		if (c.name === WINDOWS_STORED) continue;
		const { meaning, per, lost } = describeDrop(c.name);
		const ratePerSec = rateOf(c);
		let share: number | null = null;
		if (per && ratePerSec !== null) {
			const total = per === 'windows' ? windowRates.get(c.source) : newer.denominators.get(c.source)?.[per];
			// The lost events were not counted in the total: they are part of the whole.
			if (total !== undefined && total + ratePerSec > 0) share = ratePerSec / (total + ratePerSec);
		}
		rows.push({ source: c.source, name: c.name, meaning, count: c.value, ratePerSec, share, per: per ?? null, lost: lost !== false });
	}
	const rank = (r: DropRow) =>
		(r.count === 0 ? 4 : (r.lost ? 0 : 2) + ((r.ratePerSec ?? 0) > 0 ? 0 : 1)) + (r.count === 0 && !r.lost ? 1 : 0);
	return rows.sort((a, b) => rank(a) - rank(b) || a.source.localeCompare(b.source) || a.name.localeCompare(b.name));
}

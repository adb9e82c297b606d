import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { rangeCacheFor } from '@firesight/api';
import { limits } from '@firesight/protocol';
import type { ProfileStore } from '@firesight/store';
import type { HubState } from './hub-state.ts';

/** The JS heap in use just after V8's latest full collection, in bytes (0 before the first one). */
let heapAfterFullGc = 0;
let gcObserver: PerformanceObserver | undefined;

/**
 * Watches for V8's full (mark-compact) collections, once per process: the heap in use right after
 * one is what is live, where the heap in use at any other moment adds the garbage made since.
 */
function watchFullCollections(): void {
	if (gcObserver) return;
	gcObserver = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			if ((entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR)
				heapAfterFullGc = getHeapStatistics().used_heap_size;
		}
	});
	gcObserver.observe({ entryTypes: ['gc'] });
}

/** The hub's Prometheus metrics, on a registry of its own so several hubs can share a process. */
export function createHubMetrics(state: HubState, profiles?: Pick<ProfileStore, 'cacheResets'>) {
	const registry = new Registry();
	collectDefaultMetrics({ register: registry, prefix: 'firesight_hub_' });
	const metrics = {
		registry,
		windowsIngested: new Counter({
			name: 'firesight_hub_windows_ingested_total',
			help: 'Profile windows stored',
			labelNames: ['host'] as const,
			registers: [registry],
		}),
		messagesIngested: new Counter({
			name: 'firesight_hub_ingest_messages_total',
			help: 'Valid collector messages by type',
			labelNames: ['type'] as const,
			registers: [registry],
		}),
		messagesRejected: new Counter({
			name: 'firesight_hub_messages_rejected_total',
			help: 'Collector messages rejected, by reason',
			labelNames: ['reason'] as const,
			registers: [registry],
		}),
		windowRepairs: new Counter({
			name: 'firesight_hub_window_repairs_total',
			help: 'Fields cut and stacks dropped so the rest of a profile window could be stored, by reason',
			labelNames: ['reason'] as const,
			registers: [registry],
		}),
		messagesReplayed: new Counter({
			name: 'firesight_hub_messages_replayed_total',
			help: 'Stored collector messages received again after they were stored (acknowledged, not stored twice)',
			registers: [registry],
		}),
		unauthorized: new Counter({
			name: 'firesight_hub_ingest_unauthorized_total',
			help: 'Collector connections refused for a missing or wrong token',
			registers: [registry],
		}),
		browsersConnected: new Gauge({
			name: 'firesight_hub_browsers_connected',
			help: 'Browsers on the live stream',
			registers: [registry],
		}),
		browsersDropped: new Counter({
			name: 'firesight_hub_browsers_dropped_total',
			help: 'Browsers disconnected because they read the live stream too slowly',
			registers: [registry],
		}),
		collectorsConnected: new Gauge({
			name: 'firesight_hub_collectors_connected',
			help: 'Collector connections open',
			registers: [registry],
		}),
	};
	// Label sets per host would otherwise outlive the hosts the state forgets, without bound.
	state.on('forgotten', (host) => metrics.windowsIngested.remove({ host }));
	// A live-view sample, not a loss: every request is stored (see LIVE_REQUESTS_PER_SECOND).
	new Counter({
		name: 'firesight_hub_live_requests_thinned_total',
		help: 'Requests left out of what browsers are sent live, past 2,000 a second per host; all are stored',
		registers: [registry],
		collect() {
			this.reset();
			this.inc(state.requestsThinned);
		},
	});
	// Drops are cumulative counters owned by each collector; expose the latest value it reported.
	new Gauge({
		name: 'firesight_collector_drops',
		help: 'Loss counters reported by collectors (cumulative since each collector started)',
		labelNames: ['host', 'counter'] as const,
		registers: [registry],
		collect() {
			this.reset();
			for (const h of state.hosts()) {
				for (const [counter, value] of Object.entries(h.drops)) this.set({ host: h.host, counter }, value);
			}
		},
	});
	new Counter({
		name: 'firesight_hub_hosts_forgotten_total',
		help: `Hosts the hub stopped remembering to stay within ${limits.hosts} (disconnected ones, least recently seen first; a host that connects again is shown afresh)`,
		registers: [registry],
		collect() {
			this.reset();
			this.inc(state.hostsForgotten);
		},
	});
	// Not a drop (forgotten ids are read again), so /metrics only: a steady rise says the
	// store's cache budget is small for this many hosts and stacks, and costs insert time.
	if (profiles) {
		new Counter({
			name: 'firesight_hub_store_cache_resets_total',
			help: "Times the profile store's caches of stored stack and frame ids outgrew their budget and started over (nothing is lost; ids are read again)",
			registers: [registry],
			collect() {
				this.reset();
				this.inc(profiles.cacheResets);
			},
		});
		// Whether a live page moving its range is served from the range cache (hit), by moving an
		// earlier merge forward (extended), or by a fresh merge (merged): the last is the slow one.
		const ranges = rangeCacheFor(profiles);
		new Counter({
			name: 'firesight_hub_range_cache_queries_total',
			help: 'Profile range queries by how their merge was found: hit (cached), extended (an earlier range moved forward), merged (merged afresh)',
			labelNames: ['result'] as const,
			registers: [registry],
			collect() {
				this.reset();
				this.inc({ result: 'hit' }, ranges.stats.hits);
				this.inc({ result: 'extended' }, ranges.stats.extended);
				this.inc({ result: 'merged' }, ranges.stats.misses - ranges.stats.extended);
			},
		});
	}
	// Part of nodejs_external_memory_bytes; apart, it tells batches held in ArrayBuffers from
	// native memory when the process grows.
	new Gauge({
		name: 'firesight_hub_nodejs_array_buffers_bytes',
		help: 'Memory of ArrayBuffers and Buffers, in bytes (included in nodejs_external_memory_bytes)',
		registers: [registry],
		collect() {
			this.set(process.memoryUsage().arrayBuffers);
		},
	});
	// A cache that keeps growing shows here, free of when the collector last ran (the soak's
	// measure of a growing JS heap).
	watchFullCollections();
	new Gauge({
		name: 'firesight_hub_nodejs_heap_used_after_full_gc_bytes',
		help: "JS heap in use just after V8's latest full collection, in bytes: what is live (0 before the first one)",
		registers: [registry],
		collect() {
			this.set(heapAfterFullGc);
		},
	});
	// A feature that could not load is a whole signal missing from a host: worth an alert.
	new Gauge({
		name: 'firesight_collector_features',
		help: 'Collector features by state: 1 for each running or failed feature a collector reported',
		labelNames: ['host', 'feature', 'state'] as const,
		registers: [registry],
		collect() {
			this.reset();
			for (const h of state.hosts()) {
				for (const feature of h.features?.running ?? []) this.set({ host: h.host, feature, state: 'running' }, 1);
				for (const f of h.features?.failed ?? []) this.set({ host: h.host, feature: f.name, state: 'failed' }, 1);
			}
		},
	});
	return metrics;
}

export type HubMetrics = ReturnType<typeof createHubMetrics>;

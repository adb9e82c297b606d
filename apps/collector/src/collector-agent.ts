import { hostname } from 'node:os';
import type { UnwindMode } from '@firesight/native';
import type { Features, WarmUp } from '@firesight/protocol';
import { UserError } from './command.ts';
import type { Feature, FeatureContext, FeatureDefinition } from './feature.ts';
import { HubStream, type HubStreamOptions } from './hub-stream.ts';
import { createLogger, logLine, type LogLine } from '@firesight/web/logger';
import { ProcessTable } from './live/process-table.ts';
import { profilingFeature } from './profiling/profiling-feature.ts';
import { RequestAttribution } from './request-attribution.ts';
import { tcpFeature } from './tcp/tcp-feature.ts';
import { tlsFeature } from './tls/tls-feature.ts';

export const COLLECTOR_VERSION = '0.1.0';

export interface CollectorOptions {
	hub: string;
	token: string;
	/** Name this host goes by in the hub; the machine's hostname by default. */
	host?: string;
	frequency?: number;
	/** How user stacks are walked (`--unwind`); auto by default. */
	unwind?: UnwindMode;
	/** Length of a stored window. */
	windowMs?: number;
	/** Processes whose HTTPS request and response bodies are kept (capped): `--capture-bodies PID`. */
	captureBodies?: readonly number[];
	/** The signals to run; CPU profiles, TCP and HTTPS requests by default. */
	features?: readonly FeatureDefinition[];
	/** Where stored messages wait for the hub's acknowledgement; memory only (256 MiB at most) by default. */
	spool?: HubStreamOptions['spool'];
	/** How often features are drained and new processes looked for. Default 500 ms. */
	tickMs?: number;
	/**
	 * How often the process table is measured and sent as live stats (at the first tick after
	 * this long). Default 1 s: the dashboard shows the table once a second, and measuring and
	 * sending it at every tick cost the collector and the hub twice as much for nothing.
	 */
	liveMs?: number;
	log?: LogLine;
}

export interface Collector {
	readonly host: string;
	readonly stream: HubStream;
	readonly features: Features;
	stop(): Promise<void>;
}

/** Every signal this collector knows. A new one is one more entry here (see docs/adding-a-signal.md). */
export function defaultFeatures(options: Pick<CollectorOptions, 'frequency' | 'unwind' | 'captureBodies'>): FeatureDefinition[] {
	// The TLS capture says which request each kernel request id was; the profiler labels its samples with it.
	const attribution = new RequestAttribution();
	return [
		profilingFeature({ frequency: options.frequency ?? 97, unwind: options.unwind ?? 'auto', attribution }),
		tcpFeature(),
		tlsFeature({ captureBodies: options.captureBodies ?? [], attribution }),
	];
}

/**
 * The per-host agent: starts each feature, then twice a second drains them into one live process
 * table sent with their drop counters, and at each window's end has them send what is stored.
 * A feature that cannot load is logged and reported to the hub, and the rest run on; throws a
 * UserError only when none could start.
 */
export function startCollector(options: CollectorOptions): Collector {
	const host = options.host ?? hostname();
	const log = options.log ?? logLine(createLogger('collector'));
	const frequencyHz = options.frequency ?? 97;
	const windowMs = options.windowMs ?? 10_000;
	let stream: HubStream;
	try {
		stream = new HubStream({
			hub: options.hub,
			token: options.token,
			hello: { host, version: COLLECTOR_VERSION, frequencyHz },
			...(options.spool ? { spool: options.spool } : {}),
			log,
		});
	} catch (err) {
		// A spool directory another collector holds or that cannot be written: one line, no stack.
		throw new UserError((err as Error).message);
	}

	const context: FeatureContext = { host, log, send: (message) => stream.send(message) };
	const running: { name: string; feature: Feature; failing: boolean }[] = [];
	const features: Features = { running: [], failed: [] };
	for (const definition of options.features ?? defaultFeatures(options)) {
		try {
			running.push({ name: definition.name, feature: definition.start(context), failing: false });
			features.running.push(definition.name);
		} catch (err) {
			const reason = (err as Error).message;
			log(`${definition.title} is off: ${reason}`, 'warn');
			features.failed.push({ name: definition.name, reason });
		}
	}
	if (running.length === 0) {
		void stream.close(0);
		throw new UserError(`no signal could start: ${features.failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`);
	}

	// The kernel drains are cheap; twice a second keeps a sample's way to the browser under a
	// second (a tick plus the hop to the hub).
	const liveMs = options.liveMs ?? 1000;
	const table = new ProcessTable({
		onNewProcess: (pid) => running.forEach(({ feature }) => feature.processStarted?.(pid)),
		onExit: (pid) => running.forEach(({ feature }) => feature.processExited?.(pid)),
	});
	let windowStart = Date.now();

	const drops = (): Record<string, number> => {
		const out: Record<string, number> = {};
		for (const { name, feature } of running) {
			for (const [counter, value] of Object.entries(feature.drops())) out[`${name}.${counter}`] = value;
		}
		for (const [queue, value] of Object.entries(stream.counters.dropped)) out[`hubQueue.${queue}`] = value;
		out['live.processesCut'] = table.rowsCut;
		return out;
	};
	const warmingUp = (): WarmUp[] => {
		const out: WarmUp[] = [];
		for (const { name, feature } of running) {
			const w = feature.warmingUp?.();
			if (w) out.push({ feature: name, ...w });
		}
		return out;
	};
	const sendLive = (ts: number) => {
		let processes = table.scan(ts);
		for (const { feature } of running) processes = feature.processRows?.(processes) ?? processes;
		const spool = { messages: stream.counters.spooled, bytes: stream.counters.spooledBytes };
		stream.send({ type: 'live', stats: { host, ts, frequencyHz, processes, drops: drops(), features, spool, warmingUp: warmingUp() } });
	};
	// The first live stats go out at once, not after a tick: the hub knows this host's features,
	// and a warm-up that has begun, from the start (CPU shares are 0 until the next measure).
	let liveAt = Date.now();
	sendLive(liveAt);
	/** Runs one step of every feature; a failing one is logged once per run of failures. */
	const each = async (step: (feature: Feature) => void | Promise<void>) => {
		for (const r of running) {
			try {
				await step(r.feature);
				r.failing = false;
			} catch (err) {
				if (!r.failing) log(`${r.name}: ${(err as Error).message}`, 'error');
				r.failing = true;
			}
		}
	};
	const tick = async () => {
		await each((f) => f.tick?.());
		const ts = Date.now();
		// A tick's early by up to its jitter: measured against half a tick less, 1 s stays 1 s.
		if (ts - liveAt >= liveMs - (options.tickMs ?? 500) / 2) {
			liveAt = ts;
			sendLive(ts);
		} else table.discover(ts);
		if (ts - windowStart >= windowMs) {
			windowStart = ts;
			await each((f) => f.window?.());
		}
	};
	let ticking: Promise<void> = Promise.resolve();
	const timer = setInterval(() => {
		ticking = ticking.then(tick).catch((err: Error) => log(`tick failed: ${err.message}`, 'error'));
	}, options.tickMs ?? 500);

	return {
		host,
		stream,
		features,
		async stop() {
			clearInterval(timer);
			await ticking;
			await each((f) => f.stop());
			await stream.close();
		},
	};
}

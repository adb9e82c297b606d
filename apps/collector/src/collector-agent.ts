import { hostname } from 'node:os';
import type { Profile } from '@firesight/profile';
import type { ProfileWindow } from '@firesight/protocol';
import { HubStream } from './hub-stream.ts';
import { ProcessTable } from './live/process-table.ts';
import { ProfileSampler } from './profiling/profile-sampler.ts';
import { startTcpCollector } from './tcp/start-tcp-collector.ts';
import { startTlsCollector } from './tls/tls-collector.ts';

export const COLLECTOR_VERSION = '0.1.0';

export interface CollectorOptions {
	hub: string;
	token: string;
	/** Name this host goes by in the hub; the machine's hostname by default. */
	host?: string;
	frequency?: number;
	/** Length of a stored profile window. */
	windowMs?: number;
	/** Processes whose HTTPS request and response bodies are kept (capped): `--capture-bodies PID`. */
	captureBodies?: readonly number[];
	log?: (line: string) => void;
}

export interface Collector {
	readonly host: string;
	readonly stream: HubStream;
	stop(): Promise<void>;
}

/** A profile as the wire carries it: frames once, stacks as indices. */
export function profileToWindow(host: string, profile: Profile): ProfileWindow {
	return {
		host,
		startMs: Math.round(profile.startMs),
		durationMs: Math.max(1, Math.round(profile.durationMs)),
		frequencyHz: profile.frequencyHz,
		frames: profile.frames.map((f) => ({ name: f.name, module: f.module, kind: f.kind })),
		stacks: profile.samples.map((s) => ({ pid: s.pid, comm: s.comm, frameIds: [...s.stack], count: s.weight })),
	};
}

/**
 * The per-host agent: the CPU profiler drained twice a second into a live process table and
 * profile windows, TCP connections and HTTPS requests beside it, all streamed to a hub. Throws
 * NativeError when the profiler cannot load; the TCP and TLS tools only log when they cannot.
 */
export function startCollector(options: CollectorOptions): Collector {
	const host = options.host ?? hostname();
	const log = options.log ?? ((line: string) => console.error(`firesight collector: ${line}`));
	// Draining twice a second keeps a sample's way to the browser under a second (a drain period
	// plus the hop to the hub); the kernel maps make a drain cheap.
	const sampler = new ProfileSampler({ frequency: options.frequency ?? 97, windowMs: options.windowMs ?? 10_000, tickMs: 500 });
	// A process's maps are snapshotted when it is first seen, so its samples still symbolize after
	// it exits; the snapshot is dropped once the window that may hold its samples has been sent.
	const exited = new Set<number>();
	const table = new ProcessTable({
		onNewProcess: (pid) => sampler.symbolizer.observe(pid),
		onExit: (pid) => exited.add(pid),
	});
	table.scan(Date.now());
	const stream = new HubStream({
		hub: options.hub,
		token: options.token,
		hello: { host, version: COLLECTOR_VERSION, frequencyHz: sampler.frequency },
		log,
	});
	stream.on('rejected', (code, message) => log(`hub rejected a message (${code}): ${message}`));
	const tcp = startTcpCollector({ host, stream, log });
	const tls = startTlsCollector({ host, stream, log, captureBodies: options.captureBodies ?? [] });

	sampler.on('tick', (tick) => {
		const k = tick.counters;
		tls.sendBatch();
		stream.sendLive({
			host,
			ts: tick.ts,
			frequencyHz: sampler.frequency,
			processes: tls.withRequests(tcp.withRetransmits(table.scan(tick.ts, tick.samplesByPid))),
			drops: {
				user_stack_missing: k.userStackMissing,
				kernel_stack_missing: k.kernelStackMissing,
				stack_collisions: k.stackCollisions,
				counts_map_full: k.countsMapFull,
				...tcp.drops(),
				...tls.drops(),
				...stream.dropCounters(),
			},
		});
	});
	sampler.on('window', (profile) => {
		stream.sendProfile(profileToWindow(host, profile));
		tcp.sendWindow();
		tls.sendWindow();
		for (const pid of exited) sampler.symbolizer.forget(pid);
		exited.clear();
	});
	sampler.on('error', (err) => log(`profiler: ${err.message}`));

	return {
		host,
		stream,
		async stop() {
			const last = await sampler.stop();
			if (last.samples.length) stream.sendProfile(profileToWindow(host, last));
			await tcp.stop();
			await tls.stop();
			await stream.close();
		},
	};
}

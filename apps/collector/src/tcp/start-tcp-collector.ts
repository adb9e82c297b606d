import type { ProcessRow } from '@firesight/protocol';
import type { HubStream } from '../hub-stream.ts';
import { TcpCollector } from './tcp-collector.ts';

export interface TcpAgentOptions {
	host: string;
	stream: Pick<HubStream, 'sendConnections' | 'sendRetransmitWindow'>;
	log(line: string): void;
	/** How often the connection table is drained and sent. Default 1 s. */
	intervalMs?: number;
	/** For tests: instead of loading the BPF program. */
	create?: () => TcpCollector;
}

/** What the collector agent calls; a no-op when the TCP tracer could not load. */
export interface TcpAgent {
	readonly running: boolean;
	/** Process rows with their retransmits filled in (since the collector started). */
	withRetransmits(rows: ProcessRow[]): ProcessRow[];
	drops(): Record<string, number>;
	/** Sends the retransmits since the previous window, when there are any. */
	sendWindow(): void;
	/** Sends the last window and detaches. */
	stop(): Promise<void>;
}

/**
 * Starts the TCP half of the collector beside the profiler. One failing feature must not take
 * the collector down: when the tracer cannot load, this says so once and the rest runs on.
 */
export function startTcpCollector(options: TcpAgentOptions): TcpAgent {
	const { host, stream, log } = options;
	let tcp: TcpCollector;
	try {
		tcp = options.create?.() ?? new TcpCollector({ host });
	} catch (err) {
		log(`TCP retransmits are off: ${(err as Error).message}`);
		return { running: false, withRetransmits: (rows) => rows, drops: () => ({}), sendWindow() {}, async stop() {} };
	}
	let failing = false;
	let stopped = false;
	let windows = Promise.resolve();
	const tick = async () => {
		try {
			await tcp.refresh();
			failing = false;
		} catch (err) {
			// Logged once per run of failures, not once a second.
			if (!failing) log(`TCP connection read failed: ${(err as Error).message}`);
			failing = true;
			return;
		}
		const snapshot = tcp.snapshot();
		if (snapshot && !stopped) stream.sendConnections(snapshot);
	};
	const timer = setInterval(() => void tick(), options.intervalMs ?? 1000);
	timer.unref();
	void tick();
	const sendWindow = () => {
		windows = windows.then(async () => {
			const w = await tcp.takeWindow();
			if (w.connections.length) stream.sendRetransmitWindow(w);
		}).catch((err: Error) => log(`TCP window failed: ${err.message}`));
	};
	return {
		running: true,
		withRetransmits(rows) {
			const byPid = tcp.retransmitsByPid();
			return rows.map((r) => ({ ...r, retransmits: byPid.get(r.pid) ?? 0 }));
		},
		drops: () => tcp.drops(),
		sendWindow,
		async stop() {
			clearInterval(timer);
			sendWindow();
			await windows;
			stopped = true;
			await tcp.close();
		},
	};
}

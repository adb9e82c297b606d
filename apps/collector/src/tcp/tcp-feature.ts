import type { Feature, FeatureDefinition } from '../feature.ts';
import { TcpConnections } from './tcp-connections.ts';

export interface TcpFeatureOptions {
	/** How often the connection table is drained and sent. Default 1 s. */
	intervalMs?: number;
	/** For tests: instead of loading the BPF program. */
	create?: (host: string) => TcpConnections;
}

/**
 * TCP connections and retransmits: the live connection table every second, each process's
 * retransmits in the process rows, and per-connection retransmits per window.
 */
export function tcpFeature(options: TcpFeatureOptions = {}): FeatureDefinition {
	return {
		name: 'tcp',
		title: 'TCP tracing',
		start({ host, send, log }): Feature {
			const tcp = options.create?.(host) ?? new TcpConnections({ host });
			let failing = false;
			let stopped = false;
			let windows = Promise.resolve();
			const refresh = async () => {
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
				if (snapshot && !stopped) send({ type: 'connections', snapshot });
			};
			const timer = setInterval(() => void refresh(), options.intervalMs ?? 1000);
			timer.unref();
			void refresh();
			const window = () => {
				windows = windows
					.then(async () => {
						const w = await tcp.takeWindow();
						if (w.connections.length) send({ type: 'retransmitWindow', window: w });
					})
					.catch((err: Error) => log(`TCP window failed: ${err.message}`));
			};
			return {
				processRows(rows) {
					const byPid = tcp.retransmitsByPid();
					return rows.map((r) => ({ ...r, retransmits: byPid.get(r.pid) ?? 0 }));
				},
				window,
				drops: () => tcp.drops(),
				async stop() {
					clearInterval(timer);
					window();
					await windows;
					stopped = true;
					await tcp.close();
				},
			};
		},
	};
}

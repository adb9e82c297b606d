import type { RetransmitWindow, WindowConnection } from '@firesight/protocol';

/** curl (pid 100) to 10.0.0.2:443 with one retransmit; `over` changes any field. */
export function windowConnection(over: Partial<WindowConnection> = {}): WindowConnection {
	return {
		cookie: '1',
		pid: 100,
		comm: 'curl',
		family: 4,
		saddr: '10.0.0.1',
		sport: 40000,
		daddr: '10.0.0.2',
		dport: 443,
		state: 'ESTABLISHED',
		retransmits: 1,
		firstRetransmitAt: null,
		lastRetransmitAt: null,
		...over,
	};
}

/** A retransmit window of 10 s. */
export function retransmitWindow(host: string, startMs: number, connections: WindowConnection[]): RetransmitWindow {
	return { host, startMs, durationMs: 10_000, connections };
}

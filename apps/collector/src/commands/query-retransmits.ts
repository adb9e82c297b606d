import { callHub, createHubClient } from '../hub-client.ts';
import { parseListingArgs, printListing } from './query-listing.ts';

export const retransmitsUsage = `Usage: firesight query retransmits [--since DURATION] [--pid PID] [--host HOST] [--json] [--hub URL]

TCP connections that retransmitted over the last DURATION, most retransmits first, as the hub
stored them (per window; the current window reaches the hub when it ends).

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only connections owned by this process
      --host HOST        only this collector host
      --json             one JSON object per connection per line:
                         {pid, comm, family, saddr, sport, daddr, dport, retransmits, state, firstRetransmitAt, lastRetransmitAt}
      --hub URL          the hub (default http://127.0.0.1:7300)
      --token TOKEN      the hub's token, when it asks for one (default $FIRESIGHT_TOKEN)`;

function endpoint(family: number, addr: string, port: number): string {
	return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function isoOrDash(ms: number | null): string {
	return ms === null
		? '-'
		: new Date(ms)
				.toISOString()
				.replace('T', ' ')
				.replace(/\.\d+Z$/, 'Z');
}

export async function retransmits(argv: string[]): Promise<number> {
	const args = parseListingArgs(argv);
	const { sinceMs, pid, host, hub, token } = args;
	const toMs = Date.now();
	const fromMs = toMs - sinceMs;
	const client = createHubClient(hub, token);
	const rows = await callHub(hub, () => client.network.connections.query({ fromMs, toMs, pid, host }));
	await printListing(args, rows, {
		nothing: 'retransmits',
		json: (r) => ({
			pid: r.pid,
			comm: r.comm,
			family: r.family,
			saddr: r.saddr,
			sport: r.sport,
			daddr: r.daddr,
			dport: r.dport,
			retransmits: r.retransmits,
			state: r.state,
			firstRetransmitAt: r.firstRetransmitAt,
			lastRetransmitAt: r.lastRetransmitAt,
		}),
		header: ['PID', 'COMMAND', 'LOCAL', 'REMOTE', 'RETRANS', 'STATE', 'FIRST', 'LAST'],
		numeric: [0, 4],
		cells: (r) => [
			String(r.pid),
			r.comm || '?',
			endpoint(r.family, r.saddr, r.sport),
			endpoint(r.family, r.daddr, r.dport),
			String(r.retransmits),
			r.state,
			isoOrDash(r.firstRetransmitAt),
			isoOrDash(r.lastRetransmitAt),
		],
	});
	return 0;
}

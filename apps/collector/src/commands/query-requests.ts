import { callHub, createHubClient } from '../hub-client.ts';
import { parseListingArgs, printListing } from './query-listing.ts';

export const requestsUsage = `Usage: firesight query requests [--since DURATION] [--pid PID] [--host HOST] [--json] [--hub URL]

HTTPS requests the hub stored over the last DURATION, oldest first: every HTTP/1.x request a
traced process made or served, seen in TLS plaintext. A request between two traced processes
shows once per side. Secrets (Authorization, Cookie and Set-Cookie values, query values) were
redacted by the collector.

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only requests this process made or served
      --host HOST        only this collector host
      --json             one JSON object per request per line:
                         {ts, pid, comm, method, path, status, latencyMs, reqBytes, respBytes, local, remote}
      --hub URL          the hub (default http://127.0.0.1:7300)
      --token TOKEN      the hub's token, when it asks for one (default $FIRESIGHT_TOKEN)`;

/** Requests one page of the hub's list returns; the command pages on until it has them all. */
const PAGE = 5_000;

function clock(ms: number): string {
	return new Date(ms).toISOString().replace('T', ' ').replace(/Z$/, '');
}

function latency(ms: number): string {
	return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

export async function requests(argv: string[]): Promise<number> {
	const args = parseListingArgs(argv);
	const { sinceMs, pid, host, hub, token } = args;
	const untilMs = Date.now();
	const client = createHubClient(hub, token);

	const rows = [];
	for (let from = untilMs - sinceMs; ;) {
		const page = await callHub(hub, () => client.requests.list.query({ sinceMs: Math.floor(from), untilMs, pid, host, limit: PAGE }));
		rows.push(...page);
		if (page.length < PAGE) break;
		// Requests sharing the last timestamp may straddle pages: drop them and ask again from there.
		const lastTs = page.at(-1)!.ts;
		while (rows.length && rows.at(-1)!.ts >= Math.floor(lastTs)) rows.pop();
		if (Math.floor(lastTs) <= from) break;
		from = Math.floor(lastTs);
	}
	await printListing(args, rows, {
		nothing: 'HTTPS requests',
		json: (r) => ({
			ts: r.ts,
			pid: r.pid,
			comm: r.comm,
			method: r.method,
			path: r.path,
			status: r.status,
			latencyMs: r.latencyMs,
			reqBytes: r.reqBytes,
			respBytes: r.respBytes,
			local: r.local,
			remote: r.remote,
		}),
		header: ['TIME', 'PID', 'COMMAND', 'ROLE', 'METHOD', 'PATH', 'STATUS', 'MS', 'REQ B', 'RESP B', 'REMOTE'],
		numeric: [1, 6, 7, 8, 9],
		cells: (r) => [
			clock(r.ts),
			String(r.pid),
			r.comm || '?',
			r.role,
			r.method,
			r.path.length > 80 ? `${r.path.slice(0, 79)}…` : r.path,
			String(r.status),
			latency(r.latencyMs),
			String(r.reqBytes),
			String(r.respBytes),
			r.remote ?? '?',
		],
	});
	return 0;
}

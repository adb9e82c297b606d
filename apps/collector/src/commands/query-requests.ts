import { durationOption, intOption, parseOptions, UsageError } from '../command.ts';
import { callHub, createHubClient, normalizeHubUrl } from '../hub-client.ts';

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
      --hub URL          the hub (default http://127.0.0.1:7300)`;

/** Requests one page of the hub's list returns; the command pages on until it has them all. */
const PAGE = 5_000;

function clock(ms: number): string {
	return new Date(ms).toISOString().replace('T', ' ').replace(/Z$/, '');
}

function latency(ms: number): string {
	return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

/** Left-aligned columns, numbers right-aligned, two spaces apart. */
function table(header: string[], rows: string[][], numeric: ReadonlySet<number>): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) =>
		cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
	return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function requests(argv: string[]): Promise<number> {
	const { values, positionals } = parseOptions(argv, {
		since: { type: 'string', short: 's' },
		pid: { type: 'string', short: 'p' },
		host: { type: 'string' },
		json: { type: 'boolean' },
		hub: { type: 'string' },
	});
	if (values.help) {
		console.log(requestsUsage);
		return 0;
	}
	if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
	const sinceMs = durationOption('since', values.since, 5 * 60_000);
	const pid = values.pid === undefined ? undefined : intOption('pid', values.pid, 0, 0, 2 ** 32 - 1);
	const host = values.host;
	if (host !== undefined && (host === '' || host.length > 256)) throw new UsageError('--host must be 1 to 256 characters');
	const hub = normalizeHubUrl(values.hub);
	const untilMs = Date.now();
	const client = createHubClient(hub);

	const rows = [];
	for (let from = untilMs - sinceMs; ; ) {
		const page = await callHub(hub, () => client.requests.list.query({ sinceMs: Math.floor(from), untilMs, pid, host, limit: PAGE }));
		rows.push(...page);
		if (page.length < PAGE) break;
		// Requests sharing the last timestamp may straddle pages: drop them and ask again from there.
		const lastTs = page.at(-1)!.ts;
		while (rows.length && rows.at(-1)!.ts >= Math.floor(lastTs)) rows.pop();
		if (Math.floor(lastTs) <= from) break;
		from = Math.floor(lastTs);
	}
	const multiHost = host === undefined && new Set(rows.map((r) => r.host)).size > 1;

	let out: string;
	if (values.json) {
		out = rows
			.map((r) =>
				JSON.stringify({
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
					...(multiHost ? { host: r.host } : {}),
				}) + '\n',
			)
			.join('');
	} else if (rows.length === 0) {
		const what = [pid !== undefined && `pid ${pid}`, host !== undefined && `host ${host}`].filter(Boolean).join(', ');
		console.error(`firesight query: no HTTPS requests in the last ${values.since ?? '5m'}${what ? ` for ${what}` : ''}`);
		out = '';
	} else {
		const header = ['TIME', 'PID', 'COMMAND', 'ROLE', 'METHOD', 'PATH', 'STATUS', 'MS', 'REQ B', 'RESP B', 'REMOTE', ...(multiHost ? ['HOST'] : [])];
		const body = rows.map((r) => [
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
			...(multiHost ? [r.host] : []),
		]);
		out = table(header, body, new Set([1, 6, 7, 8, 9]));
	}
	await new Promise<void>((resolve, reject) => process.stdout.write(out, (err) => (err ? reject(err) : resolve())));
	return 0;
}

import { durationOption, intOption, parseOptions, UsageError } from '../command.ts';
import { callHub, createHubClient, normalizeHubUrl } from '../hub-client.ts';

export const retransmitsUsage = `Usage: firesight query retransmits [--since DURATION] [--pid PID] [--host HOST] [--json] [--hub URL]

TCP connections that retransmitted over the last DURATION, most retransmits first, as the hub
stored them (per window; the current window reaches the hub when it ends).

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only connections owned by this process
      --host HOST        only this collector host
      --json             one JSON object per connection per line:
                         {pid, comm, family, saddr, sport, daddr, dport, retransmits, state, firstTs, lastTs}
      --hub URL          the hub (default http://127.0.0.1:7300)`;

function endpoint(family: number, addr: string, port: number): string {
	return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function isoOrDash(ms: number | null): string {
	return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Left-aligned columns, numbers right-aligned, two spaces apart. */
function table(header: string[], rows: string[][], numeric: ReadonlySet<number>): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	const line = (cells: string[]) =>
		cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
	return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function retransmits(argv: string[]): Promise<number> {
	const { values, positionals } = parseOptions(argv, {
		since: { type: 'string', short: 's' },
		pid: { type: 'string', short: 'p' },
		host: { type: 'string' },
		json: { type: 'boolean' },
		hub: { type: 'string' },
	});
	if (values.help) {
		console.log(retransmitsUsage);
		return 0;
	}
	if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
	const sinceMs = durationOption('since', values.since, 5 * 60_000);
	const pid = values.pid === undefined ? undefined : intOption('pid', values.pid, 0, 0, 2 ** 32 - 1);
	const host = values.host;
	if (host !== undefined && (host === '' || host.length > 256)) throw new UsageError('--host must be 1 to 256 characters');
	const hub = normalizeHubUrl(values.hub);
	const toMs = Date.now();
	const fromMs = toMs - sinceMs;
	const client = createHubClient(hub);
	const rows = await callHub(hub, () => client.network.connections.query({ fromMs, toMs, pid, host }));

	let out: string;
	if (values.json) {
		out = rows
			.map((r) =>
				JSON.stringify({
					pid: r.pid,
					comm: r.comm,
					family: r.family,
					saddr: r.saddr,
					sport: r.sport,
					daddr: r.daddr,
					dport: r.dport,
					retransmits: r.retransmits,
					state: r.state,
					firstTs: r.firstTs,
					lastTs: r.lastTs,
					...(host === undefined && new Set(rows.map((x) => x.host)).size > 1 ? { host: r.host } : {}),
				}) + '\n',
			)
			.join('');
	} else if (rows.length === 0) {
		const what = [pid !== undefined && `pid ${pid}`, host !== undefined && `host ${host}`].filter(Boolean).join(', ');
		console.error(`firesight query: no retransmits in the last ${values.since ?? '5m'}${what ? ` for ${what}` : ''}`);
		out = '';
	} else {
		const multiHost = new Set(rows.map((r) => r.host)).size > 1;
		const header = ['PID', 'COMMAND', 'LOCAL', 'REMOTE', 'RETRANS', 'STATE', 'FIRST', 'LAST', ...(multiHost ? ['HOST'] : [])];
		const body = rows.map((r) => [
			String(r.pid),
			r.comm || '?',
			endpoint(r.family, r.saddr, r.sport),
			endpoint(r.family, r.daddr, r.dport),
			String(r.retransmits),
			r.state,
			isoOrDash(r.firstTs),
			isoOrDash(r.lastTs),
			...(multiHost ? [r.host] : []),
		]);
		out = table(header, body, new Set([0, 4]));
	}
	await new Promise<void>((resolve, reject) => process.stdout.write(out, (err) => (err ? reject(err) : resolve())));
	return 0;
}

import { writeFileSync } from 'node:fs';
import { parseOptions, UsageError, UserError, type Command } from '../command.ts';
import { callHub, createHubClient, hubError, normalizeHubUrl } from '../hub-client.ts';
import { pidOption, reportNothing, sinceOption, writeStdout } from './query-listing.ts';
import { requests, requestsUsage } from './query-requests.ts';
import { retransmits, retransmitsUsage } from './query-retransmits.ts';

/** A `firesight query <what>` subcommand; later ones (requests, retransmits) are added to `subcommands`. */
interface QuerySubcommand {
	readonly name: string;
	readonly summary: string;
	readonly usage: string;
	run(argv: string[]): Promise<number>;
}

const profileUsage = `Usage: firesight query profile [--since DURATION] [--pid PID] [--comm NAME] [--host HOST]
                              [--format pprof|folded] [--output FILE] [--hub URL]

Merges the CPU profile windows a running hub stored over the last DURATION and writes them.

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only this process
  -c, --comm NAME        only processes with this command name
      --host HOST        only this collector host
  -f, --format FORMAT    folded (flamegraph.pl, speedscope) or pprof (go tool pprof);
                         default: pprof when --output ends in .pb.gz or .pprof, else folded
  -o, --output FILE      write here instead of standard output (pprof needs a file or a pipe)
      --hub URL          the hub (default http://127.0.0.1:7300)`;

async function profile(argv: string[]): Promise<number> {
	const { values, positionals } = parseOptions(argv, {
		since: { type: 'string', short: 's' },
		pid: { type: 'string', short: 'p' },
		comm: { type: 'string', short: 'c' },
		host: { type: 'string' },
		format: { type: 'string', short: 'f' },
		output: { type: 'string', short: 'o' },
		hub: { type: 'string' },
	});
	if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
	const sinceMs = sinceOption(values.since);
	const pid = pidOption(values.pid);
	const comm = values.comm;
	if (comm !== undefined && (comm === '' || comm.length > 256)) throw new UsageError('--comm must be 1 to 256 characters');
	const host = values.host;
	const output = values.output;
	const format = values.format ?? (output && /\.(pb\.gz|pprof)$/.test(output) ? 'pprof' : 'folded');
	if (format !== 'pprof' && format !== 'folded') throw new UsageError(`--format must be pprof or folded, got '${format}'`);
	if (format === 'pprof' && !output && process.stdout.isTTY) {
		throw new UsageError('pprof is binary: give --output FILE or pipe standard output');
	}
	const hub = normalizeHubUrl(values.hub);
	const toMs = Date.now();
	const fromMs = toMs - sinceMs;

	let body: string | Uint8Array;
	let samples: number;
	if (format === 'folded') {
		const client = createHubClient(hub);
		const r = await callHub(hub, () => client.profile.folded.query({ fromMs, toMs, pid, comm, host }));
		body = r.text;
		samples = r.totalSamples;
	} else {
		// tRPC speaks JSON; the binary export is a plain GET route on the hub.
		const params = new URLSearchParams({ from: String(fromMs), to: String(toMs) });
		if (pid !== undefined) params.set('pid', String(pid));
		if (comm !== undefined) params.set('comm', comm);
		if (host !== undefined) params.set('host', host);
		let res: Response;
		try {
			res = await fetch(`${hub}/api/pprof?${params}`);
		} catch (err) {
			throw hubError(hub, err);
		}
		if (!res.ok) throw new UserError(`hub: ${(await res.text()).trim() || `HTTP ${res.status}`}`);
		body = new Uint8Array(await res.arrayBuffer());
		samples = Number(res.headers.get('x-firesight-samples') ?? NaN);
	}
	if (samples === 0) {
		reportNothing('samples', values.since, { pid, comm, host });
	}
	if (output) {
		try {
			writeFileSync(output, body);
		} catch (err) {
			throw new UserError(`cannot write ${output}: ${(err as Error).message}`);
		}
		if (samples > 0) console.error(`firesight query: wrote ${samples} samples to ${output} (${format})`);
	} else {
		await writeStdout(body);
	}
	return 0;
}

const subcommands: readonly QuerySubcommand[] = [
	{ name: 'profile', summary: 'CPU profile of a time range, as folded stacks or pprof', usage: profileUsage, run: profile },
	{ name: 'retransmits', summary: 'TCP connections that retransmitted, per connection', usage: retransmitsUsage, run: retransmits },
	{ name: 'requests', summary: 'HTTPS requests processes made or served (TLS plaintext)', usage: requestsUsage, run: requests },
];

const usage = `Usage: firesight query <what> [options]

Reads from a running hub (default http://127.0.0.1:7300).

What:
${subcommands.map((s) => `  ${s.name.padEnd(12)}${s.summary}`).join('\n')}

Run 'firesight query <what> --help' for its options.`;

export const query: Command = {
	name: 'query',
	usage,
	usageFor: (argv) => subcommands.find((s) => s.name === argv[0])?.usage ?? usage,
	async run(argv) {
		const [what, ...rest] = argv;
		if (what === undefined) throw new UsageError(`say what to query: ${subcommands.map((s) => s.name).join(', ')}`);
		const sub = subcommands.find((s) => s.name === what);
		if (!sub) throw new UsageError(`unknown query '${what}' (one of: ${subcommands.map((s) => s.name).join(', ')})`);
		return sub.run(rest);
	},
};

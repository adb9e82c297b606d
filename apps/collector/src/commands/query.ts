import { defineOptions, quote, textOption, UsageError, UserError, type Command, type Environment } from '../command.ts';
import { callHub, createHubClient, hubError } from '../hub-client.ts';
import { openOutput } from './output-file.ts';
import { choice, endpoint, filePath, name, outputFormat } from './option-values.ts';
import { parseListingArgs, queryOptions, reportNothing, writeStdout } from './query-listing.ts';
import { requests, requestsUsage } from './query-requests.ts';
import { retransmits, retransmitsUsage } from './query-retransmits.ts';

/** A `firesight query <what>` subcommand. */
interface QuerySubcommand {
	readonly name: string;
	readonly summary: string;
	readonly usage: string;
	/** Checks the arguments without touching the system (see Command.parse). */
	parse(argv: string[], env?: Environment): unknown;
	run(argv: string[]): Promise<number>;
}

const profileUsage = `Usage: firesight query profile [--since DURATION] [--pid PID] [--comm NAME] [--host HOST]
                              [--endpoint 'METHOD /path'] [--request ID]
                              [--format pprof|folded] [--output FILE] [--hub URL]

Merges the CPU profile windows a running hub stored over the last DURATION and writes them.
With --endpoint, only the samples taken while a thread served that endpoint (from the TLS
capture, no change to the application); pprof samples carry the endpoint as a label either way.

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only this process
  -c, --comm NAME        only processes with this command name
      --host HOST        only this collector host
  -e, --endpoint EP      only samples attributed to this endpoint, exactly as the Requests page
                         names it: METHOD and path template, e.g. 'GET /api/users/:id'
      --request ID       only samples attributed to this (slow) request: its requestId; when
                         other requests were open on its thread (ambiguous), every sample of
                         that thread during its lifetime, a few perhaps from after it ended
  -f, --format FORMAT    folded (flamegraph.pl, speedscope) or pprof (go tool pprof);
                         default: pprof when --output ends in .pb.gz or .pprof, else folded
  -o, --output FILE      write here instead of standard output (pprof needs a file or a pipe)
      --hub URL          the hub (default http://127.0.0.1:7300)
      --token TOKEN      the hub's token, when it asks for one (default $FIRESIGHT_TOKEN)`;

const profileOptions = defineOptions({
	...queryOptions,
	comm: textOption(name.optional(), { short: 'c' }),
	endpoint: textOption(endpoint.optional(), { short: 'e' }),
	request: textOption(name.optional()),
	format: textOption(choice(['pprof', 'folded']).optional(), { short: 'f' }),
	output: textOption(filePath.optional(), { short: 'o' }),
});

async function profile(argv: string[]): Promise<number> {
	const {
		since: sinceMs,
		pid,
		comm,
		endpoint,
		request: requestId,
		host,
		hub,
		token,
		output: outputPath,
		...args
	} = profileOptions.parse(argv);
	const format = outputFormat(args.format, outputPath);
	if (format === 'pprof' && !outputPath && process.stdout.isTTY) {
		throw new UsageError('pprof is binary: give --output FILE or pipe standard output');
	}
	const output = outputPath === undefined ? undefined : openOutput(outputPath);
	try {
		return await queryProfile({ sinceMs, pid, comm, endpoint, requestId, host, hub, token, format, output });
	} finally {
		output?.discard();
	}
}

async function queryProfile({
	sinceMs,
	pid,
	comm,
	endpoint,
	requestId,
	host,
	hub,
	token,
	format,
	output,
}: {
	sinceMs: number;
	pid: number | undefined;
	comm: string | undefined;
	endpoint: string | undefined;
	requestId: string | undefined;
	host: string | undefined;
	hub: string;
	token: string | undefined;
	format: 'pprof' | 'folded';
	output: ReturnType<typeof openOutput> | undefined;
}): Promise<number> {
	const toMs = Date.now();
	const fromMs = toMs - sinceMs;

	let body: string | Uint8Array;
	let samples: number;
	if (format === 'folded') {
		const client = createHubClient(hub, token);
		const r = await callHub(hub, () => client.profile.folded.query({ fromMs, toMs, pid, comm, endpoint, requestId, host }));
		body = r.text;
		samples = r.totalSamples;
	} else {
		// tRPC speaks JSON; the binary export is a plain GET route on the hub.
		const params = new URLSearchParams({ from: String(fromMs), to: String(toMs) });
		if (pid !== undefined) params.set('pid', String(pid));
		if (comm !== undefined) params.set('comm', comm);
		if (endpoint !== undefined) params.set('endpoint', endpoint);
		if (requestId !== undefined) params.set('request', requestId);
		if (host !== undefined) params.set('host', host);
		let res: Response;
		try {
			res = await fetch(`${hub}/api/pprof?${params}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
		} catch (err) {
			throw hubError(hub, err);
		}
		if (res.status === 401) throw new UserError(`the hub at ${hub} wants its token: give --token or set $FIRESIGHT_TOKEN`);
		if (!res.ok) throw new UserError(`hub: ${(await res.text()).trim() || `HTTP ${res.status}`}`);
		body = new Uint8Array(await res.arrayBuffer());
		samples = Number(res.headers.get('x-firesight-samples') ?? NaN);
	}
	if (samples === 0) {
		reportNothing('samples', sinceMs, { pid, comm, endpoint, request: requestId, host });
	}
	if (output) {
		output.write(body);
		if (samples > 0) console.error(`firesight query: wrote ${samples} samples to ${output.path} (${format})`);
	} else {
		await writeStdout(body);
	}
	return 0;
}

const subcommands: readonly QuerySubcommand[] = [
	{
		name: 'profile',
		summary: 'CPU profile of a time range, as folded stacks or pprof',
		usage: profileUsage,
		parse: profileOptions.parse,
		run: profile,
	},
	{
		name: 'retransmits',
		summary: 'TCP connections that retransmitted, per connection',
		usage: retransmitsUsage,
		parse: parseListingArgs,
		run: retransmits,
	},
	{
		name: 'requests',
		summary: 'HTTPS requests processes made or served (TLS plaintext)',
		usage: requestsUsage,
		parse: parseListingArgs,
		run: requests,
	},
];

const usage = `Usage: firesight query <what> [options]

Reads from a running hub (default http://127.0.0.1:7300).

What:
${subcommands.map((s) => `  ${s.name.padEnd(12)}${s.summary}`).join('\n')}

Run 'firesight query <what> --help' for its options.`;

function subcommand(argv: string[]): [QuerySubcommand, string[]] {
	const [what, ...rest] = argv;
	const names = subcommands.map((s) => s.name).join(', ');
	if (what === undefined) throw new UsageError(`say what to query: ${names}`);
	const sub = subcommands.find((s) => s.name === what);
	if (!sub) throw new UsageError(`unknown query ${quote(what)} (one of: ${names})`);
	return [sub, rest];
}

export const query: Command = {
	name: 'query',
	usage,
	usageFor: (argv) => subcommands.find((s) => s.name === argv[0])?.usage ?? usage,
	parse(argv, env) {
		const [sub, rest] = subcommand(argv);
		return sub.parse(rest, env);
	},
	async run(argv) {
		const [sub, rest] = subcommand(argv);
		return sub.run(rest);
	},
};

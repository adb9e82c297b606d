import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { defineOptions, listOption, quote, textOption, UsageError, type Command } from '../command.ts';
import { callHub, createHubClient } from '../hub-client.ts';
import { DEFAULT_HUB_URL } from '../hub-url.ts';
import { name, wholeNumber } from './option-values.ts';
import { queryOptions } from './query-listing.ts';

const usage = `Usage: firesight share [--since DURATION] [--pid PID]... [--comm NAME] [--host HOST] [--hub URL]
       firesight share delete ID [--hub URL]

Snapshots the CPU profile a running hub stored over the last DURATION and prints a link to it.
The link opens the flame graph read-only in any browser that reaches the hub, without its
login: the id in it is the only key, so hand it only to whom may see the profile. A share holds
the profile only (frames and counts), never captured requests; it stays until deleted.

Options:
  -s, --since DURATION   how far back, e.g. 30s, 5m, 1h, 2d (default 5m)
  -p, --pid PID          only this process; repeat for several
  -c, --comm NAME        only processes with this command name
      --host HOST        only this collector host
      --hub URL          the hub (default ${DEFAULT_HUB_URL})
      --token TOKEN      the hub's token, when it asks for one (default $FIRESIGHT_TOKEN)`;

const shareOptions = defineOptions({
	...queryOptions,
	pid: listOption(
		z
			.array(wholeNumber(1, 2 ** 32 - 1))
			.max(64, 'may be given at most 64 times')
			.default([]),
		{ short: 'p' },
	),
	comm: textOption(name.optional(), { short: 'c' }),
});

const deleteOptions = defineOptions({ hub: queryOptions.hub, token: queryOptions.token });

/** Who made a share, as the hub shows it: the local user at this machine. */
export function creator(): string | undefined {
	try {
		return `${userInfo().username}@${hostname()}`.slice(0, 200);
	} catch {
		return undefined;
	}
}

function parse(argv: string[]) {
	if (argv[0] === 'delete') {
		const [, id, ...rest] = argv;
		if (id === undefined || id.startsWith('-')) throw new UsageError('say which share to delete: firesight share delete ID');
		if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`${quote(id)} is not a share id`);
		return { kind: 'delete' as const, id, ...deleteOptions.parse(rest) };
	}
	return { kind: 'create' as const, ...shareOptions.parse(argv) };
}

export const share: Command = {
	name: 'share',
	usage,
	parse,
	async run(argv) {
		const args = parse(argv);
		const client = createHubClient(args.hub, args.token);
		if (args.kind === 'delete') {
			await callHub(args.hub, () => client.shares.delete.mutate({ id: args.id }));
			console.error(`firesight share: deleted ${args.id}`);
			return 0;
		}
		const toMs = Date.now();
		const [pid, ...pids] = args.pid;
		const made = await callHub(args.hub, () =>
			client.shares.create.mutate({
				fromMs: toMs - args.since,
				toMs,
				...(pid !== undefined ? { pid } : {}),
				...(pids.length > 0 ? { pids } : {}),
				...(args.comm !== undefined ? { comm: args.comm } : {}),
				...(args.host !== undefined ? { host: args.host } : {}),
				...(creator() !== undefined ? { creator: creator() } : {}),
			}),
		);
		console.error(`firesight share: ${made.totalSamples} samples from ${made.source.processes.length} process(es)`);
		process.stdout.write(`${args.hub}/s/${made.id}\n`);
		return 0;
	},
};

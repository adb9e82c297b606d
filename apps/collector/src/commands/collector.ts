import { hostname } from 'node:os';
import { z } from 'zod';
import { NativeError } from '@firesight/native';
import { createLogger } from '@firesight/web/logger';
import { ingestCloseCodes } from '@firesight/protocol';
import { defineOptions, exitCodes, flagOption, textOption, UserError, type Command } from '../command.ts';
import { DEFAULT_SPOOL_MAX_BYTES, defaultSpoolDir } from '../spool.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage } from './agent-options.ts';
import { prepareDataDirectory } from './data-directory.ts';
import { bearerToken, byteSize, collectorHubUrl, directoryPath, name, tokenFile } from './option-values.ts';

const usage = `Usage: firesight collector --hub URL (--token TOKEN | --token-file FILE) [--host NAME] [--frequency HZ] [--window SECS]
                          [--unwind fp|dwarf|auto] [--capture-bodies PID]... [--retry-auth] [--spool DIR] [--spool-max SIZE]

Runs this host's collector: samples CPU stacks with eBPF and streams profile windows and a live
process table to a hub. Stops on Ctrl-C (SIGINT) or SIGTERM and detaches every BPF program.

Options:
  --hub URL            the hub, e.g. http://10.0.0.5:7300 (required)
  --token TOKEN        the hub's collector token (or $FIRESIGHT_TOKEN)
  --token-file FILE    read the token from FILE (a mounted secret) instead
  --host NAME          the name this host goes by in the hub (default: its hostname)
${agentOptionsUsage}
  --window SECS        length of a stored profile window, e.g. 10s, 1m (default 10s)
  --retry-auth         when the hub refuses the token, keep retrying (a hub about to get it)
                       instead of exiting with code 3
  --spool DIR          where windows wait until the hub has stored them, kept across restarts
                       (default: /var/lib/firesight/spool/HOST as root, else under the temp dir)
  --spool-max SIZE     the spool's size at most, e.g. 64M or 1G; beyond it the oldest windows
                       are dropped and counted (default 256M)

Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

const options = defineOptions(
	{
		hub: textOption(collectorHubUrl),
		token: textOption(bearerToken(1).optional(), { env: 'FIRESIGHT_TOKEN', secret: true }),
		'token-file': textOption(tokenFile(1).optional()),
		host: textOption(name.optional()),
		'retry-auth': flagOption(z.boolean().default(false)),
		spool: textOption(directoryPath.optional()),
		'spool-max': textOption(byteSize(1024 * 1024, 64 * 1024 ** 3).default(DEFAULT_SPOOL_MAX_BYTES)),
		...agentOptions,
	},
	(values) => {
		const given = Number(values.token !== undefined) + Number(values['token-file'] !== undefined);
		return given === 1
			? undefined
			: given === 0
				? '--token or --token-file is required (or set $FIRESIGHT_TOKEN)'
				: 'give --token or --token-file, not both';
	},
);

export const collector: Command = {
	name: 'collector',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	async run(argv) {
		const args = options.parse(argv);
		const { hub, frequency, window: windowMs } = args;
		const token = (args.token ?? args['token-file'])!;
		// Checked before the BPF programs load; the spool holds captured requests, so it is the owner's only.
		const spoolDir = prepareDataDirectory(args.spool ?? defaultSpoolDir(args.host ?? hostname()), '--spool', 0o700);
		// Loaded once the arguments are good, so that a mistake is told without waiting for it.
		const { startCollector } = await import('../collector-agent.ts');
		let agent;
		try {
			agent = startCollector({
				hub,
				token,
				frequency,
				unwind: args.unwind,
				windowMs,
				captureBodies: args['capture-bodies'],
				...(args.host ? { host: args.host } : {}),
				spool: { dir: spoolDir, maxBytes: args['spool-max'] },
			});
		} catch (err) {
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		createLogger('collector').info(`sampling ${agent.host} at ${frequency} Hz, streaming to ${hub}`);
		// A wrong token does not fix itself: retrying forever would look like an unreachable hub.
		const refused = new Promise<string>((resolve) => {
			// A hub that does not speak this collector's protocol will not learn it by retrying.
			agent.stream.on('refused', (code, reason) => {
				if (code !== ingestCloseCodes.unsupportedVersion) return;
				void agent.stream.close(0);
				resolve(`the hub refused this collector: ${reason}; run the same Firesight version on both`);
			});
			if (args['retry-auth']) return;
			agent.stream.once('unauthorized', (reason) => {
				// No more attempts while the rest stops: they would only report an unreachable hub.
				void agent.stream.close(0);
				resolve(`${reason}; check --token or $FIRESIGHT_TOKEN (--retry-auth keeps trying)`);
			});
		});
		const reason = await Promise.race([untilSignal().then(() => undefined), refused]);
		await agent.stop();
		if (reason !== undefined) {
			console.error(`firesight collector: ${reason}`);
			return exitCodes.unauthorized;
		}
		return exitCodes.ok;
	},
};

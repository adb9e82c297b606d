import { z } from 'zod';
import { NativeError } from '@firesight/native';
import { defineOptions, exitCodes, flagOption, textOption, UserError, type Command } from '../command.ts';
import { startCollector } from '../collector-agent.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage } from './agent-options.ts';
import { bearerToken, collectorHubUrl, name } from './option-values.ts';

const usage = `Usage: firesight collector --hub URL --token TOKEN [--host NAME] [--frequency HZ] [--window SECS]
                          [--capture-bodies PID]... [--retry-auth]

Runs this host's collector: samples CPU stacks with eBPF and streams profile windows and a live
process table to a hub. Stops on Ctrl-C (SIGINT) or SIGTERM and detaches every BPF program.

Options:
  --hub URL            the hub, e.g. http://10.0.0.5:7300 (required)
  --token TOKEN        the hub's collector token (required; or $FIRESIGHT_TOKEN)
  --host NAME          the name this host goes by in the hub (default: its hostname)
${agentOptionsUsage}
  --window SECS        length of a stored profile window, e.g. 10s, 1m (default 10s)
  --retry-auth         when the hub refuses the token, keep retrying (a hub about to get it)
                       instead of exiting with code 3

Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

const options = defineOptions({
	hub: textOption(collectorHubUrl),
	token: textOption(bearerToken(1), { env: 'FIRESIGHT_TOKEN', secret: true }),
	host: textOption(name.optional()),
	'retry-auth': flagOption(z.boolean().default(false)),
	...agentOptions,
});

export const collector: Command = {
	name: 'collector',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	async run(argv) {
		const args = options.parse(argv);
		const { hub, token, frequency, window: windowMs } = args;
		let agent;
		try {
			agent = startCollector({
				hub,
				token,
				frequency,
				windowMs,
				captureBodies: args['capture-bodies'],
				...(args.host ? { host: args.host } : {}),
			});
		} catch (err) {
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		console.error(`firesight collector: sampling ${agent.host} at ${frequency} Hz, streaming to ${hub}`);
		// A wrong token does not fix itself: retrying forever would look like an unreachable hub.
		const refused = new Promise<string>((resolve) => {
			if (args['retry-auth']) return;
			agent.stream.once('unauthorized', (reason) => {
				// No more attempts while the rest stops: they would only report an unreachable hub.
				void agent.stream.close(0);
				resolve(reason);
			});
		});
		const reason = await Promise.race([untilSignal().then(() => undefined), refused]);
		await agent.stop();
		if (reason !== undefined) {
			console.error(`firesight collector: ${reason}; check --token or $FIRESIGHT_TOKEN (--retry-auth keeps trying)`);
			return exitCodes.unauthorized;
		}
		return exitCodes.ok;
	},
};

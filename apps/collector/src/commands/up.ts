import { randomBytes } from 'node:crypto';
import { NativeError } from '@firesight/native';
import { createLogger } from '@firesight/web/logger';
import { DEFAULT_LISTEN } from '@firesight/web/default-listen';
import { defineOptions, UserError, type Command } from '../command.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage } from './agent-options.ts';
import { givenToken, hubAccess, hubAccessUsage, hubOptions, hubOptionsAcross, startHubForCli } from './hub.ts';

const usage = `Usage: firesight up [--listen ADDR:PORT] [--data DIR] [--token TOKEN] [--frequency HZ] [--window SECS]
                   [--unwind fp|dwarf|auto] [--capture-bodies PID]... [--tls-cert FILE --tls-key FILE] [--allow-host NAME]...
                   [--metrics-public] [--redact-header H]...

Runs everything on this host: the hub with the dashboard, and a local collector connected to it
with a token made for this run. Ctrl-C stops both and detaches every BPF program.

Options:
  --listen ADDR:PORT   where the hub and dashboard listen (default ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port});
                       loopback unless you say otherwise
  --data DIR           where profiles are stored (default $FIRESIGHT_DATA or ./data)
  --token TOKEN        the token browsers log in with, needed beyond loopback (default
                       $FIRESIGHT_TOKEN; without one, the hub stays on loopback)
${agentOptionsUsage}
  --window SECS        length of a stored profile window (default 10s)
${hubAccessUsage('  ', 23)}

Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

const options = defineOptions({ ...hubOptions, ...agentOptions }, hubOptionsAcross);

export const up: Command = {
	name: 'up',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	async run(argv) {
		const args = options.parse(argv);
		const { frequency, window: windowMs } = args;
		// Without a token of the user's, one is made for the collector and never shown: no browser
		// could log in with it, so the hub keeps auth off, which it allows on loopback only.
		const token = givenToken(args) ?? randomBytes(24).toString('base64url');
		// Loaded while the hub starts, so that the collector starts as soon as the hub answers.
		const agentModule = import('../collector-agent.ts');
		const hub = await startHubForCli({
			listen: args.listen,
			dataDir: args.data,
			token,
			...(givenToken(args) === undefined ? { auth: false } : {}),
			...hubAccess(args),
		});
		const { startCollector } = await agentModule;
		let agent;
		try {
			agent = startCollector({ hub: hub.url, token, frequency, unwind: args.unwind, windowMs, captureBodies: args['capture-bodies'] });
		} catch (err) {
			await hub.close();
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		const log = createLogger('up');
		log.info(`dashboard at ${hub.url} (collector ${agent.host}, ${frequency} Hz); Ctrl-C to stop`);
		await untilSignal();
		log.info('stopping');
		await agent.stop();
		await hub.close();
		return 0;
	},
};

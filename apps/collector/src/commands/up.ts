import { randomBytes } from 'node:crypto';
import { NativeError } from '@firesight/native';
import { DEFAULT_LISTEN } from '@firesight/web/server';
import { defineOptions, UserError, type Command } from '../command.ts';
import { startCollector } from '../collector-agent.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage } from './agent-options.ts';
import { hubOptions, startHubForCli } from './hub.ts';

const usage = `Usage: firesight up [--listen ADDR:PORT] [--data DIR] [--frequency HZ] [--window SECS]
                   [--capture-bodies PID]...

Runs everything on this host: the hub with the dashboard, and a local collector connected to it
with a token made for this run. Ctrl-C stops both and detaches every BPF program.

Options:
  --listen ADDR:PORT   where the hub and dashboard listen (default ${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port});
                       loopback unless you say otherwise
  --data DIR           where profiles are stored (default $FIRESIGHT_DATA or ./data)
${agentOptionsUsage}
  --window SECS        length of a stored profile window (default 10s)

Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

const options = defineOptions({ ...hubOptions, ...agentOptions });

export const up: Command = {
	name: 'up',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	async run(argv) {
		const args = options.parse(argv);
		const { frequency, window: windowMs } = args;
		const token = randomBytes(24).toString('base64url');
		const hub = await startHubForCli({ listen: args.listen, dataDir: args.data, token });
		let agent;
		try {
			agent = startCollector({ hub: hub.url, token, frequency, windowMs, captureBodies: args['capture-bodies'] });
		} catch (err) {
			await hub.close();
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		console.error(`firesight: dashboard at ${hub.url} (collector ${agent.host}, ${frequency} Hz); Ctrl-C to stop`);
		await untilSignal();
		console.error('firesight: stopping');
		await agent.stop();
		await hub.close();
		return 0;
	},
};

import { NativeError } from '@firesight/native';
import { parseOptions, UsageError, UserError, type Command } from '../command.ts';
import { startCollector } from '../collector-agent.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage, captureBodiesOption, frequencyOption, windowOption } from './agent-options.ts';

const usage = `Usage: firesight collector --hub URL --token TOKEN [--host NAME] [--frequency HZ] [--window SECS]
                          [--capture-bodies PID]...

Runs this host's collector: samples CPU stacks with eBPF and streams profile windows and a live
process table to a hub. Stops on Ctrl-C (SIGINT) or SIGTERM and detaches every BPF program.

Options:
  --hub URL            the hub, e.g. http://10.0.0.5:7300 (required)
  --token TOKEN        the hub's collector token (required; or $FIRESIGHT_TOKEN)
  --host NAME          the name this host goes by in the hub (default: its hostname)
${agentOptionsUsage}
  --window SECS        length of a stored profile window, e.g. 10s, 1m (default 10s)

Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

export const collector: Command = {
	name: 'collector',
	usage,
	async run(argv) {
		const { values, positionals } = parseOptions(argv, {
			hub: { type: 'string' },
			token: { type: 'string' },
			host: { type: 'string' },
			...agentOptions,
		});
		if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
		const hub = values.hub;
		const token = values.token ?? process.env.FIRESIGHT_TOKEN;
		if (!hub) throw new UsageError('--hub URL is required');
		if (!token) throw new UsageError('--token is required (or set FIRESIGHT_TOKEN)');
		if (!URL.canParse(hub) || !/^(https?|wss?):$/.test(new URL(hub).protocol)) {
			throw new UsageError(`--hub must be a URL such as http://127.0.0.1:7300, got '${hub}'`);
		}
		const windowMs = windowOption(values.window);
		const frequency = frequencyOption(values.frequency);
		const captureBodies = captureBodiesOption(values['capture-bodies']);
		let agent;
		try {
			agent = startCollector({ hub, token, frequency, windowMs, captureBodies, ...(values.host ? { host: values.host } : {}) });
		} catch (err) {
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		console.error(`firesight collector: sampling ${agent.host} at ${frequency} Hz, streaming to ${hub}`);
		await untilSignal();
		await agent.stop();
		return 0;
	},
};

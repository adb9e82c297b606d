import { randomBytes } from 'node:crypto';
import { NativeError } from '@firesight/native';
import { DEFAULT_LISTEN, startHub } from '@firesight/web/server';
import { parseOptions, UsageError, UserError, type Command } from '../command.ts';
import { startCollector } from '../collector-agent.ts';
import { parseListen } from '../listen-address.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions, agentOptionsUsage, captureBodiesOption, frequencyOption, windowOption } from './agent-options.ts';

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

export const up: Command = {
	name: 'up',
	usage,
	async run(argv) {
		const { values, positionals } = parseOptions(argv, {
			listen: { type: 'string' },
			data: { type: 'string' },
			...agentOptions,
		});
		if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
		const listen = parseListen(values.listen, DEFAULT_LISTEN);
		const frequency = frequencyOption(values.frequency);
		const captureBodies = captureBodiesOption(values['capture-bodies']);
		const windowMs = windowOption(values.window);

		const token = randomBytes(24).toString('base64url');
		let hub;
		try {
			hub = await startHub({ listen, token, ...(values.data ? { dataDir: values.data } : {}) });
		} catch (err) {
			const e = err as NodeJS.ErrnoException;
			if (e.code === 'EADDRINUSE') throw new UserError(`${listen.host}:${listen.port} is already in use (is firesight already running?); pick another with --listen`);
			if (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') throw new UserError(`cannot listen on ${listen.host}:${listen.port}: ${e.message}`);
			throw new UserError(`the hub did not start: ${e.message}`);
		}
		let agent;
		try {
			agent = startCollector({ hub: hub.url, token, frequency, windowMs, captureBodies });
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

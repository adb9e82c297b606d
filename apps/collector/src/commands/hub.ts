import { randomBytes } from 'node:crypto';
import { DEFAULT_LISTEN, startHub, type Hub } from '@firesight/web/server';
import { parseOptions, UsageError, UserError, type Command } from '../command.ts';
import { parseListen } from '../listen-address.ts';
import { untilSignal } from '../until-signal.ts';

const usage = `Usage: firesight hub [--listen ADDR:PORT] [--data DIR] [--token TOKEN] [--api-only] [--dev]

Runs the hub alone: the dashboard, the API, and the endpoint collectors stream to. Start
collectors on other hosts with 'firesight collector --hub URL --token TOKEN'.

Options:
  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:7300); [::1]:7300 for IPv6
  -d, --data DIR          where profiles are stored (default $FIRESIGHT_DATA or ./data)
  -t, --token TOKEN       the token collectors must present (default $FIRESIGHT_TOKEN, or a
                          random one, printed at start)
      --api-only          serve API and streams without the dashboard
      --dev               serve the dashboard with Next's development server (hot reload)`;

/** A token for collectors: 128 random bits, URL-safe. */
export function generateToken(): string {
	return randomBytes(16).toString('base64url');
}

/** startHub with its expected failures (port taken, dashboard not built) as UserErrors. */
export async function startHubForCli(options: Parameters<typeof startHub>[0]): Promise<Hub> {
	try {
		return await startHub(options);
	} catch (err) {
		const e = err as NodeJS.ErrnoException;
		const where = `${options.listen?.host ?? DEFAULT_LISTEN.host}:${options.listen?.port ?? DEFAULT_LISTEN.port}`;
		if (e.code === 'EADDRINUSE') throw new UserError(`${where} is already in use (another hub?); pick another with --listen`);
		if (e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') throw new UserError(`cannot listen on ${where}: ${e.code}`);
		if (/not built/.test(e.message ?? '')) throw new UserError(e.message);
		if (e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES') throw new UserError(`cannot open the data directory: ${e.message}`);
		throw err;
	}
}

async function run(argv: string[]): Promise<number> {
	const { values, positionals } = parseOptions(argv, {
		listen: { type: 'string', short: 'l' },
		data: { type: 'string', short: 'd' },
		token: { type: 'string', short: 't' },
		'api-only': { type: 'boolean' },
		dev: { type: 'boolean' },
	});
	if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
	const listen = parseListen(values.listen, DEFAULT_LISTEN);
	const token = values.token ?? process.env.FIRESIGHT_TOKEN ?? generateToken();
	if (token.length < 8 || /\s/.test(token)) throw new UsageError('--token must be at least 8 characters without spaces');
	const stop = untilSignal();
	const hub = await startHubForCli({
		listen,
		token,
		web: !values['api-only'],
		dev: values.dev ?? false,
		...(values.data === undefined ? {} : { dataDir: values.data }),
	});
	console.log(`Firesight hub on ${hub.url}`);
	console.log(`Collector token: ${token}`);
	console.log(`Connect a collector: firesight collector --hub ${hub.url} --token ${token}`);
	await stop;
	console.error('firesight hub: stopping');
	await hub.close();
	return 0;
}

export const hub: Command = {
	name: 'hub',
	usage,
	run,
};

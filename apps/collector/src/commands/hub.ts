import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_LISTEN, startHub, type Hub } from '@firesight/web/server';
import { defineOptions, flagOption, quote, textOption, UsageError, UserError, type Command } from '../command.ts';
import { listenAddress, resolveListen } from '../listen-address.ts';
import { untilSignal } from '../until-signal.ts';
import { prepareDataDirectory } from './data-directory.ts';
import { bearerToken, directoryPath } from './option-values.ts';

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

/** The data directory and listen address options `hub` and `up` share. */
export const hubOptions = {
	listen: textOption(listenAddress(DEFAULT_LISTEN), { short: 'l' }),
	data: textOption(directoryPath.default('./data'), { short: 'd', env: 'FIRESIGHT_DATA' }),
};

/**
 * startHub after the checks that need the system (the listen name resolves, the data directory
 * can be written), with its expected failures (port taken, dashboard not built) as UserErrors.
 */
export async function startHubForCli(
	options: Parameters<typeof startHub>[0] & { listen: { host: string; port: number }; dataDir: string },
): Promise<Hub> {
	await resolveListen(options.listen);
	const dataDir = prepareDataDirectory(options.dataDir, 'data directory');
	try {
		return await startHub({ ...options, dataDir });
	} catch (err) {
		const e = err as NodeJS.ErrnoException;
		const where = `${options.listen.host}:${options.listen.port}`;
		if (e.code === 'EADDRINUSE') throw new UserError(`${where} is already in use (another hub?); pick another with --listen`);
		if (e.code === 'EADDRNOTAVAIL') throw new UsageError(`--listen ${quote(options.listen.host)} is not an address of this host`);
		if (e.code === 'EACCES') throw new UserError(`cannot listen on ${where}: ${e.code}`);
		if (/not built/.test(e.message ?? '')) throw new UserError(e.message);
		if (e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES') throw new UserError(`cannot open the data directory: ${e.message}`);
		throw err;
	}
}

const options = defineOptions({
	...hubOptions,
	token: textOption(bearerToken(8).optional(), { short: 't', env: 'FIRESIGHT_TOKEN', secret: true }),
	'api-only': flagOption(z.boolean().default(false)),
	dev: flagOption(z.boolean().default(false)),
});

async function run(argv: string[]): Promise<number> {
	const args = options.parse(argv);
	const token = args.token ?? generateToken();
	const stop = untilSignal();
	const hub = await startHubForCli({ listen: args.listen, dataDir: args.data, token, web: !args['api-only'], dev: args.dev });
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
	parse: (argv, env) => options.parse(argv, env),
	run,
};

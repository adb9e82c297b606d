import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { z } from 'zod';
import { DEFAULT_LISTEN } from '@firesight/web/default-listen';
import { createLogger } from '@firesight/web/logger';
import type { Hub, HubOptions } from '@firesight/web/server';
import {
	defineOptions,
	flagOption,
	listOption,
	quote,
	textOption,
	UsageError,
	UserError,
	type Command,
	type ParsedOptions,
} from '../command.ts';
import { listenAddress, resolveListen } from '../listen-address.ts';
import { untilSignal } from '../until-signal.ts';
import { prepareDataDirectory } from './data-directory.ts';
import { bearerToken, directoryPath, filePath, headerName, name, storeUrl, tokenFile } from './option-values.ts';

/** A token for collectors: 128 random bits, URL-safe. */
export function generateToken(): string {
	return randomBytes(16).toString('base64url');
}

/** The options `hub` and `up` share: where to listen and store, and who may come in. */
export const hubOptions = {
	listen: textOption(listenAddress(DEFAULT_LISTEN), { short: 'l' }),
	data: textOption(directoryPath.default('./data'), { short: 'd', env: 'FIRESIGHT_DATA' }),
	store: textOption(storeUrl.optional()),
	token: textOption(bearerToken(8).optional(), { short: 't', env: 'FIRESIGHT_TOKEN', secret: true }),
	'token-file': textOption(tokenFile(8).optional()),
	'tls-cert': textOption(filePath.optional()),
	'tls-key': textOption(filePath.optional()),
	'allow-host': listOption(z.array(name).default([])),
	'metrics-public': flagOption(z.boolean().default(false)),
	'redact-header': listOption(z.array(headerName).default([])),
};

const hubAccessHelp: [flag: string, text: string][] = [
	[
		'--store URL',
		'store in sqlite:PATH, sqlite:DIR/ or clickhouse://HOST:PORT/DB instead of\n--data (ClickHouse for fleets: see packages/store/README.md)',
	],
	['--token-file FILE', 'read the token from FILE (a mounted secret) instead of --token'],
	['--tls-cert FILE', 'serve HTTPS and WSS with this PEM certificate (and --tls-key FILE)'],
	['--tls-key FILE', "the certificate's PEM private key"],
	[
		'--allow-host NAME',
		'a name browsers may reach the hub by, besides its listen address and\nloopback (checked against Host and Origin); repeat for more',
	],
	['--metrics-public', 'serve /metrics without the token, for a Prometheus scraper'],
	[
		'--redact-header H',
		'a header of captured requests whose value the hub replaces before it\nstores or serves it, besides the default list; repeat for more',
	],
];

/** The help lines of hubOptions but --listen, --data and --token (each command words those its own way). */
export function hubAccessUsage(indent: string, column: number): string {
	return hubAccessHelp
		.flatMap(([flag, text]) => text.split('\n').map((line, i) => (i === 0 ? `${indent}${flag}` : '').padEnd(column) + line))
		.join('\n');
}

const usage = `Usage: firesight hub [--listen ADDR:PORT] [--data DIR | --store URL] [--token TOKEN | --token-file FILE]
                     [--tls-cert FILE --tls-key FILE] [--allow-host NAME]... [--metrics-public] [--redact-header H]...
                     [--api-only] [--dev]

Runs the hub alone: the dashboard, the API, and the endpoint collectors stream to. Start
collectors on other hosts with 'firesight collector --hub URL --token TOKEN'.

Options:
  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:7300); [::1]:7300 for IPv6
  -d, --data DIR          where profiles are stored (default $FIRESIGHT_DATA or ./data)
  -t, --token TOKEN       the token collectors must present, and browsers log in with (default
                          $FIRESIGHT_TOKEN; on loopback without one, a random one for collectors
                          only, printed at start); needed beyond loopback
${hubAccessUsage('      ', 26)}
      --api-only          serve API and streams without the dashboard
      --dev               serve the dashboard with Next's development server (hot reload)`;

/** What hubOptions require of each other. */
export function hubOptionsAcross(values: ParsedOptions<typeof hubOptions>): string | undefined {
	if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) return '--tls-cert and --tls-key go together';
	if (values.token !== undefined && values['token-file'] !== undefined) return 'give --token or --token-file, not both';
	return undefined;
}

/** The token the user gave, on the command line, in $FIRESIGHT_TOKEN or in a file. */
export function givenToken(values: ParsedOptions<typeof hubOptions>): string | undefined {
	return values.token ?? values['token-file'];
}

/** startHub's options from hubOptions' values. */
export function hubAccess(
	values: ParsedOptions<typeof hubOptions>,
): Pick<HubOptions, 'auth' | 'tls' | 'allowedHosts' | 'metricsPublic' | 'storage' | 'redactHeaders'> {
	const cert = values['tls-cert'];
	const key = values['tls-key'];
	return {
		// A token of the user's guards every door, on loopback too: other users of the host reach it.
		// One made for the run is for collectors only, so startHub refuses it beyond loopback.
		auth: givenToken(values) !== undefined,
		...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
		...(values.store === undefined ? {} : { storage: values.store }),
		allowedHosts: values['allow-host'],
		metricsPublic: values['metrics-public'],
		redactHeaders: values['redact-header'],
	};
}

/**
 * startHub after the checks that need the system (the listen name resolves, the data directory
 * can be written), with its expected failures (port taken, dashboard not built) as UserErrors.
 */
export async function startHubForCli(options: HubOptions & { listen: { host: string; port: number }; dataDir: string }): Promise<Hub> {
	await resolveListen(options.listen);
	// The hub (its store, its dashboard) loads only now: a bad argument is told without waiting for it.
	const [{ HubConfigError, startHub }, { keepLargeBlocksMapped }] = await Promise.all([
		import('@firesight/web/server'),
		import('@firesight/native'),
	]);
	// Without it, glibc's arenas keep the large blocks of ingest and storage once freed (tens of MiB).
	keepLargeBlocksMapped();
	// --store names its own place; a SQLite file's directory must be writable like --data's.
	const storage = options.storage;
	const dataDir =
		storage === undefined
			? prepareDataDirectory(options.dataDir, 'data directory')
			: storage.backend === 'sqlite' && storage.dataDir !== undefined
				? prepareDataDirectory(storage.dataDir, 'store directory')
				: storage.backend === 'sqlite' && storage.path !== undefined && storage.path !== ':memory:'
					? prepareDataDirectory(dirname(storage.path), 'store directory')
					: options.dataDir;
	try {
		return await startHub({ ...options, dataDir });
	} catch (err) {
		const e = err as NodeJS.ErrnoException;
		const where = `${options.listen.host}:${options.listen.port}`;
		// A hub option that cannot work (no token beyond loopback, unreadable TLS files): bad arguments.
		if (err instanceof HubConfigError) throw new UsageError(err.message);
		if (e.code === 'EADDRINUSE') throw new UserError(`${where} is already in use (another hub?); pick another with --listen`);
		if (e.code === 'EADDRNOTAVAIL') throw new UsageError(`--listen ${quote(options.listen.host)} is not an address of this host`);
		if (e.code === 'EACCES') throw new UserError(`cannot listen on ${where}: ${e.code}`);
		if (/not built/.test(e.message ?? '')) throw new UserError(e.message);
		if (e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES') throw new UserError(`cannot open the data directory: ${e.message}`);
		throw err;
	}
}

const options = defineOptions(
	{
		...hubOptions,
		'api-only': flagOption(z.boolean().default(false)),
		dev: flagOption(z.boolean().default(false)),
	},
	hubOptionsAcross,
);

async function run(argv: string[]): Promise<number> {
	const args = options.parse(argv);
	const token = givenToken(args) ?? generateToken();
	const stop = untilSignal();
	const hub = await startHubForCli({
		listen: args.listen,
		dataDir: args.data,
		token,
		web: !args['api-only'],
		dev: args.dev,
		...hubAccess(args),
	});
	console.log(`Firesight hub on ${hub.url}`);
	if (givenToken(args) === undefined) {
		console.log(`Collector token: ${token}`);
		console.log(`Connect a collector: firesight collector --hub ${hub.url} --token ${token}`);
	} else {
		// The user's token is a secret of theirs: not repeated into a log.
		console.log(`Connect a collector: firesight collector --hub ${hub.url} --token-file FILE (the token this hub was given)`);
	}
	await stop;
	createLogger('hub').info('stopping');
	await hub.close();
	return 0;
}

export const hub: Command = {
	name: 'hub',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	run,
};

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError, type Command } from '../command.ts';
import { commands } from './index.ts';

/** The options a command's --help names: `--since`, `-s`. */
function documentedOptions(usage: string): string[] {
	return [...new Set([...usage.matchAll(/(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])/g)].map((m) => m[1]!))];
}

/** Values an option might be given: numbers of every shape, durations, addresses, junk. */
const value = fc.oneof(
	fc.integer({ min: -1e6, max: 1e6 }).map(String),
	fc.double().map(String),
	fc.bigInt().map(String),
	fc.constantFrom('0', '-0', '-5', '1e9', 'NaN', 'Infinity', '0x10', '', ' ', '--', '-', '=', '1.5', '007', '9'.repeat(40)),
	fc.tuple(fc.nat(1e7), fc.constantFrom('', 'ms', 's', 'm', 'h', 'd', 'y', 'S')).map(([n, u]) => `${n}${u}`),
	fc
		.tuple(fc.constantFrom('', '127.0.0.1', '256.1.1.1', '[::1]', '::1', 'localhost', '[zz]', 'a..b'), fc.integer({ min: -2, max: 70000 }))
		.map(([h, p]) => `${h}:${p}`),
	fc.constantFrom('http://127.0.0.1:7300', 'ws://x', 'ftp://x', 'http://', '127.0.0.1:1', '/proc/nope', 'pprof', 'folded', 'svg'),
	fc.string(),
	fc.string({ unit: 'binary' }),
);

/** Arguments a command needs before anything it is given can parse. */
const required: Record<string, string[]> = { collector: ['--hub', 'http://127.0.0.1:7300', '--token', 'good-token'] };

function argumentVector(options: string[], base: string[]) {
	const word = fc.oneof(
		{ weight: 4, arbitrary: fc.constantFrom(...options) },
		{ weight: 4, arbitrary: value },
		{ weight: 2, arbitrary: fc.tuple(fc.constantFrom(...options), value).map(([o, v]) => `${o}=${v}`) },
		{ weight: 1, arbitrary: fc.constantFrom('--', '-', '--help', '-h', '---x', '--no-json', '-pF', '-p1') },
		{ weight: 1, arbitrary: fc.string().map((s) => `--${s}`) },
	);
	return fc.tuple(fc.boolean(), fc.array(word, { maxLength: 12 })).map(([withBase, words]) => (withBase ? [...base, ...words] : words));
}

const environment = fc.record(
	{ FIRESIGHT_TOKEN: fc.oneof(value, fc.constant('a-good-token-value')), FIRESIGHT_DATA: value },
	{ requiredKeys: [] },
);

const outcomes = { parsed: 0, refused: 0 };

/** Parses, or fails with a UsageError of one line; anything else (a TypeError, a stack) fails the property. */
function parsesOrRefuses(command: Command, argv: string[], env: Record<string, string>): void {
	try {
		command.parse(argv, env);
		outcomes.parsed++;
	} catch (err) {
		if (!(err instanceof UsageError)) throw err;
		assert.doesNotMatch(err.message, /[\r\n\u2028\u2029]/, 'one line');
		assert.ok(err.message.length > 0 && err.message.length < 400, err.message);
		outcomes.refused++;
	}
}

for (const entry of commands) {
	test(`firesight ${entry.name}: random argument vectors parse or fail with a one-line usage error`, async () => {
		const command = await entry.load();
		const subcommands = command.name === 'query' ? ['profile', 'requests', 'retransmits'] : [''];
		outcomes.parsed = outcomes.refused = 0;
		for (const sub of subcommands) {
			const usage = sub ? command.usageFor!([sub]) : command.usage;
			const options = documentedOptions(usage);
			assert.ok(options.length >= 3, `options found in the ${entry.name} ${sub} usage: ${options.join(' ')}`);
			fc.assert(
				fc.property(argumentVector(options, required[entry.name] ?? []), environment, (argv, env) => {
					parsesOrRefuses(command, sub ? [sub, ...argv] : argv, env);
				}),
				{ numRuns: 3000 },
			);
		}
		// And vectors of anything at all, subcommand or not.
		fc.assert(
			fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), environment, (argv, env) =>
				parsesOrRefuses(command, argv, env),
			),
			{ numRuns: 2000 },
		);
		// Both ends were reached: the vectors are neither all rejected nor all harmless.
		assert.ok(outcomes.parsed > 100 && outcomes.refused > 1000, JSON.stringify(outcomes));
	});
}

test('the parser accepts what the usage shows', async () => {
	const load = async (name: string) => commands.find((c) => c.name === name)!.load();
	const record = await load('record');
	assert.deepEqual(record.parse(['-p', '1', '--pid=2', '-d', '90s', '-F', '99', '--unwind', 'dwarf', '--output', 'x.pb.gz'], {}), {
		pid: [1, 2],
		duration: 90_000,
		frequency: 99,
		unwind: 'dwarf',
		format: undefined,
		output: 'x.pb.gz',
	});
	const hub = await load('hub');
	assert.deepEqual(
		hub.parse(['--listen', '[::1]:7301', '--api-only'], { FIRESIGHT_DATA: '/var/lib/firesight', FIRESIGHT_TOKEN: 'from-the-environment' }),
		{
			listen: { host: '::1', port: 7301 },
			data: '/var/lib/firesight',
			store: undefined,
			token: 'from-the-environment',
			'token-file': undefined,
			'tls-cert': undefined,
			'tls-key': undefined,
			'allow-host': [],
			'metrics-public': false,
			'redact-header': [],
			'api-only': true,
			dev: false,
		},
	);
	const query = await load('query');
	assert.equal((query.parse(['requests', '--since', '2d', '--hub', '10.0.0.5:7300'], {}) as { hub: string }).hub, 'http://10.0.0.5:7300');
	// A negative number is the option's value, refused for what it is, not as "ambiguous".
	assert.throws(() => record.parse(['--duration', '-5'], {}), /^UsageError: --duration must be a duration from 1ms to 1d.*got '-5'$/);
	assert.throws(
		() => record.parse(['--pid', '1\n2'], {}),
		(err: Error) => err instanceof UsageError && err.message.endsWith(String.raw`got '1\n2'`),
	);
});

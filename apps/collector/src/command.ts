import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A CLI subcommand: `firesight <name> [options]`. Each lives in its own file under commands/. */
export interface Command {
	readonly name: string;
	/** The full `--help` text of the command. */
	readonly usage: string;
	/** The `--help` text for these arguments, for commands with subcommands of their own. */
	usageFor?(argv: string[]): string;
	/** Returns the process exit code. Throws UsageError for bad arguments. */
	run(argv: string[]): Promise<number>;
}

/** A bad argument: the CLI prints the message on one line and exits with code 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

/** An expected failure the user can act on (not root, hub unreachable): printed, exit code 1. */
export class UserError extends Error {
	override readonly name = 'UserError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs that reports unknown or malformed options as a UsageError; --help is always known. */
export function parseOptions<T extends Options>(argv: string[], options: T) {
	try {
		return parseArgs({
			args: argv,
			options: { ...options, help: { type: 'boolean', short: 'h' } },
			allowPositionals: true,
			strict: true,
		});
	} catch (err) {
		// parseArgs' own messages run on with advice about '--'; keep the part that names the problem.
		const message = (err as Error).message;
		const unknown = /Unknown option '([^']+)'/.exec(message);
		throw new UsageError(unknown ? `unknown option '${unknown[1]}'` : (message.split(/\.\s|\n/)[0] ?? 'bad arguments'));
	}
}

/** Parses a whole number in [min, max] or throws a UsageError naming the option. */
export function intOption(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
	if (value === undefined) return fallback;
	const n = Number(value);
	if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
		throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${value}'`);
	}
	return n;
}

/** Parses a duration such as 90s, 5m, 1h, 2d (bare numbers are seconds) into milliseconds. */
export function durationOption(name: string, value: string | undefined, fallbackMs: number): number {
	if (value === undefined) return fallbackMs;
	const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
	if (!m) throw new UsageError(`--${name} must be a duration such as 30s, 5m or 1h, got '${value}'`);
	const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1000;
	const ms = Number(m[1]) * unit;
	if (ms <= 0) throw new UsageError(`--${name} must be longer than zero`);
	return ms;
}

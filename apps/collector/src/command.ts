import { parseArgs } from 'node:util';
import type { z } from 'zod';

/** A CLI subcommand: `firesight <name> [options]`. Each lives in its own file under commands/. */
export interface Command {
	readonly name: string;
	/** The full `--help` text of the command. */
	readonly usage: string;
	/** The `--help` text for these arguments, for commands with subcommands of their own. */
	usageFor?(argv: string[]): string;
	/**
	 * Checks the arguments without touching the system (no files, network or kernel): returns
	 * them parsed or throws a UsageError, never anything else. `run` starts with it.
	 */
	parse(argv: string[], env?: Environment): unknown;
	/** Returns the process exit code. Throws UsageError for bad arguments. */
	run(argv: string[]): Promise<number>;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** The CLI's exit codes. */
export const exitCodes = {
	ok: 0,
	/** An expected failure: not root, hub unreachable, the kernel refused. */
	failure: 1,
	/** Bad arguments or environment values, refused before anything started. */
	usage: 2,
	/** The hub refused the collector's token. */
	unauthorized: 3,
} as const;

/** A bad argument: the CLI prints the message on one line and exits with code 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

/** An expected failure the user can act on (not root, hub unreachable): printed, exit code 1. */
export class UserError extends Error {
	override readonly name = 'UserError';
}

/** A user-given value inside a message: quoted, control characters escaped, long ones cut. */
export function quote(value: unknown): string {
	const text = String(value);
	const cut = text.length > 80 ? `${text.slice(0, 77)}...` : text;
	// JSON escapes the C0 controls; the line and paragraph separators and C1 controls too, by hand.
	const escaped = JSON.stringify(cut)
		.slice(1, -1)
		.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
	return `'${escaped}'`;
}

/**
 * One command-line option: how util.parseArgs reads it, and the zod schema that checks its text
 * and turns it into a value. The schema sees `undefined` when the option is absent, so it says
 * the default (`.default(x)`) or that the option is optional (`.optional()`).
 */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
	readonly type: 'string' | 'boolean';
	readonly short?: string;
	/** Repeatable; the schema sees an array. */
	readonly multiple?: boolean;
	/** Read from this environment variable when the option is not given (an empty one counts as unset). */
	readonly env?: string;
	/** A secret such as a token: error messages do not repeat its value. */
	readonly secret?: boolean;
	readonly schema: S;
}

type OptionSpecs = Record<string, OptionSpec>;

export type ParsedOptions<S extends OptionSpecs> = { [K in keyof S]: z.output<S[K]['schema']> };

/** A string option: `--name VALUE` or `--name=VALUE`. */
export function textOption<S extends z.ZodType>(schema: S, extra: { short?: string; env?: string; secret?: boolean } = {}) {
	return { type: 'string', ...extra, schema } as const;
}

/** A repeatable string option: `--pid 1 --pid 2`. */
export function listOption<S extends z.ZodType>(schema: S, extra: { short?: string } = {}) {
	return { type: 'string', multiple: true, ...extra, schema } as const;
}

/** A switch: `--json`. */
export function flagOption<S extends z.ZodType>(schema: S, extra: { short?: string } = {}) {
	return { type: 'boolean', ...extra, schema } as const;
}

/**
 * A command's options, declared once: util.parseArgs splits the argument vector, each option's zod
 * schema checks and converts its value, and the first problem becomes a one-line UsageError that
 * names the option (`--frequency must be a whole number from 1 to 10000, got '0'`).
 */
export function defineOptions<S extends OptionSpecs>(
	specs: S,
	/** Rules across options: returns the problem, e.g. "--tls-cert and --tls-key go together". */
	across?: (values: ParsedOptions<S>) => string | undefined,
) {
	return {
		specs,
		parse(argv: readonly string[], env: Environment = process.env): ParsedOptions<S> {
			const given = splitArgs(argv, specs);
			const raw: Record<string, unknown> = {};
			const fromEnv = new Set<string>();
			for (const [name, spec] of Object.entries(specs)) {
				let value = given[name];
				if (value === undefined && spec.env !== undefined && env[spec.env]) {
					value = env[spec.env];
					fromEnv.add(name);
				}
				const result = spec.schema.safeParse(value);
				if (!result.success) {
					const issue = result.error.issues[0];
					const label = fromEnv.has(name) ? `$${spec.env}` : `--${name}`;
					if (value === undefined) {
						throw new UsageError(`${label} is required${spec.env ? ` (or set $${spec.env})` : ''}`);
					}
					const item = Array.isArray(value) && typeof issue?.path[0] === 'number' ? value[issue.path[0]] : value;
					const got = spec.secret || typeof item === 'boolean' ? '' : `, got ${quote(item)}`;
					throw new UsageError(`${label} ${issue?.message ?? 'is not valid'}${got}`);
				}
				raw[name] = result.data;
			}
			const values = raw as ParsedOptions<S>;
			const problem = across?.(values);
			if (problem !== undefined) throw new UsageError(problem);
			return values;
		},
	};
}

/**
 * util.parseArgs in its lenient mode, returning the values: its tokens say what each argument
 * was, so every misuse gets a message of our own. (Strict mode refuses `--duration -5` as
 * "ambiguous"; here -5 is the value, and its schema says why it is wrong.)
 */
function splitArgs(argv: readonly string[], specs: OptionSpecs): Record<string, unknown> {
	const options = Object.fromEntries(
		Object.entries(specs).map(([name, s]) => [
			name,
			{ type: s.type, multiple: s.multiple ?? false, ...(s.short ? { short: s.short } : {}) },
		]),
	);
	const { tokens } = parseArgs({
		args: [...argv],
		options: { ...options, help: { type: 'boolean', short: 'h' } },
		allowPositionals: true,
		strict: false,
		tokens: true,
	});
	const values: Record<string, unknown> = {};
	for (const token of tokens) {
		if (token.kind === 'positional') throw new UsageError(`unexpected argument ${quote(token.value)}`);
		if (token.kind !== 'option' || token.name === 'help') continue;
		// A known short option comes named by its long name; an unknown one by itself.
		const name = token.name;
		const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
		if (spec === undefined) throw new UsageError(`unknown option ${quote(token.rawName)}`);
		if (spec.type === 'boolean') {
			if (token.value !== undefined) throw new UsageError(`--${name} takes no value`);
			values[name] = true;
		} else if (token.value === undefined) {
			throw new UsageError(`--${name} needs a value`);
		} else if (spec.multiple) {
			((values[name] ??= []) as string[]).push(token.value);
		} else {
			values[name] = token.value;
		}
	}
	return values;
}

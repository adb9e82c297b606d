/**
 * The command line of a benchmark: `--help` everywhere, and bad input ends the run with one line
 * saying what is wrong plus the usage (exit code 2), never a stack trace. Each benchmark declares
 * its options once (name, placeholder, meaning, default, checker) and gets their values back
 * typed and checked, so the help, the parsing and the checks cannot drift apart.
 */
import { parseArgs } from 'node:util';

/** Turns an option's text into its value; `undefined` when the text is not one. */
export interface Check<T> {
	/** What a good value is, for the error line: `--rounds: a whole number >= 1, got '-1'`. */
	readonly expects: string;
	parse(text: string): T | undefined;
}

/** A number above 0 (and at most `max`): durations, rates, percentages. */
export function positiveNumber(max = Infinity): Check<number> {
	return {
		expects: max === Infinity ? 'a positive number' : `a number above 0 and at most ${max}`,
		parse: (text) => {
			const n = Number(text);
			return text.trim() !== '' && n > 0 && n <= max && Number.isFinite(n) ? n : undefined;
		},
	};
}

/** A number of 0 or more (0 usually turns something off). */
export function nonNegativeNumber(): Check<number> {
	return {
		expects: 'a number >= 0',
		parse: (text) => {
			const n = Number(text);
			return text.trim() !== '' && n >= 0 && Number.isFinite(n) ? n : undefined;
		},
	};
}

/** A whole number from `min` (and at most `max`): counts of rounds, hosts, sockets. */
export function wholeNumber(min = 1, max = Infinity): Check<number> {
	return {
		expects: max === Infinity ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`,
		parse: (text) => {
			const n = Number(text);
			return text.trim() !== '' && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
		},
	};
}

/** Comma-separated positive numbers, e.g. request rates `1000,5000`. */
export function positiveList(): Check<number[]> {
	const one = positiveNumber();
	return {
		expects: 'comma-separated positive numbers',
		parse: (text) => {
			const all = text.split(',').map((part) => one.parse(part));
			return all.every((n) => n !== undefined) ? all : undefined;
		},
	};
}

/** Comma-separated names, none empty. */
export function nameList(): Check<string[]> {
	return {
		expects: 'comma-separated names',
		parse: (text) => {
			const names = text.split(',').map((name) => name.trim());
			return names.every((name) => name !== '') ? names : undefined;
		},
	};
}

/** One of a fixed set of words, typed as their union. */
export function oneOf<const W extends string>(...words: W[]): Check<W> {
	return {
		expects: words.join(' or '),
		parse: (text) => words.find((w) => w === text),
	};
}

/** Any non-empty text: a path, a label, a sentence. */
export function text(): Check<string> {
	return { expects: 'a non-empty value', parse: (t) => (t === '' ? undefined : t) };
}

export interface ValueOption<T> {
	check: Check<T>;
	/** The value's name in the help, e.g. `N`, `DIR`, `A,B`. */
	placeholder: string;
	help: string;
	/** As it would be typed; it goes through `check` like a given value, and the help shows it. */
	default?: string;
	/** Set between a benchmark and its own child processes, not by a user: left out of the help. */
	internal?: boolean;
}

export interface FlagOption {
	flag: true;
	help: string;
	internal?: boolean;
}

type OptionSpec = ValueOption<unknown> | FlagOption;

/** A flag is a boolean; a value is its checker's type, `undefined` too when it has no default. */
type ValueOf<O> = O extends FlagOption
	? boolean
	: O extends ValueOption<infer T>
		? O extends { default: string }
			? T
			: T | undefined
		: never;

export interface BenchCommand<O extends Record<string, OptionSpec>> {
	/** The script's name, first on every error line. */
	name: string;
	/** How it is run; by default `npx tsx bench/NAME.ts`. */
	command?: string;
	/** One sentence: what it measures (and what it needs). */
	summary: string;
	/** Where its results go, e.g. `the "TLS capture" section of bench/RESULTS.md`. */
	writes: string;
	options: O;
	/** Arguments after the options, e.g. two snapshot files; none are taken when left out. */
	positionals?: { placeholder: string; count?: number };
	/** Lines after the options, e.g. the names a runner knows. */
	more?: string;
}

export interface BenchArgs<O extends Record<string, OptionSpec>> {
	values: { [K in keyof O]: ValueOf<O[K]> };
	positionals: string[];
	/** For checks that need more than one option's value: ends the run as a bad option does. */
	fail(message: string): never;
}

const isFlag = (o: OptionSpec): o is FlagOption => 'flag' in o;

export function helpText(spec: BenchCommand<Record<string, OptionSpec>>): string {
	const shown = Object.entries(spec.options).filter(([, o]) => !o.internal);
	const rows: [string, string][] = shown.map(([name, o]) => [
		isFlag(o) ? `--${name}` : `--${name} ${o.placeholder}`,
		isFlag(o) || o.default === undefined ? o.help : `${o.help} (default ${o.default})`,
	]);
	rows.push(['-h, --help', 'print this help and exit']);
	const width = Math.max(...rows.map(([left]) => left.length)) + 2;
	const command = spec.command ?? `npx tsx bench/${spec.name}.ts`;
	return [
		`usage: ${command} [options]${spec.positionals ? ` ${spec.positionals.placeholder}` : ''}`,
		`${spec.summary} Writes ${spec.writes}.`,
		...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
		...(spec.more ? [spec.more] : []),
	].join('\n');
}

/**
 * Parses `argv` (the process's own arguments by default) against `spec`. `--help` prints the help
 * and exits 0; anything wrong prints `NAME: what is wrong` and the help on stderr and exits 2.
 */
export function benchArgs<O extends Record<string, OptionSpec>>(spec: BenchCommand<O>, argv = process.argv.slice(2)): BenchArgs<O> {
	const help = helpText(spec);
	const fail = (message: string): never => {
		process.stderr.write(`${spec.name}: ${message}\n${help}\n`);
		process.exit(2);
	};
	// Not strict: strict parseArgs throws on an unknown option with a stack trace, and takes
	// `--rounds -1` for a missing value; the tokens let each mistake be named in one line.
	const { tokens } = parseArgs({
		args: argv,
		strict: false,
		allowPositionals: true,
		tokens: true,
		options: {
			...Object.fromEntries(Object.entries(spec.options).map(([name, o]) => [name, { type: isFlag(o) ? 'boolean' : 'string' }] as const)),
			help: { type: 'boolean', short: 'h' },
		},
	});
	// Help first, so `--help` answers whatever else is on the line.
	if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) {
		process.stdout.write(`${help}\n`);
		process.exit(0);
	}
	const given = new Map<string, string | true>();
	const positionals: string[] = [];
	for (const t of tokens) {
		if (t.kind === 'positional') positionals.push(t.value);
		if (t.kind !== 'option') continue;
		const o = Object.hasOwn(spec.options, t.name) ? spec.options[t.name] : undefined;
		if (!o) fail(`unknown option ${t.rawName}`);
		else if (isFlag(o)) {
			if (t.value !== undefined) fail(`${t.rawName} takes no value, got '${t.value}'`);
			given.set(t.name, true);
		} else {
			// Without `=`, a following `--option` is a forgotten value, not the value.
			if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) fail(`${t.rawName} needs a value (${o.placeholder})`);
			given.set(t.name, t.value!);
		}
	}
	if (!spec.positionals && positionals.length > 0) fail(`unexpected argument '${positionals[0]}'`);
	const count = spec.positionals?.count;
	if (count !== undefined && positionals.length !== count) {
		fail(`takes ${count} argument${count === 1 ? '' : 's'} (${spec.positionals!.placeholder}), got ${positionals.length}`);
	}
	const values: Record<string, unknown> = {};
	for (const [name, o] of Object.entries(spec.options)) {
		const raw = given.get(name);
		if (isFlag(o)) {
			values[name] = raw === true;
			continue;
		}
		const textValue = typeof raw === 'string' ? raw : o.default;
		if (textValue === undefined) continue;
		const value = o.check.parse(textValue);
		if (value === undefined) fail(`--${name}: ${o.check.expects}, got '${textValue}'`);
		values[name] = value;
	}
	return { values: values as BenchArgs<O>['values'], positionals, fail };
}

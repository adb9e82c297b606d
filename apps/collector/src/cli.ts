import { readFileSync } from 'node:fs';
import { exitCodes, quote, UsageError, UserError, type Command } from './command.ts';
import { commands } from './commands/index.ts';

const topUsage = () => `Usage: firesight <command> [options]

Live eBPF observability for this host: CPU profiles, TLS requests, TCP retransmits.

Commands:
${commands.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Run 'firesight <command> --help' for a command's options, 'firesight --version' for the version.`;

/** The collector's version, as its package.json says. */
export function cliVersion(): string {
	const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
	return String(pkg.version);
}

/** A message on one line, whatever it quotes. */
function oneLine(text: string): string {
	return text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

/** Whether an error is a reader closing its end of our standard output (`firesight query ... | head`). */
export function isBrokenPipe(err: unknown): boolean {
	return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad arguments, 3 token refused. */
export async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
		console.log(topUsage());
		return name === undefined ? exitCodes.usage : exitCodes.ok;
	}
	if (name === '--version' || name === '-V') {
		console.log(cliVersion());
		return exitCodes.ok;
	}
	const entry = commands.find((c) => c.name === name);
	if (!entry) {
		console.error(oneLine(`firesight: unknown command ${quote(name)} (see 'firesight --help')`));
		return exitCodes.usage;
	}
	try {
		const command: Command = await entry.load();
		if (rest.includes('--help') || rest.includes('-h')) {
			console.log(command.usageFor?.(rest) ?? command.usage);
			return exitCodes.ok;
		}
		return await command.run(rest);
	} catch (err) {
		if (err instanceof UsageError) {
			console.error(oneLine(`firesight ${name}: ${err.message} (see 'firesight ${name} --help')`));
			return exitCodes.usage;
		}
		if (err instanceof UserError) {
			console.error(oneLine(`firesight ${name}: ${err.message}`));
			return exitCodes.failure;
		}
		if (isBrokenPipe(err)) return exitCodes.ok;
		// A bug, not the user's doing: one line, with the stack only when asked for.
		console.error(oneLine(`firesight ${name}: unexpected error: ${(err as Error)?.message ?? err}`));
		if (process.env.FIRESIGHT_DEBUG) console.error((err as Error)?.stack);
		else console.error('(set FIRESIGHT_DEBUG=1 for the stack trace)');
		return exitCodes.failure;
	}
}

import { UsageError, UserError, type Command } from './command.ts';
import { commands } from './commands/index.ts';

const topUsage = () => `Usage: firesight <command> [options]

Live eBPF observability for this host: CPU profiles, TLS requests, TCP retransmits.

Commands:
${commands.map((c) => `  ${c.name.padEnd(12)}${c.summary}`).join('\n')}

Run 'firesight <command> --help' for a command's options.`;

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad arguments. */
export async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
		console.log(topUsage());
		return name === undefined ? 2 : 0;
	}
	const entry = commands.find((c) => c.name === name);
	if (!entry) {
		console.error(`firesight: unknown command '${name}' (see 'firesight --help')`);
		return 2;
	}
	const command: Command = await entry.load();
	if (rest.includes('--help') || rest.includes('-h')) {
		console.log(command.usageFor?.(rest) ?? command.usage);
		return 0;
	}
	try {
		return await command.run(rest);
	} catch (err) {
		if (err instanceof UsageError) {
			console.error(`firesight ${name}: ${err.message} (see 'firesight ${name} --help')`);
			return 2;
		}
		if (err instanceof UserError) {
			console.error(`firesight ${name}: ${err.message}`);
			return 1;
		}
		// A bug, not the user's doing: one line, with the stack only when asked for.
		console.error(`firesight ${name}: unexpected error: ${(err as Error).message ?? err}`);
		if (process.env.FIRESIGHT_DEBUG) console.error((err as Error).stack);
		else console.error('(set FIRESIGHT_DEBUG=1 for the stack trace)');
		return 1;
	}
}

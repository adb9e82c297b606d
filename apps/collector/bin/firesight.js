#!/usr/bin/env node
// The firesight CLI. The TypeScript sources run through tsx, so the repository needs no compile step.
import { register } from 'tsx/esm/api';

// A reader that has seen enough (`firesight query profile | head`) closes the pipe: not an error,
// so stop quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', (err) => {
		if (err.code === 'EPIPE') process.exit(0);
		throw err;
	});
}

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));

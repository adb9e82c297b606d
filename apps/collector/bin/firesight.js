#!/usr/bin/env node
// The firesight CLI. The TypeScript sources run through tsx, so the repository needs no compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));

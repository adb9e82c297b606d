/**
 * `npm run bench`: every benchmark in turn, each writing its own section of bench/RESULTS.md.
 * Pass names to run only some: `npm run bench -- profile-overhead`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './bench-args.ts';

const benches = [
	'profile-overhead',
	'flame-render',
	'flame-scale',
	'flame-paint',
	'live-latency',
	'live-pages',
	'hub-browsers',
	'tcp-storm',
	'tls-overhead',
	'syscall-overhead',
	'request-visibility',
	'request-attribution',
	'store-ingest',
	'store-cache-memory',
	'unwind',
];
/** Benchmarks left out of a full run (slow, or a comparison for one change) that run by name. */
const byNameOnly = ['hub-healthz-flame', 'hub-redaction', 'share-render'];

const { positionals: wanted, fail } = benchArgs({
	name: 'bench',
	command: 'npm run bench --',
	summary: 'Runs the benchmarks named, or every one of a full run, one after the other with their defaults.',
	writes: "each its own section of bench/RESULTS.md (`npx tsx bench/NAME.ts --help` for one's options)",
	options: {},
	positionals: { placeholder: '[NAME...]' },
	more: `full run: ${benches.join(', ')}\nby name only: ${byNameOnly.join(', ')} (and the soak: npm run soak)`,
});
// Every name is checked before the first benchmark starts, not half an hour into the run.
const unknown = wanted.find((name) => !benches.includes(name) && !byNameOnly.includes(name));
if (unknown !== undefined) fail(`no benchmark named ${unknown}`);

let failed = 0;
for (const name of wanted.length ? wanted : benches) {
	console.error(`\n== ${name}`);
	const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))], { stdio: 'inherit' });
	if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;

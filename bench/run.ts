/**
 * `npm run bench`: every benchmark in turn, each writing its own section of bench/RESULTS.md.
 * Pass names to run only some: `npm run bench -- profile-overhead`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
	'request-visibility',
	'request-attribution',
	'store-ingest',
	'store-cache-memory',
	'unwind',
];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
let failed = 0;
for (const name of wanted.length ? wanted : benches) {
	const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
	if (!existsSync(file)) {
		console.error(`bench: no benchmark named ${name}`);
		failed++;
		continue;
	}
	console.error(`\n== ${name}`);
	const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
	if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;

/**
 * Unwind table build time and size for the files a profiled host maps most: libc, libpython and
 * node. Prints one line per file; a file that is not installed is reported as such. CPU time is
 * printed beside wall time because on a busy host the second says more about the host.
 *   npm run bench -w @firesight/unwind [-- --runs N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildElfUnwindTable, UnwindTableCache } from '@firesight/unwind';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg >= 0 ? Math.max(1, Number(process.argv[runsArg + 1])) : 5;

function libc(): string | undefined {
	return /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))?.[1];
}

function libpython(): string | undefined {
	const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
	return /^\s+libpython3\.\d+\.so\.1\.0 \(libc6,x86-64\) => (\S+)$/m.exec(out)?.[1];
}

const files: [string, string | undefined][] = [
	['libc', libc()],
	['libpython', libpython()],
	['node', process.execPath],
];

const cacheDir = mkdtempSync(join(tmpdir(), 'fs-unwind-bench-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));

/** Median wall time of reading the table back (what a restart costs), key derivation included. */
function fromDisk(path: string): number {
	const cache = new UnwindTableCache(cacheDir);
	cache.tableFor(path);
	const times: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		const { from } = cache.tableFor(path);
		times.push(performance.now() - t0);
		if (from !== 'disk') throw new Error(`${path}: the table was rebuilt, not read from the cache`);
	}
	return times.sort((a, b) => a - b)[times.length >> 1]!;
}

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
	[
		'file',
		'size',
		'FDEs',
		'rows',
		'rules',
		'table',
		'bytes/FDE',
		`build ms (median of ${runs})`,
		'CPU ms',
		'from disk cache ms',
		'path',
	].join('\t'),
);
for (const [label, path] of files) {
	if (path === undefined) {
		console.log(`${label}\tnot installed`);
		continue;
	}
	const times: number[] = [];
	const cpu: number[] = [];
	let last;
	for (let i = 0; i < runs; i++) {
		const t0 = performance.now();
		const c0 = process.cpuUsage();
		last = buildElfUnwindTable(path);
		const c = process.cpuUsage(c0);
		times.push(performance.now() - t0);
		cpu.push((c.user + c.system) / 1000);
	}
	times.sort((a, b) => a - b);
	cpu.sort((a, b) => a - b);
	const { table, stats } = last!;
	console.log(
		[
			label,
			kib(statSync(path).size),
			stats.fdes,
			stats.rows,
			stats.rules,
			kib(table.bytes.length),
			(table.bytes.length / Math.max(1, stats.fdes)).toFixed(1),
			times[times.length >> 1]!.toFixed(1),
			cpu[cpu.length >> 1]!.toFixed(1),
			fromDisk(path).toFixed(1),
			path,
		].join('\t'),
	);
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A known-answer CPU workload: it spends 60% of its time in `hot_a` and 40% in `hot_b`, because
 * both run the same loop body and `hot_a` is called with 6 units for every 4 of `hot_b`.
 */
const SOURCE = `
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) void spin(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		sink += i;
}

__attribute__((noinline)) void hot_a(void)
{
	for (unsigned long i = 0; i < 6; i++)
		for (unsigned long j = 0; j < 200000; j++)
			sink += j;
}

__attribute__((noinline)) void hot_b(void)
{
	for (unsigned long i = 0; i < 4; i++)
		for (unsigned long j = 0; j < 200000; j++)
			sink += j;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 60;
	time_t end = time(NULL) + (time_t)seconds;
	while (time(NULL) < end) {
		hot_a();
		hot_b();
	}
	return 0;
}
`;

/** The share of the workload's samples expected in `hot_a`, in percent. */
export const HOT_A_SHARE = 60;

/** Compiles the workload into `dir` with frame pointers everywhere (see DESIGN.md). */
export function buildWorkload(dir: string): string {
	const source = join(dir, 'workload.c');
	const binary = join(dir, 'workload');
	writeFileSync(source, SOURCE);
	const clang = ['clang', 'clang-14'].find((name) => {
		try {
			execFileSync(name, ['--version'], { stdio: 'ignore' });
			return true;
		} catch {
			return false;
		}
	});
	if (!clang) throw new Error('clang is needed to build the known-answer workload');
	execFileSync(clang, ['-O0', '-g', '-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer', '-fno-optimize-sibling-calls', '-o', binary, source]);
	return binary;
}

export function startWorkload(binary: string, seconds: number): ChildProcess {
	return spawn(binary, [String(seconds)], { stdio: 'ignore' });
}

import { z } from 'zod';
import { MAX_PIDS, NativeError } from '@firesight/native';
import { defineOptions, listOption, textOption, UsageError, UserError, type Command } from '../command.ts';
import { progressLine } from '../progress-line.ts';
import { untilSignal } from '../until-signal.ts';
import { agentOptions } from './agent-options.ts';
import { choice, duration, filePath, outputFormat, wholeNumber } from './option-values.ts';
import { openOutput } from './output-file.ts';
import type { Recording } from './recording.ts';

const usage = `Usage: firesight record [--pid PID]... [--duration SECONDS] [--frequency HZ]
                        [--unwind fp|dwarf|auto] [--format pprof|folded] [--output FILE]

Samples the CPU stacks (user and kernel) of the whole host, or of the given processes, with an
eBPF perf_event program, then writes the symbolized profile.

Options:
  -p, --pid PID          profile only this process (repeat for more); default: every process
  -d, --duration SECS    how long to sample, e.g. 10, 30s, 2m (default 10s)
  -F, --frequency HZ     samples per second per CPU, 1-10000 (default 97)
  --unwind MODE          how user stacks are walked: dwarf (unwind tables from .eh_frame), fp
                         (frame pointers only) or auto (tables, frame pointers where a file has
                         none; the default). With --pid, recording starts once the tables are in.
  -f, --format FORMAT    folded (flamegraph.pl, speedscope) or pprof (go tool pprof, Parca);
                         default: pprof when --output ends in .pb.gz or .pprof, else folded
  -o, --output FILE      write here instead of standard output (pprof needs a file or a pipe)

Folded lines are 'comm;root_frame;...;leaf_frame COUNT': user frames from the root, then kernel
frames with a _[k] suffix. Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

const options = defineOptions({
	pid: listOption(z.array(wholeNumber(1, 2 ** 22)).default([]), { short: 'p' }),
	duration: textOption(duration(1, 86_400_000).default(10_000), { short: 'd' }),
	frequency: agentOptions.frequency,
	unwind: agentOptions.unwind,
	format: textOption(choice(['pprof', 'folded']).optional(), { short: 'f' }),
	output: textOption(filePath.optional(), { short: 'o' }),
});

async function run(argv: string[]): Promise<number> {
	const { pid: pids, duration: durationMs, frequency, unwind, ...args } = options.parse(argv);
	const format = outputFormat(args.format, args.output);
	if (format === 'pprof' && !args.output && process.stdout.isTTY) {
		throw new UsageError('pprof is binary: give --output FILE or pipe standard output');
	}
	if (pids.length > MAX_PIDS) throw new UsageError(`--pid: at most ${MAX_PIDS} processes, got ${pids.length}`);
	for (const pid of pids) {
		try {
			process.kill(pid, 0);
		} catch (err) {
			// EPERM: it exists, owned by someone else; the profiler may still see it.
			if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw new UsageError(`--pid ${pid}: no such process`);
		}
	}
	const output = args.output === undefined ? undefined : openOutput(args.output);
	// Loaded once the arguments are good, so that a mistake is told without waiting for them.
	const [{ Recording }, { toFolded, toPprof, totalWeight }] = await Promise.all([import('./recording.ts'), import('@firesight/profile')]);
	try {
		const progress = progressLine(process.stderr);
		let started = Date.now();
		let recording: Recording;
		try {
			recording = new Recording({
				frequency,
				pids,
				unwind,
				onTick: (samples) => {
					const secs = Math.min(durationMs, Date.now() - started) / 1000;
					progress.update(`recording ${secs.toFixed(0)}/${(durationMs / 1000).toFixed(0)} s, ${samples} samples`);
				},
			});
		} catch (err) {
			if (err instanceof NativeError) throw new UserError(err.message);
			throw err;
		}
		if (pids.length > 0 && unwind !== 'fp') {
			progress.update('loading unwind tables');
			if (!(await recording.warmUp()))
				process.stderr.write('firesight record: some unwind tables were not ready in time; recording anyway\n');
			started = Date.now();
		}
		// Ctrl-C (or SIGTERM) ends the recording early and still writes what was sampled.
		let timer: NodeJS.Timeout | undefined;
		const left = durationMs - (Date.now() - recording.startMs);
		await Promise.race([new Promise((r) => (timer = setTimeout(r, Math.max(0, left)))), untilSignal()]);
		clearTimeout(timer);
		const profile = await recording.stop().catch((err: unknown) => {
			throw err instanceof NativeError ? new UserError(err.message) : err;
		});
		const processes = new Set(profile.samples.map((s) => s.pid)).size;
		progress.done(`recorded ${totalWeight(profile)} samples of ${processes} processes in ${(profile.durationMs / 1000).toFixed(1)} s`);
		const data = format === 'pprof' ? toPprof(profile) : toFolded(profile);
		if (output) {
			output.write(data);
			process.stderr.write(`wrote ${output.path} (${format})\n`);
		} else {
			process.stdout.write(data);
		}
		return 0;
	} finally {
		output?.discard();
	}
}

export const record: Command = {
	name: 'record',
	usage,
	parse: (argv, env) => options.parse(argv, env),
	run,
};

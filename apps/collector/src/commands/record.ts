import { writeFileSync } from 'node:fs';
import { NativeError } from '@firesight/native';
import { toFolded, toPprof, totalWeight, type Profile } from '@firesight/profile';
import { intOption, durationOption, parseOptions, UsageError, UserError, type Command } from '../command.ts';
import { ProfileSampler } from '../profiling/profile-sampler.ts';
import { progressLine } from '../progress-line.ts';
import { untilSignal } from '../until-signal.ts';
import { frequencyOption } from './agent-options.ts';

const usage = `Usage: firesight record [--pid PID]... [--duration SECONDS] [--frequency HZ]
                        [--format pprof|folded] [--output FILE]

Samples the CPU stacks (user and kernel) of the whole host, or of the given processes, with an
eBPF perf_event program, then writes the symbolized profile.

Options:
  -p, --pid PID          profile only this process (repeat for more); default: every process
  -d, --duration SECS    how long to sample, e.g. 10, 30s, 2m (default 10s)
  -F, --frequency HZ     samples per second per CPU, 1-10000 (default 97)
  -f, --format FORMAT    folded (flamegraph.pl, speedscope) or pprof (go tool pprof, Parca);
                         default: pprof when --output ends in .pb.gz or .pprof, else folded
  -o, --output FILE      write here instead of standard output (pprof needs a file or a pipe)

Folded lines are 'comm;root_frame;...;leaf_frame COUNT': user frames from the root, then kernel
frames with a _[k] suffix. Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.`;

async function run(argv: string[]): Promise<number> {
	const { values, positionals } = parseOptions(argv, {
		pid: { type: 'string', short: 'p', multiple: true },
		duration: { type: 'string', short: 'd' },
		frequency: { type: 'string', short: 'F' },
		format: { type: 'string', short: 'f' },
		output: { type: 'string', short: 'o' },
	});
	if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
	const pids = (values.pid ?? []).map((p) => intOption('pid', p, 0, 1, 2 ** 22));
	const durationMs = durationOption('duration', values.duration, 10_000);
	const frequency = frequencyOption(values.frequency);
	const output = values.output;
	const format = values.format ?? (output && /\.(pb\.gz|pprof)$/.test(output) ? 'pprof' : 'folded');
	if (format !== 'pprof' && format !== 'folded') {
		throw new UsageError(`--format must be pprof or folded, got '${format}'`);
	}
	if (format === 'pprof' && !output && process.stdout.isTTY) {
		throw new UsageError('pprof is binary: give --output FILE or pipe standard output');
	}
	for (const pid of pids) {
		try {
			process.kill(pid, 0);
		} catch {
			throw new UserError(`no process with pid ${pid}`);
		}
	}

	let sampler: ProfileSampler;
	try {
		sampler = new ProfileSampler({ frequency, pids, windowMs: Number.MAX_SAFE_INTEGER });
	} catch (err) {
		if (err instanceof NativeError) throw new UserError(err.message);
		throw err;
	}
	const progress = progressLine(process.stderr);
	const started = Date.now();
	let samples = 0;
	sampler.on('tick', (t) => {
		for (const row of t.samplesByPid.values()) samples += row.samples;
		const secs = Math.min(durationMs, Date.now() - started) / 1000;
		progress.update(`recording ${secs.toFixed(0)}/${(durationMs / 1000).toFixed(0)} s, ${samples} samples`);
	});
	// Ctrl-C (or SIGTERM) ends the recording early and still writes what was sampled.
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([new Promise((r) => (timer = setTimeout(r, durationMs))), untilSignal()]);
	clearTimeout(timer);
	const profile = await sampler.stop();
	progress.done(`recorded ${totalWeight(profile)} samples of ${new Set(profile.samples.map((s) => s.pid)).size} processes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	write(profile, format, output);
	return 0;
}

function write(profile: Profile, format: 'pprof' | 'folded', output: string | undefined): void {
	const data = format === 'pprof' ? toPprof(profile) : toFolded(profile);
	if (output) {
		try {
			writeFileSync(output, data);
		} catch (err) {
			throw new UserError(`cannot write ${output}: ${(err as Error).message}`);
		}
		process.stderr.write(`wrote ${output} (${format})\n`);
	} else {
		process.stdout.write(data);
	}
}

export const record: Command = {
	name: 'record',
	usage,
	run,
};

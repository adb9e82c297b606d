import { type Frame, type FrameKind, JIT_MODULE, KERNEL_MODULE } from './frame.ts';
import type { Profile } from './profile.ts';
import { ProfileBuilder } from './profile-builder.ts';

/**
 * `perf script` text, the exchange format of `perf record -g`: per sample a header line
 * (`comm pid/tid [cpu] time: period event:`) and then one frame per line, leaf first
 * (`\taddress symbol+0xoff (dso)`), and a blank line. Read as stackcollapse-perf.pl folds it:
 * one count per sample, kernel frames by their dso, unknown symbols named `dso+0xaddress`.
 */

// comm may hold spaces; pid and tid are numbers; the cpu, the period and the event are optional.
const HEADER = /^(\S.*?)\s+(\d+)(?:\/(\d+))?\s+(?:\[\d+\]\s+)?(\d+\.\d+):\s*(?:(\d+)\s+)?([^\s:]+(?::[^\s:]+)*):?/;
const FRAME = /^\s+([0-9a-fA-F]+)\s+(.*?)\s+\((.*)\)\s*$/;

/** Used when the samples do not state a cpu-clock period to compute the rate from. */
const DEFAULT_FREQUENCY_HZ = 100;

function kindOf(dso: string): FrameKind {
	if (dso === KERNEL_MODULE || (/^\[[^\]]+\]$/.test(dso) && !/^\[(vdso|vsyscall|unknown|heap|stack|anon.*)\]$/.test(dso))) return 'kernel';
	if (/\/perf-\d+\.map$/.test(dso) || /jitted-\d+/.test(dso)) return 'jit';
	return 'user';
}

function frameOf(address: string, symbol: string, dso: string): Frame {
	const kind = kindOf(dso);
	const module = kind === 'jit' ? JIT_MODULE : kind === 'kernel' ? dso : dso.slice(dso.lastIndexOf('/') + 1);
	// perf prints `name+0xoff`; the offset is per sample, the function is what a frame is.
	const name = symbol.replace(/\+0x[0-9a-f]+$/i, '');
	if (name === '' || name === '[unknown]') return { name: `${module || '[unknown]'}+0x${address.replace(/^0+(?=.)/, '')}`, module, kind };
	return { name, module, kind };
}

/**
 * Reads `perf script` output. Returns null when the text is not that (its first line is no
 * sample header, or a line is neither header, frame nor blank); a header without frames counts
 * as a sample of the process alone, as stackcollapse-perf does.
 */
export function fromPerfScript(text: string): Profile | null {
	if (text.includes('\u0000')) return null;
	interface Pending {
		pid: number;
		comm: string;
		frames: Frame[];
	}
	const samples: Pending[] = [];
	let current: Pending | null = null;
	let firstTime = Number.NaN;
	let lastTime = Number.NaN;
	let periodNs = 0;
	for (const raw of text.split('\n')) {
		const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
		if (line.trim() === '') {
			current = null;
			continue;
		}
		if (line.startsWith('#')) continue;
		if (current !== null) {
			const frame = FRAME.exec(line);
			if (frame) {
				current.frames.push(frameOf(frame[1]!, frame[2]!, frame[3]!));
				continue;
			}
		}
		const header = HEADER.exec(line);
		if (header === null) return null;
		const time = Number(header[4]);
		if (Number.isNaN(firstTime)) firstTime = time;
		lastTime = time;
		if (header[5] !== undefined && /^(cpu-clock|task-clock)/.test(header[6] ?? '')) periodNs = Number(header[5]);
		current = { comm: header[1]!, pid: Number(header[2]), frames: [] };
		samples.push(current);
	}
	if (samples.length === 0) return null;
	const frequencyHz = periodNs > 0 ? Math.round(1e9 / periodNs) : DEFAULT_FREQUENCY_HZ;
	const durationMs = Math.max(0, (lastTime - firstTime) * 1000);
	const builder = new ProfileBuilder({ startMs: 0, durationMs, frequencyHz });
	for (const sample of samples) builder.appendSample(sample.frames.reverse(), 1, { pid: sample.pid, comm: sample.comm });
	return builder.build();
}

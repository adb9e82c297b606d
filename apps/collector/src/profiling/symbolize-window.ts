import type { DrainedWindow } from '@firesight/native';
import type { Frame, ProfileBuilder } from '@firesight/profile';
import { cutKeepingEnd, limits } from '@firesight/protocol';
import type { Symbolizer } from '@firesight/symbolize';
import type { SampleAttribution } from '../request-attribution.ts';

const EFAULT = -14;

/** Stands in for a stack the kernel could not walk, so its samples still count. */
const missingStack = (kind: 'user' | 'kernel'): Frame => ({
	name: `[missing ${kind} stack]`,
	module: '',
	kind,
});

/**
 * Stands in for each user frame of a sample whose process exec'd before its stack was walked:
 * its addresses are of the program before the exec, which no mapping of the process shows any more
 * (the new program's would name them wrongly). Counted as profile.unwindProcessExeced.
 */
const BEFORE_EXEC: Frame = { name: '[before exec]', module: '', kind: 'user' };

/** Strings cut to fit the wire, counted where the hub and the dashboard can see them. */
export interface WireCuts {
	/** Frames whose name or module was over its wire limit. */
	frames: number;
}

/**
 * A frame within the wire limits: the hub rejects a whole window over one name too long, and
 * C++ template names pass 4096 characters. Both keep their end: the method and its arguments,
 * the file name of a module path.
 */
function fitFrame(f: Frame, cuts: WireCuts | undefined): Frame {
	if (f.name.length <= limits.frameName && f.module.length <= limits.shortString) return f;
	if (cuts) cuts.frames++;
	return { ...f, name: cutKeepingEnd(f.name, limits.frameName), module: cutKeepingEnd(f.module, limits.shortString) };
}

/**
 * Symbolizes one drained window into `builder`: user frames root first, then kernel frames, as
 * `perf script` folds them. Each stack is symbolized once per window, however many keys share it.
 */
export function symbolizeWindow(
	window: DrainedWindow,
	symbolizer: Symbolizer,
	builder: ProfileBuilder,
	cuts?: WireCuts,
	attribution?: SampleAttribution,
): void {
	const kernelCache = new Map<number, number[]>();
	const userCache = new Map<string, number[]>();
	const intern = (frames: Frame[]) => frames.reverse().map((f) => builder.frames.intern(fitFrame(f, cuts)));

	const kernelStack = (id: number): number[] => {
		if (id === EFAULT) return []; // the sample was taken in user mode
		let ids = kernelCache.get(id);
		if (!ids) {
			const ips = id >= 0 ? window.stacks.get(id) : undefined;
			ids = intern(ips ? symbolizer.kernel(ips) : [missingStack('kernel')]);
			kernelCache.set(id, ids);
		}
		return ids;
	};
	const userStack = (pid: number, id: number, execed: boolean): number[] => {
		if (id === EFAULT) return []; // a kernel thread has no user stack
		const key = `${pid}:${id}`;
		let ids = userCache.get(key);
		if (!ids) {
			const ips = id >= 0 ? window.stacks.get(id) : undefined;
			const frames = execed && ips ? ips.map(() => BEFORE_EXEC) : ips ? symbolizer.user(pid, ips) : [missingStack('user')];
			ids = intern(frames);
			userCache.set(key, ids);
		}
		return ids;
	};

	for (const c of window.counts) {
		const stack = [...userStack(c.pid, c.userStackId, c.execed === true), ...kernelStack(c.kernelStackId)];
		const labels = { pid: c.pid, comm: c.comm };
		// Stamped with a request: labelled when the window closes, once the request is known.
		if (c.requestId !== undefined && attribution) {
			attribution.hold(builder, stack, c.count, labels, c.requestId, c.requestAmbiguous === true);
		} else builder.appendSampleIds(stack, c.count, labels);
	}
}

import type { DrainedWindow } from '@firesight/native';
import type { Frame, ProfileBuilder } from '@firesight/profile';
import type { Symbolizer } from '@firesight/symbolize';

const EFAULT = -14;

/** Stands in for a stack the kernel could not walk, so its samples still count. */
const missingStack = (kind: 'user' | 'kernel'): Frame => ({
	name: `[missing ${kind} stack]`,
	module: '',
	kind,
});

/**
 * Symbolizes one drained window into `builder`: user frames root first, then kernel frames, as
 * `perf script` folds them. Each stack is symbolized once per window, however many keys share it.
 */
export function symbolizeWindow(window: DrainedWindow, symbolizer: Symbolizer, builder: ProfileBuilder): void {
	const kernelCache = new Map<number, number[]>();
	const userCache = new Map<string, number[]>();
	const intern = (frames: Frame[]) => frames.reverse().map((f) => builder.frames.intern(f));

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
	const userStack = (pid: number, id: number): number[] => {
		if (id === EFAULT) return []; // a kernel thread has no user stack
		const key = `${pid}:${id}`;
		let ids = userCache.get(key);
		if (!ids) {
			const ips = id >= 0 ? window.stacks.get(id) : undefined;
			ids = intern(ips ? symbolizer.user(pid, ips) : [missingStack('user')]);
			userCache.set(key, ids);
		}
		return ids;
	};

	for (const c of window.counts) {
		const stack = [...userStack(c.pid, c.userStackId), ...kernelStack(c.kernelStackId)];
		builder.appendSampleIds(stack, c.count, { pid: c.pid, comm: c.comm });
	}
}

import type { ProfileWindow } from '@firesight/protocol';
import { kernelFrame, profileWindow, userFrames, type WindowSample } from '@firesight/testing/profile-windows';

/** main → hot, and main → cold → do_syscall_64 into the kernel; `unused` is in no stack. */
export const HOT_COLD_FRAMES = userFrames('app', 'main', 'hot', 'cold', 'unused', kernelFrame('do_syscall_64'));

export const hotColdWindow = (host: string, startMs: number, samples: ProfileWindow['samples'], frequencyHz = 100): ProfileWindow =>
	profileWindow(host, startMs, HOT_COLD_FRAMES, samples, { frequencyHz });

export const hotStack = (pid: number, comm: string, weight: number): WindowSample => ({ pid, comm, stack: [0, 1], weight });
export const coldStack = (pid: number, comm: string, weight: number): WindowSample => ({ pid, comm, stack: [0, 2, 4], weight });

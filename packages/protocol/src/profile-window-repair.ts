import { limits } from './limits.ts';
import { frameSchema, profileSampleSchema } from './profile-window.ts';
import { cutKeepingEnd, cutKeepingStart } from './wire-strings.ts';

/** What the hub cut or dropped from a profile window so the rest of it could be stored. */
export type WindowRepair = 'frame_name_cut' | 'frame_module_cut' | 'frame_replaced' | 'comm_cut' | 'stack_dropped';

/** Stands in for a frame that cannot be read, so the stacks through it keep their samples. */
const INVALID_FRAME = { name: '[invalid frame]', module: '', kind: 'user' } as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * One bad field must not cost a host its whole window (a C++ name over the frame name limit
 * once lost 10% of samples). On a `profile` message this cuts strings over their limit, replaces
 * a frame it cannot read, and drops a sample that is invalid or points past the frame table;
 * the strict schema then still guards storage. Anything wrong with the window as a whole (host,
 * times, too many rows) is left for the schema to reject. Returns null when there is nothing
 * it can repair.
 */
export function repairProfileMessage(raw: unknown): { message: unknown; repairs: Map<WindowRepair, number> } | null {
	if (!isObj(raw) || raw.type !== 'profile' || !isObj(raw.window)) return null;
	const w = raw.window;
	if (!Array.isArray(w.frames) || !Array.isArray(w.samples)) return null;
	const repairs = new Map<WindowRepair, number>();
	const count = (r: WindowRepair) => repairs.set(r, (repairs.get(r) ?? 0) + 1);

	const frames = w.frames.map((f: unknown) => {
		if (frameSchema.safeParse(f).success) return f;
		if (!isObj(f)) return (count('frame_replaced'), INVALID_FRAME);
		let fixed: Obj = f;
		if (typeof f.name === 'string' && f.name.length > limits.frameName) {
			fixed = { ...fixed, name: cutKeepingEnd(f.name, limits.frameName) };
			count('frame_name_cut');
		}
		if (typeof f.module === 'string' && f.module.length > limits.shortString) {
			// A module is a path: its end is the file name.
			fixed = { ...fixed, module: cutKeepingEnd(f.module, limits.shortString) };
			count('frame_module_cut');
		}
		if (frameSchema.safeParse(fixed).success) return fixed;
		count('frame_replaced');
		return INVALID_FRAME;
	});

	const n = frames.length;
	const samples: unknown[] = [];
	for (const s of w.samples as unknown[]) {
		let row = s;
		if (isObj(s) && typeof s.comm === 'string' && s.comm.length > limits.shortString) {
			row = { ...s, comm: cutKeepingStart(s.comm, limits.shortString) };
			count('comm_cut');
		}
		const parsed = profileSampleSchema.safeParse(row);
		if (parsed.success && parsed.data.stack.every((id) => id < n)) samples.push(row);
		else count('stack_dropped');
	}
	if (repairs.size === 0) return null;
	return { message: { ...raw, window: { ...w, frames, samples } }, repairs };
}

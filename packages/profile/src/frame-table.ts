import { type Frame, frameKey } from './frame.ts';

/**
 * Interns frames: equal frames (same kind, module and name) get one id, so a stack is an array of
 * small numbers and each distinct frame is stored once however many stacks share it. Ids are dense,
 * starting at 0, in first-seen order.
 */
export class FrameTable {
	readonly #frames: Frame[] = [];
	readonly #ids = new Map<string, number>();
	// Symbolizers hand out the same frame object for every hit on an address; looking that object
	// up skips building the string key, which dominates appendSample otherwise.
	readonly #byObject = new WeakMap<Frame, number>();

	intern(frame: Frame): number {
		let id = this.#byObject.get(frame);
		if (id !== undefined) return id;
		const key = frameKey(frame);
		id = this.#ids.get(key);
		if (id === undefined) {
			id = this.#frames.length;
			// A fresh object, so extra properties a caller's frame carries are not retained.
			const copy: Frame = { name: frame.name, module: frame.module, kind: frame.kind };
			this.#frames.push(Object.freeze(frame.file === undefined && frame.line === undefined ? copy : withSource(copy, frame)));
			this.#ids.set(key, id);
		}
		this.#byObject.set(frame, id);
		return id;
	}

	/** The id of an interned frame, or undefined when the frame was never interned. */
	idOf(frame: Frame): number | undefined {
		return this.#ids.get(frameKey(frame));
	}

	frame(id: number): Frame {
		const frame = this.#frames[id];
		if (frame === undefined) throw new RangeError(`unknown frame id ${id}`);
		return frame;
	}

	get size(): number {
		return this.#frames.length;
	}

	/** All frames indexed by id. A copy: the table can keep growing without changing it. */
	toArray(): Frame[] {
		return this.#frames.slice();
	}
}

function withSource(copy: Frame, frame: Frame): Frame {
	return {
		...copy,
		...(frame.file !== undefined ? { file: frame.file } : {}),
		...(frame.line !== undefined ? { line: frame.line } : {}),
	};
}

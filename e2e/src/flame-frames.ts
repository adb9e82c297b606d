/**
 * Reading the canvas flame graph as a user does: the summary it states on its canvas element
 * (frames drawn, remainders, search matches, zoom), the tooltip a pointer over a frame shows, and
 * the colour painted there. Frames are found by moving the pointer along each row and reading the
 * tooltip, so a frame counts as drawn only where hovering it names it.
 */
import type { Locator } from 'playwright-core';
import { waitFor } from './support.ts';

export interface FlameState {
	/** Frames drawn, remainders included. */
	nodes: number;
	remainders: number;
	/** Drawn frames in the search's highlight. */
	matches: number;
	rows: number;
	/** Names from below the root to the zoomed frame; empty when not zoomed. */
	zoom: string[];
	/** Paints so far. */
	draws: number;
}

export interface DrawnFrame {
	/** The tooltip's name line: the function, or "N frames too narrow to draw" on a remainder. */
	name: string;
	remainder: boolean;
	/** Row from the top of the drawing, whatever the orientation. */
	row: number;
	/** CSS pixels from the canvas's left edge: where hovering named this frame. */
	x: number;
	width: number;
}

/** The canvas of a flame graph (`graph` is the `flame-graph` element or one holding it). */
export function flameCanvas(graph: Locator): Locator {
	return graph.getByTestId('flame-canvas').first();
}

export async function flameState(graph: Locator): Promise<FlameState> {
	return flameCanvas(graph).evaluate((canvas) => {
		const d = (canvas as HTMLCanvasElement).dataset;
		return {
			nodes: Number(d.nodes),
			remainders: Number(d.remainders),
			matches: Number(d.matches),
			rows: Number(d.rows),
			zoom: JSON.parse(d.zoom ?? '[]') as string[],
			draws: Number(d.draws),
		};
	});
}

/** Waits until the graph has been painted and `until` holds for what it states. */
export async function paintedFlame(
	graph: Locator,
	until: (state: FlameState) => boolean = () => true,
	timeoutMs = 60_000,
	what = 'the flame graph painted',
): Promise<FlameState> {
	return waitFor(
		what,
		async () => {
			if ((await flameCanvas(graph).count()) === 0) return null;
			const state = await flameState(graph);
			return state.draws > 0 && until(state) ? state : null;
		},
		timeoutMs,
		100,
	);
}

/**
 * Every frame a pointer finds and the canvas painted, row by row from the root, with `name` only
 * those whose tooltip names exactly that. A row is searched only under the frames found in the row before it (a
 * frame lies within its parent), pixel by pixel; a frame's end is found by doubling the step and
 * then halving it, since one name covers one run of a parent's width.
 */
export async function drawnFrames(graph: Locator, options: { name?: string } = {}): Promise<DrawnFrame[]> {
	const found = await flameCanvas(graph).evaluate((canvas) => {
		const box = canvas.getBoundingClientRect();
		const rows = Number((canvas as HTMLCanvasElement).dataset.rows);
		const cell = box.height / rows;
		const container = canvas.closest('[data-testid="flame-graph"]');
		// The tooltip belongs to this graph: the element after its container.
		const tip = container?.nextElementSibling as HTMLElement | null;
		if (!tip || !(rows > 0)) return [];
		const icicle = container?.getAttribute('data-orientation') !== 'flame';
		// Not a named function: the page has no `__name`, which tsx adds to those.
		const probe = [
			(x: number, y: number): string | null => {
				canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + x, clientY: y, bubbles: true }));
				return tip.style.display === 'block' ? (tip.querySelector('.tt-name')?.textContent ?? null) : null;
			},
		][0]!;
		const frames: { name: string; row: number; x: number; width: number }[] = [];
		let spans: [number, number][] = [[0, box.width]];
		for (let i = 0; i < rows && spans.length > 0; i++) {
			const row = icicle ? i : rows - 1 - i;
			const y = box.top + row * cell + cell / 2;
			const next: [number, number][] = [];
			for (const [from, to] of spans) {
				let x = Math.floor(from) + 0.5;
				while (x < to) {
					const name = probe(x, y);
					if (name === null) {
						x += 1;
						continue;
					}
					let same = x;
					let step = 1;
					while (same + step < to && probe(same + step, y) === name) {
						same += step;
						step *= 2;
					}
					let other = Math.min(same + step, Math.ceil(to) + 0.5);
					while (other - same > 1) {
						const mid = same + Math.floor((other - same) / 2);
						if (probe(mid, y) === name) same = mid;
						else other = mid;
					}
					frames.push({ name, row, x, width: same - x + 1 });
					if (!/frames too narrow to draw$/.test(name)) next.push([x - 0.5, same + 0.5]);
					x = same + 1;
				}
			}
			spans = next;
		}
		// Below the drawing: nothing is hovered, and the tooltip goes away.
		canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: box.left + 1, clientY: box.bottom + 2, bubbles: true }));
		// Only what is painted too: a pixel inside each frame is not left transparent.
		const c = canvas as HTMLCanvasElement;
		const scale = c.width / box.width;
		const pixels = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
		return frames.filter((f) => {
			const px = Math.floor((f.x + f.width / 2) * scale);
			const py = Math.floor((f.row * cell + 2) * scale);
			return (pixels[(py * c.width + px) * 4 + 3] ?? 0) > 0;
		});
	});
	return found
		.map((f) => ({ ...f, remainder: /frames too narrow to draw$/.test(f.name) }))
		.filter((f) => options.name === undefined || f.name === options.name);
}

/**
 * Clicks a frame's middle. The point is placed on the canvas as it is at the click, once it holds
 * still (Playwright's actionability checks): page coordinates taken earlier miss the frame when
 * the layout above the graph moves in between (seen once: the click landed two rows deeper).
 */
export async function clickFrame(graph: Locator, frame: DrawnFrame): Promise<void> {
	const canvas = flameCanvas(graph);
	const box = await canvas.boundingBox();
	if (!box) throw new Error('the flame graph has no box');
	const cell = box.height / (await flameState(graph)).rows;
	await canvas.click({ position: { x: frame.x + frame.width / 2, y: frame.row * cell + cell / 2 } });
}

/**
 * The colour painted inside a frame, as [red, green, blue]: near its top right corner, where its
 * label (drawn from the left, centred in the row) never reaches.
 */
export async function frameColor(graph: Locator, frame: DrawnFrame): Promise<[number, number, number]> {
	return flameCanvas(graph).evaluate(
		(canvas, f) => {
			const c = canvas as HTMLCanvasElement;
			const box = c.getBoundingClientRect();
			const scale = c.width / box.width;
			const cell = box.height / Number(c.dataset.rows);
			const x = f.x + Math.max(0, f.width - 3);
			const y = f.row * cell + 2;
			const [r, g, b] = c.getContext('2d')!.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data;
			return [r!, g!, b!] as [number, number, number];
		},
		{ x: frame.x, width: frame.width, row: frame.row },
	);
}

/** The colour a search match is painted in. */
export const MATCH_COLOR: readonly [number, number, number] = [0xd9, 0x4c, 0xf0];

/**
 * Whether a colour read from the canvas is `expected`, but for a step or two of each channel:
 * where a frame's edge falls between pixels the canvas blends it (a run read 216 for 217).
 */
export function isColor(actual: readonly [number, number, number], expected: readonly [number, number, number]): boolean {
	return actual.every((c, i) => Math.abs(c - expected[i]!) <= 2);
}

/** The hue (0–360) of an RGB colour. */
export function hueOf([r, g, b]: readonly [number, number, number]): number {
	const max = Math.max(r, g, b);
	const min = Math.min(r, g, b);
	if (max === min) return 0;
	const d = max - min;
	const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
	return (h * 60 + 360) % 360;
}

import { PROCESS_MODULE, type FlameNode } from '@firesight/profile';
import type { FlameLayout } from './flame-layout.ts';
import { matchesSearch } from './flame-search.ts';
import { frameColor, type ColorMode } from './frame-colors.ts';

/** Search matches: one colour outside every frame family. */
export const HIGHLIGHT = '#d94cf0';
/** Remainder nodes: frames too narrow to draw, merged per parent on the hub. Not a frame colour. */
export const HIDDEN_FILL = '#c9ccd3';
const ROOT_FILL = '#5a5f6b';
const PROCESS_FILL = '#6b7282';
/** A group level (process or endpoint) inserted above the stacks. */
const GROUP_FILL = '#7d8494';

export interface FillOptions {
	/** The search term; frames whose name contains it are highlighted. */
	search: string;
	colorMode: ColorMode;
	/** A fill per node instead of the palette (the diff colours by change); `original` is the palette's. */
	colorOf?: ((data: FlameNode, original: string) => string | undefined) | undefined;
}

/**
 * The fill of every laid-out rect, and how many are search matches. Remainders are grey and never
 * match (they are no frame); the root and process levels are neutral unless `colorOf` says
 * otherwise.
 */
export function flameFills(layout: FlameLayout, options: FillOptions): { fills: string[]; matches: number } {
	const term = options.search.trim();
	const fills = new Array<string>(layout.rects.length);
	let matches = 0;
	for (let i = 0; i < layout.rects.length; i++) {
		const rect = layout.rects[i]!;
		const node = rect.node;
		if (rect.remainder) {
			fills[i] = HIDDEN_FILL;
			continue;
		}
		if (term && rect.depth > 0 && matchesSearch(node.name, term)) {
			fills[i] = HIGHLIGHT;
			matches += 1;
			continue;
		}
		const original = frameColor(options.colorMode, node);
		fills[i] =
			options.colorOf?.(node, original) ??
			(rect.depth === 0 ? ROOT_FILL : rect.depth === 1 ? PROCESS_FILL : node.module === PROCESS_MODULE ? GROUP_FILL : original);
	}
	return { fills, matches };
}

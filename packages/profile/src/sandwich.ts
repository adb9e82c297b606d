import type { FrameKind } from './frame.ts';
import type { FlameNode } from './flame-tree.ts';
import type { Profile } from './profile.ts';

/** Which function a sandwich is about: every frame with this name (and module, when given). */
export interface FunctionRef {
	readonly name: string;
	readonly module?: string | undefined;
}

export interface Sandwich {
	readonly name: string;
	readonly module: string;
	readonly kind: FrameKind;
	/** Samples with the function on the stack, once per stack however often it recurses. */
	readonly total: number;
	/** Samples with the function as the leaf. */
	readonly self: number;
	/**
	 * Rooted at the function; its children are the direct callers, theirs the callers' callers,
	 * up to the stack root: an inverted tree, drawn above the function.
	 */
	readonly callers: FlameNode;
	/** Rooted at the function; its children are what it calls, down to the leaves. */
	readonly callees: FlameNode;
}

interface Trie {
	value: number;
	frame: number;
	children: Map<number, Trie>;
}

/**
 * The callers and callees of a function merged over every stack it appears in. Each stack is cut
 * at the function's outermost occurrence: what lies above it are callers, the rest (including
 * recursive calls of the function itself) callees, so every sample counts once in both trees and
 * both roots equal the function's total. Computed on the full profile; prune the result, if at all.
 * Null when no sample has the function.
 */
export function sandwich(profile: Profile, fn: FunctionRef): Sandwich | null {
	const matches = profile.frames.map((frame) => frame.name === fn.name && (fn.module === undefined || frame.module === fn.module));
	const first = matches.indexOf(true);
	if (first < 0) return null;
	const callers: Trie = { value: 0, frame: first, children: new Map() };
	const callees: Trie = { value: 0, frame: first, children: new Map() };
	const childOf = (node: Trie, frame: number): Trie => {
		let child = node.children.get(frame);
		if (!child) node.children.set(frame, (child = { value: 0, frame, children: new Map() }));
		return child;
	};
	let self = 0;
	for (const sample of profile.samples) {
		const stack = sample.stack;
		const at = stack.findIndex((id) => matches[id] === true);
		if (at < 0) continue;
		const leaf = stack[stack.length - 1]!;
		if (matches[leaf]) self += sample.weight;
		callers.value += sample.weight;
		let node = callers;
		for (let i = at - 1; i >= 0; i--) {
			node = childOf(node, stack[i]!);
			node.value += sample.weight;
		}
		callees.value += sample.weight;
		node = callees;
		for (let i = at + 1; i < stack.length; i++) {
			node = childOf(node, stack[i]!);
			node.value += sample.weight;
		}
	}
	if (callers.value === 0) return null;
	const frame = profile.frames[first]!;
	const convert = (node: Trie, isRoot: boolean): FlameNode => {
		const f = profile.frames[node.frame]!;
		const children = [...node.children.values()].map((child) => convert(child, false));
		children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		// Several frames (files) may match: the root names the function as asked.
		return isRoot
			? { name: fn.name, value: node.value, children, kind: frame.kind, module: fn.module ?? frame.module }
			: { name: f.name, value: node.value, children, kind: f.kind, module: f.module };
	};
	return {
		name: fn.name,
		module: fn.module ?? frame.module,
		kind: frame.kind,
		total: callers.value,
		self,
		callers: convert(callers, true),
		callees: convert(callees, true),
	};
}

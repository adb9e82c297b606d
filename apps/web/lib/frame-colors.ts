import type { FrameKind } from '@firesight/profile';

/** How the flame graph fills frames: by kind (kernel, user native, JIT) or by module. */
export const COLOR_MODES = ['kind', 'module'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

/** One colour family per kind, so a kernel frame never passes for a user frame. */
export const KIND_HUES: Record<FrameKind, { hue: number; spread: number; saturation: number; lightness: number }> = {
	kernel: { hue: 212, spread: 24, saturation: 62, lightness: 62 },
	user: { hue: 18, spread: 30, saturation: 78, lightness: 60 },
	jit: { hue: 122, spread: 28, saturation: 48, lightness: 56 },
};

/** FNV-1a: stable across runs and machines, so a module keeps its colour in every link. */
export function stableHash(text: string): number {
	let h = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		h ^= text.charCodeAt(i);
		h = Math.imul(h, 0x01000193);
	}
	return h >>> 0;
}

/** Within its family, a frame's shade follows its name, so neighbours stay apart. */
export function kindColor(kind: FrameKind | undefined, name: string): string {
	const family = KIND_HUES[kind ?? 'user'];
	const h = stableHash(name);
	const hue = family.hue - family.spread / 2 + ((h % 1000) / 1000) * family.spread;
	const lightness = family.lightness - 6 + (((h >>> 10) % 100) / 100) * 12;
	return hsl(hue, family.saturation, lightness);
}

/** Any hue, from a stable hash of the module (the ELF file, `[kernel.kallsyms]`, a JIT map). */
export function moduleColor(module: string | undefined): string {
	if (!module) return hsl(0, 0, 70);
	return hsl(stableHash(module) % 360, 55, 62);
}

export function frameColor(mode: ColorMode, frame: { kind?: FrameKind | undefined; module?: string | undefined; name: string }): string {
	return mode === 'module' ? moduleColor(frame.module) : kindColor(frame.kind, frame.name);
}

function hsl(h: number, s: number, l: number): string {
	return `hsl(${h.toFixed(1)}, ${s}%, ${l.toFixed(1)}%)`;
}

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { buildGoFixture } from '@firesight/testing/workloads';
import { FileSource } from './byte-source.ts';
import { ElfFile } from './elf-file.ts';
import { GoPclntab, GoPclntabError } from './go-pclntab.ts';

const RUNS = 2000;

/** A deterministic generator, so a failure can be reproduced. */
function random(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (s + 0x6d2b79f5) >>> 0;
		let t = Math.imul(s ^ (s >>> 15), s | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
	};
}

describe("Go's function table, corrupted", () => {
	const go = buildGoFixture('go-stacks');
	after(go.cleanup);
	const src = new FileSource(go.stripped);
	const sec = new ElfFile(src).sections.find((s) => s.name === '.gopclntab')!;
	const bytes = src.read(Number(sec.offset), Number(sec.size));
	src.close();

	/** Parses and reads every pcsp table: a table, undefined, or one GoPclntabError. */
	const read = (buf: Buffer): 'ok' | 'error' => {
		try {
			const tab = GoPclntab.parse(buf, 0x401000);
			for (const fn of tab?.funcs ?? []) tab!.spDeltas(fn);
			return 'ok';
		} catch (err) {
			if (err instanceof GoPclntabError) return 'error';
			throw err;
		}
	};

	test('the table as built reads whole', () => {
		assert.equal(read(bytes), 'ok');
	});

	test(`truncated, and with bytes and words overwritten, ${RUNS} times: a table or one GoPclntabError`, () => {
		const next = random(0x60c1);
		const outcomes = { ok: 0, error: 0 };
		for (let i = 0; i < RUNS; i++) {
			const buf = Buffer.from(bytes.subarray(0, i % 4 === 0 ? Math.floor(next() * bytes.length) : bytes.length));
			// Mostly the header and the function table, where a change moves what is read.
			for (let k = 0; k < 1 + Math.floor(next() * 4); k++) {
				const at = Math.floor(next() * Math.min(buf.length, next() < 0.7 ? 0x4000 : buf.length));
				if (at + 4 <= buf.length) buf.writeUInt32LE(Math.floor(next() * 2 ** 32), at);
			}
			outcomes[read(buf)]++;
		}
		assert.ok(outcomes.ok > 0 && outcomes.error > 0, JSON.stringify(outcomes));
	});
});

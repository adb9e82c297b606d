import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_TIMESTAMP_MS, profileWindowSchema, type ProfileWindow } from '@firesight/protocol';
import { openStorage } from './storage.ts';

const window = (w: Partial<ProfileWindow> & { weight?: number }): ProfileWindow => ({
	host: 'box',
	startMs: 1_700_000_000_000,
	durationMs: 10_000,
	frequencyHz: 99,
	frames: [{ name: 'main', module: 'app', kind: 'user' }],
	samples: [{ pid: 1, comm: 'app', stack: [0], weight: w.weight ?? 1 }],
	...w,
});

test('what the wire schema lets through the store keeps exactly, and one past each bound the schema refuses', async () => {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-bounds-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		const edges: { name: string; at: ProfileWindow; over: ProfileWindow[] }[] = [
			{ name: 'weight', at: window({ weight: 2 ** 32 - 1 }), over: [window({ weight: 2 ** 32 })] },
			{
				name: 'startMs',
				at: window({ startMs: MAX_TIMESTAMP_MS - 10_000 }),
				over: [window({ startMs: MAX_TIMESTAMP_MS + 1 }), window({ startMs: 8.64e15 })],
			},
			{
				name: 'frequencyHz',
				at: window({ startMs: 1_700_000_100_000, frequencyHz: 1 }),
				over: [window({ frequencyHz: 0.5 }), window({ frequencyHz: 1e-300 })],
			},
		];
		for (const e of edges) {
			assert.ok(profileWindowSchema.safeParse(e.at).success, `${e.name}: at the bound`);
			await storage.profiles.insertWindow(e.at);
			const back = await storage.profiles.query({ fromMs: e.at.startMs, toMs: e.at.startMs + e.at.durationMs });
			assert.equal(back.windows, 1, e.name);
			assert.equal(back.profile.frequencyHz, e.at.frequencyHz, e.name);
			assert.equal(back.profile.samples[0]?.weight, e.at.samples[0]!.weight, e.name);
			for (const over of e.over) assert.equal(profileWindowSchema.safeParse(over).success, false, `${e.name}: past the bound`);
		}
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
});

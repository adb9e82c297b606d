import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataMessage, MessageId } from '@firesight/protocol';
import { Spool } from './spool.ts';

function message(i: number): DataMessage {
	return {
		type: 'profile',
		window: {
			host: 'h',
			startMs: 1_000_000 + i * 1000,
			durationMs: 1000,
			frequencyHz: 99,
			frames: [{ name: `f${i}`, module: 'm', kind: 'user' }],
			samples: [{ pid: 1, comm: 'c', stack: [0], weight: i + 1 }],
		},
	};
}

function withDir(fn: (dir: string) => void): void {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-spool-test-'));
	try {
		fn(dir);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.jsonl'));

test('ids count up per boot; beyond the memory budget payloads are read back from disk as sent', () =>
	withDir((dir) => {
		const spool = new Spool({ dir, memoryBytes: 1000 }, 'bootA');
		for (let i = 0; i < 50; i++) assert.deepEqual(spool.add(message(i)), { boot: 'bootA', seq: i });
		assert.equal(spool.length, 50);
		assert.equal(spool.at(0)!.text, undefined, 'the oldest left memory');
		assert.notEqual(spool.at(49)!.text, undefined, 'the newest is in memory');
		for (let i = 0; i < 50; i++) assert.deepEqual(JSON.parse(spool.text(spool.at(i)!)), { ...message(i), id: { boot: 'bootA', seq: i } });
		spool.close();
	}));

test('a restart replays what was not acknowledged, in order and under the old ids; acknowledged segments are deleted', () =>
	withDir((dir) => {
		const logs: string[] = [];
		const first = new Spool({ dir }, 'bootA');
		for (let i = 0; i < 10; i++) first.add(message(i));
		for (let i = 0; i < 4; i++) assert.ok(first.remove({ boot: 'bootA', seq: i }));
		first.close();
		// A crash in the middle of a write leaves half a line.
		appendFileSync(join(dir, segments(dir).at(-1)!), '{"type":"profile","win');

		const second = new Spool({ dir, log: (l) => logs.push(l) }, 'bootB');
		// The acknowledged ones were in the same segment: they come back and the hub ignores them.
		assert.deepEqual(
			Array.from({ length: second.length }, (_, i) => second.at(i)!.id.seq),
			[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
		);
		assert.ok(
			logs.some((l) => /10 messages from an earlier run/.test(l)),
			logs.join('\n'),
		);
		assert.ok(
			logs.some((l) => /1 unreadable lines skipped/.test(l)),
			logs.join('\n'),
		);
		assert.deepEqual(second.add(message(10)), { boot: 'bootB', seq: 0 });
		for (let i = 0; i < 10; i++) second.remove({ boot: 'bootA', seq: i });
		second.remove({ boot: 'bootB', seq: 0 });
		assert.equal(second.length, 0);
		assert.deepEqual(segments(dir), []);
		second.close();
	}));

test('over the cap the oldest are dropped, each reported', () =>
	withDir((dir) => {
		const dropped: MessageId[] = [];
		const one = Buffer.byteLength(JSON.stringify({ ...message(0), id: { boot: 'bootA', seq: 0 } }));
		const spool = new Spool({ dir, maxBytes: one * 3 + 5, onDrop: (id) => dropped.push(id) }, 'bootA');
		for (let i = 0; i < 5; i++) spool.add(message(i));
		assert.deepEqual(
			dropped.map((d) => d.seq),
			[0, 1],
		);
		assert.equal(spool.length, 3);
		assert.ok(spool.bytes <= one * 3 + 5);
		spool.close();
	}));

test('a spool another live process holds is refused in one line', () =>
	withDir((dir) => {
		// pid 1 is always alive.
		writeFileSync(join(dir, 'lock'), '1\n');
		assert.throws(() => new Spool({ dir }), /^Error: the spool .* is in use by process 1; give each collector its own --spool$/);
	}));

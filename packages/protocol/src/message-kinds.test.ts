import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageHost, messageKinds, queueClassOf, type DataMessage } from './ingest.ts';

test('snapshots and batches queue as live, stored windows as window', () => {
	const live = Object.entries(messageKinds)
		.filter(([, k]) => k.queue === 'live')
		.map(([t]) => t)
		.sort();
	const window = Object.entries(messageKinds)
		.filter(([, k]) => k.queue === 'window')
		.map(([t]) => t)
		.sort();
	assert.deepEqual(live, ['connections', 'live', 'requests']);
	assert.deepEqual(window, ['profile', 'requestWindow', 'retransmitWindow']);
	assert.equal(queueClassOf({ type: 'retransmitWindow' }), 'window');
	assert.equal(queueClassOf({ type: 'requests' }), 'live');
});

test('the host of a message is read from its declared payload field', () => {
	const batch: DataMessage = { type: 'requests', batch: { host: 'b', ts: 1, requests: [], omitted: 0 } };
	const stats: DataMessage = { type: 'live', stats: { host: 's', ts: 1, frequencyHz: 99, processes: [], drops: {} } };
	const window: DataMessage = { type: 'retransmitWindow', window: { host: 'w', startMs: 1, durationMs: 1, connections: [] } };
	assert.deepEqual([batch, stats, window].map(messageHost), ['b', 's', 'w']);
});

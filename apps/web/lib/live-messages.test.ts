import assert from 'node:assert/strict';
import { test } from 'node:test';
import { featureFailures, totalDrops, type HostStatus } from './live-messages.ts';

const host = (name: string, connected: boolean, failed: { name: string; reason: string }[]): HostStatus => ({
	host: name,
	connected,
	lastSeenMs: 1,
	frequencyHz: 99,
	drops: { 'tcp.ringBufferFull': 2, 'hubQueue.live': 1 },
	features: { running: ['profile'], failed },
});

test("a feature is reported off with each connected host's reason", () => {
	const hosts = [
		host('a', true, [{ name: 'tls', reason: 'no uprobes' }]),
		host('b', true, []),
		host('c', false, [{ name: 'tls', reason: 'gone' }]),
	];
	assert.deepEqual(featureFailures(hosts, 'tls'), ['a: no uprobes']);
	assert.deepEqual(featureFailures(hosts, 'tcp'), []);
	assert.equal(totalDrops(hosts[0]!), 3);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileBuilder } from '@firesight/profile';
import {
	collectorMessageSchema,
	hubReplySchema,
	limits,
	parseCollectorMessage,
	parseLiveServerMessage,
	type CollectorMessage,
	type ProfileWindow,
} from './index.ts';

const window: ProfileWindow = {
	host: 'h1',
	startMs: 1_700_000_000_000,
	durationMs: 10_000,
	frequencyHz: 99,
	frames: [
		{ name: 'main', module: 'app', kind: 'user' },
		{ name: 'hot', module: 'app', kind: 'user' },
		{ name: 'do_syscall_64', module: '[kernel.kallsyms]', kind: 'kernel' },
	],
	samples: [{ pid: 42, comm: 'app', stack: [0, 1, 2], weight: 7 }],
};

test('a valid profile message round-trips through JSON', () => {
	const msg: CollectorMessage = { type: 'profile', window };
	const r = parseCollectorMessage(JSON.stringify(msg));
	assert.equal(r.ok, true);
	if (r.ok && r.value.type === 'profile') assert.deepEqual(r.value.window, window);
});

test('a profile of @firesight/profile plus its host is a window, sent as is', () => {
	const builder = new ProfileBuilder({ startMs: 1_700_000_000_000, durationMs: 10_000, frequencyHz: 99 });
	builder.appendSample(
		[
			{ name: 'main', module: 'app', kind: 'user' },
			{ name: 'hot', module: 'app', kind: 'user' },
		],
		3,
		{ pid: 7, comm: 'app' },
	);
	const profile = builder.build();
	const msg: CollectorMessage = { type: 'profile', window: { ...profile, host: 'h1' } };
	const r = parseCollectorMessage(JSON.stringify(msg));
	assert.ok(r.ok && r.value.type === 'profile');
	assert.deepEqual(r.value.window, { ...profile, host: 'h1' });
});

test('a stored message keeps its id (boot id + sequence) and a hello its boot id; a bad id is refused with its path', () => {
	const r = parseCollectorMessage(JSON.stringify({ type: 'profile', window, id: { boot: 'a1b2', seq: 7 } }));
	assert.ok(r.ok && r.value.type === 'profile');
	assert.deepEqual(r.value.id, { boot: 'a1b2', seq: 7 });
	const hello = parseCollectorMessage(JSON.stringify({ type: 'hello', host: 'h1', version: '1', frequencyHz: 99, boot: 'a1b2' }));
	assert.ok(hello.ok && hello.value.type === 'hello' && hello.value.boot === 'a1b2');
	const bad = parseCollectorMessage(JSON.stringify({ type: 'profile', window, id: { boot: 'a b', seq: -1 } }));
	assert.equal(bad.ok, false);
	if (!bad.ok) assert.match(bad.error, /id\.boot: .*id\.seq: /);
	// An ack names the id it makes durable; an older hub's ack without one still parses.
	assert.ok(hubReplySchema.safeParse({ type: 'ack', accepted: 3, id: { boot: 'a1b2', seq: 7 } }).success);
	assert.ok(hubReplySchema.safeParse({ type: 'ack', accepted: 3 }).success);
});

test('a dangling frame id is rejected with its path', () => {
	const bad = { ...window, samples: [{ pid: 1, comm: 'x', stack: [0, 3], weight: 1 }] };
	const r = parseCollectorMessage(JSON.stringify({ type: 'profile', window: bad }));
	assert.equal(r.ok, false);
	if (!r.ok) assert.match(r.error, /samples\.0\.stack\.1: frame id 3 out of range/);
});

test('malformed JSON, unknown types and limits give errors, not throws', () => {
	const notJson = parseCollectorMessage('{');
	assert.equal(notJson.ok, false);
	if (!notJson.ok) assert.match(notJson.error, /not JSON/);
	const unknown = parseCollectorMessage(JSON.stringify({ type: 'requests', rows: [] }));
	assert.equal(unknown.ok, false);
	const longHost = parseCollectorMessage(
		JSON.stringify({ type: 'hello', host: 'x'.repeat(limits.shortString + 1), version: '1', frequencyHz: 99 }),
	);
	assert.equal(longHost.ok, false);
	const zeroCount = collectorMessageSchema.safeParse({
		type: 'profile',
		window: { ...window, samples: [{ pid: 1, comm: 'x', stack: [], weight: 0 }] },
	});
	assert.equal(zeroCount.success, false);
});

test('live stats accept optional columns and reject negative CPU', () => {
	const stats = {
		host: 'h1',
		ts: 1,
		frequencyHz: 99,
		processes: [{ pid: 1, comm: 'a', cmdline: 'a -b', cpuPercent: 12.5, samplesPerSec: 12, p99Ms: 3 }],
		drops: { 'hubQueue.live': 2 },
	};
	assert.equal(parseCollectorMessage(JSON.stringify({ type: 'live', stats })).ok, true);
	const neg = { ...stats, processes: [{ ...stats.processes[0], cpuPercent: -1 }] };
	assert.equal(parseCollectorMessage(JSON.stringify({ type: 'live', stats: neg })).ok, false);
});

test('browser messages validate', () => {
	const status = { type: 'status', hosts: [{ host: 'h', connected: false, lastSeenMs: 5, frequencyHz: 99, drops: {} }] };
	assert.equal(parseLiveServerMessage(JSON.stringify(status)).ok, true);
	assert.equal(parseLiveServerMessage(JSON.stringify({ type: 'window', host: 'h', startMs: 1, durationMs: 0 })).ok, false);
});

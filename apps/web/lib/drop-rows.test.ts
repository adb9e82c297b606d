import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDrop, lostTotal } from './drop-descriptions.ts';
import { countersFromMetrics, dropRows, parsePrometheusText, type DropsSnapshot } from './drop-rows.ts';

const metrics = (
	drops: { userStackMissing: number; framesCut: number; window: number },
	windows: number,
	rejected: number,
) => `# HELP firesight_collector_drops Loss counters
# TYPE firesight_collector_drops gauge
firesight_collector_drops{host="web-1",counter="profile.userStackMissing"} ${drops.userStackMissing}
firesight_collector_drops{host="web-1",counter="profile.framesCut"} ${drops.framesCut}
firesight_collector_drops{host="web-1",counter="hubQueue.window"} ${drops.window}
firesight_collector_drops{host="web-1",counter="gpu.fooLost"} 0
firesight_hub_windows_ingested_total{host="web-1"} ${windows}
firesight_hub_messages_rejected_total{reason="invalid"} ${rejected}
firesight_hub_window_repairs_total{reason="frame_name_cut"} 3
firesight_hub_imports_total{result="stored"} 12
firesight_hub_imports_total{result="refused"} 1
firesight_hub_browsers_dropped_total 0
firesight_hub_live_requests_thinned_total 4
firesight_hub_hosts_forgotten_total 0
firesight_hub_process_cpu_seconds_total 1.5
`;

const snapshot = (receivedMs: number, text: string, samplesPerSec: number): DropsSnapshot => ({
	receivedMs,
	counters: countersFromMetrics(text),
	denominators: new Map([['web-1', { samples: samplesPerSec }]]),
});

test('the Prometheus text parser reads labels with escapes and skips comments and junk', () => {
	const samples = parsePrometheusText('# HELP x y\nx{a="q\\"uote",b="2"} 7\nnot a sample\ny NaN\nz 1e3\n');
	assert.deepEqual(samples, [
		{ name: 'x', labels: { a: 'q"uote', b: '2' }, value: 7 },
		{ name: 'z', labels: {}, value: 1000 },
	]);
});

test('counters from /metrics: collector drops by host, the hub’s losses under hub, not its successes or process metrics', () => {
	const names = countersFromMetrics(metrics({ userStackMissing: 1, framesCut: 2, window: 0 }, 5, 1)).map(
		(c) => `${c.source}/${c.name}=${c.value}`,
	);
	assert.deepEqual(names.sort(), [
		'hub/hub.browsersDropped=0',
		'hub/hub.hostsForgotten=0',
		'hub/hub.imports.refused=1',
		'hub/hub.liveRequestsThinned=4',
		'hub/hub.messagesRejected.invalid=1',
		'hub/hub.windowRepairs.frame_name_cut=3',
		'web-1/@windowsStored=5',
		'web-1/gpu.fooLost=0',
		'web-1/hubQueue.window=0',
		'web-1/profile.framesCut=2',
		'web-1/profile.userStackMissing=1',
	]);
});

test('rows: count, rate between snapshots, share of samples and of windows, meaning with a fallback', () => {
	const older = snapshot(10_000, metrics({ userStackMissing: 100, framesCut: 40, window: 0 }, 10, 0), 0);
	// 10 s later: 50 samples/s lost user stacks while 950 samples/s were counted; one window of 2 dropped.
	const newer = snapshot(20_000, metrics({ userStackMissing: 600, framesCut: 40, window: 1 }, 11, 1), 950);
	const rows = dropRows(newer, older);
	const row = (source: string, name: string) => rows.find((r) => r.source === source && r.name === name)!;

	const missing = row('web-1', 'profile.userStackMissing');
	assert.equal(missing.count, 600);
	assert.equal(missing.ratePerSec, 50);
	assert.equal(missing.share, 50 / 1000);
	assert.match(missing.meaning, /user-space stack/);

	const window = row('web-1', 'hubQueue.window');
	assert.equal(window.ratePerSec, 0.1);
	// 0.1 windows/s stored, 0.1 dropped: half of them.
	assert.equal(window.share, 0.5);

	const cut = row('web-1', 'profile.framesCut');
	assert.equal(cut.ratePerSec, 0);
	assert.equal(cut.share, null, 'cut frames are not a share of samples');

	assert.equal(row('hub', 'hub.messagesRejected.invalid').share, 0.1 / 0.2);
	assert.match(row('web-1', 'gpu.fooLost').meaning, /gpu feature/);
	assert.ok(!rows.some((r) => r.name.startsWith('@')), 'the windows stored are a denominator, not a row');

	// Losses first (moving, then counted), then what was kept (cut or unnamed), then zeros.
	assert.deepEqual(
		rows.map((r) => r.name),
		[
			'hub.messagesRejected.invalid',
			'hubQueue.window',
			'profile.userStackMissing',
			'hub.imports.refused',
			'hub.liveRequestsThinned',
			'hub.windowRepairs.frame_name_cut',
			'profile.framesCut',
			'hub.browsersDropped',
			'gpu.fooLost',
			'hub.hostsForgotten',
		],
	);
	assert.deepEqual(
		rows.filter((r) => !r.lost).map((r) => r.name),
		['hub.liveRequestsThinned', 'hub.windowRepairs.frame_name_cut', 'profile.framesCut', 'hub.hostsForgotten'],
	);
	// A kept counter that moves still comes after a loss that does not.
	const moved = dropRows(snapshot(30_000, metrics({ userStackMissing: 600, framesCut: 90, window: 1 }, 12, 1), 950), newer);
	assert.deepEqual(
		moved.slice(0, 6).map((r) => r.name),
		[
			'hub.imports.refused',
			'hub.messagesRejected.invalid',
			'hubQueue.window',
			'profile.userStackMissing',
			'profile.framesCut',
			'hub.liveRequestsThinned',
		],
	);
});

test('one snapshot, or a counter that went down (the collector restarted), has no rate or share', () => {
	const first = snapshot(0, metrics({ userStackMissing: 100, framesCut: 0, window: 0 }, 1, 0), 900);
	assert.ok(dropRows(first, null).every((r) => r.ratePerSec === null && r.share === null));
	const restarted = snapshot(5_000, metrics({ userStackMissing: 3, framesCut: 0, window: 0 }, 1, 0), 900);
	const row = dropRows(restarted, first).find((r) => r.name === 'profile.userStackMissing')!;
	assert.equal(row.count, 3);
	assert.equal(row.ratePerSec, null);
	assert.equal(row.share, null);
});

test('the header counts what was lost, not names cut or frames left unnamed', () => {
	assert.equal(
		lostTotal({
			'profile.stackCollisions': 4,
			'profile.missNoSymbol': 50_000,
			'profile.framesCut': 7,
			'tcp.ringBufferFull': 2,
			'new.thing': 1,
		}),
		7,
	);
});

test('every counter a collector or the hub names today has its own description', () => {
	for (const name of [
		'profile.countsMapFull',
		'profile.missNoProcess',
		'tcp.ringBufferFull',
		'tls.connFull',
		'hubQueue.window',
		'hub.windowRepairs.stack_dropped',
	]) {
		assert.doesNotMatch(describeDrop(name).meaning, /no description/, name);
	}
	assert.match(describeDrop('hub.messagesRejected.brand_new').meaning, /brand_new/);
});

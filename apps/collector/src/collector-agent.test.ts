import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { parseCollectorMessage, type CollectorMessage, type LiveStats } from '@firesight/protocol';
import { startCollector } from './collector-agent.ts';
import { UserError } from './command.ts';
import type { FeatureDefinition } from './feature.ts';

/** A WebSocket endpoint standing in for the hub: it only records what arrives. */
async function listener() {
	const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
	await new Promise((r) => wss.once('listening', r));
	const received: CollectorMessage[] = [];
	wss.on('connection', (ws) =>
		ws.on('message', (data) => {
			const parsed = parseCollectorMessage(data.toString());
			if (!parsed.ok) throw new Error(parsed.error);
			received.push(parsed.value);
		}),
	);
	const url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
	return { url, received, close: () => new Promise((r) => wss.close(r)) };
}

async function until<T>(what: string, get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = get();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

const broken: FeatureDefinition = {
	name: 'broken',
	title: 'Broken tracing',
	start() {
		throw new Error('no such hook');
	},
};

test('features run in one loop; one that cannot load is logged and reported, the rest run on', async (t) => {
	const hub = await listener();
	t.after(hub.close);
	const calls = { ticks: 0, windows: 0, started: [] as number[], stopped: false };
	const working: FeatureDefinition = {
		name: 'work',
		title: 'Work tracing',
		start: ({ host, send }) => ({
			tick: () => void calls.ticks++,
			processRows: (rows) => rows.map((r) => ({ ...r, requestsPerSec: 2 })),
			processStarted: (pid) => void calls.started.push(pid),
			window() {
				calls.windows++;
				send({ type: 'requestWindow', window: { host, startMs: 1000, durationMs: 1000, processes: [], endpoints: [] } });
			},
			drops: () => ({ ringBufferFull: 3 }),
			async stop() {
				calls.stopped = true;
			},
		}),
	};
	const lines: string[] = [];
	const agent = startCollector({
		hub: hub.url,
		token: 't',
		host: 'agent-host',
		tickMs: 50,
		windowMs: 120,
		features: [broken, working],
		log: (l) => lines.push(l),
	});
	assert.deepEqual(agent.features, { running: ['work'], failed: [{ name: 'broken', reason: 'no such hook' }] });
	assert.ok(lines.includes('Broken tracing is off: no such hook'), lines.join('\n'));
	assert.ok(calls.started.includes(process.pid), 'the feature hears of every process in the table');

	const stats = await until('live stats', () => hub.received.flatMap((m): LiveStats[] => (m.type === 'live' ? [m.stats] : [])).at(0));
	assert.equal(stats.host, 'agent-host');
	assert.deepEqual(stats.features, agent.features);
	assert.equal(stats.drops['work.ringBufferFull'], 3);
	assert.equal(stats.drops['hubQueue.window'], 0);
	assert.equal(stats.drops['hubQueue.live'], 0);
	// The first tick comes before the first window: nothing waits for the hub yet.
	assert.deepEqual(stats.spool, { messages: 0, bytes: 0 });
	assert.ok(stats.processes.length > 0 && stats.processes.every((p) => p.requestsPerSec === 2), 'rows pass through the feature');
	await until('a window', () => (hub.received.some((m) => m.type === 'requestWindow') ? true : undefined));
	assert.ok(calls.ticks >= 1 && calls.windows >= 1);
	await agent.stop();
	assert.ok(calls.stopped);
});

test('the agent fails, in one line, only when no feature could start', async (t) => {
	const hub = await listener();
	t.after(hub.close);
	assert.throws(
		() => startCollector({ hub: hub.url, token: 't', features: [broken], log: () => {} }),
		(err: Error) => err instanceof UserError && err.message === 'no signal could start: broken: no such hook',
	);
});

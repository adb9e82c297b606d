import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '@firesight/api';
import { limits } from '@firesight/protocol';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { TestCollector, withTestHub } from './hub-test-harness.ts';

const TOKEN = 'repair-test-token';

/** A demangled C++ name as deep template code produces them, past 5,000 characters. */
const longName = `std::_Function_handler<void (${'std::tuple<std::vector<std::pair<std::string, std::map<int, double>>>>, '.repeat(70)}int), Lambda>::_M_invoke(std::_Any_data const&)`;

test('a 5,000-character frame name costs the name its start, not the host its window', () =>
	withTestHub({ token: TOKEN }, async (hub) => {
		assert.ok(longName.length > 5000);
		const collector = await TestCollector.open(hub, TOKEN);
		const now = Date.now();
		assert.equal((await collector.send(JSON.stringify({ type: 'hello', host: 'box', version: 't', frequencyHz: 99 }))).type, 'ack');
		const reply = await collector.send(
			JSON.stringify({
				type: 'profile',
				window: profileWindow(
					'box',
					now - 10_000,
					userFrames('app', 'main', longName, 'short'),
					[
						{ pid: 7, comm: 'app', stack: [0, 1], weight: 60 },
						{ pid: 7, comm: 'app', stack: [0, 2], weight: 40 },
					],
					{ frequencyHz: 99 },
				),
			}),
		);
		assert.deepEqual(reply, { type: 'ack', accepted: 2 }, 'the window is acknowledged');

		const trpc = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hub.url}/trpc` })] });
		const flame = await trpc.profile.flame.query({ fromMs: now - 60_000, toMs: now + 1000, minFraction: 0 });
		assert.equal(flame.totalSamples, 100);
		const cut = flame.topFunctions.find((f) => f.name.endsWith('::_M_invoke(std::_Any_data const&)'));
		assert.ok(cut, 'the long name is stored, cut');
		assert.equal(cut.self, 60);
		assert.equal(cut.name.length, limits.frameName);
		assert.ok(cut.name.startsWith('…'));

		const metrics = await (await fetch(`${hub.url}/metrics`)).text();
		assert.match(metrics, /firesight_hub_window_repairs_total\{reason="frame_name_cut"\} 1\b/);
		assert.match(metrics, /firesight_hub_windows_ingested_total\{host="box"\} 1\b/);
		collector.ws.terminate();
	}));

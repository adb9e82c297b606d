import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totalWeight } from '@firesight/profile';
import { T0, withStorage, type BackendUnderTest } from './backend.ts';

/**
 * A range may end (or start) far past any stored time: a client asking for "everything" with
 * toMs = 2^50 gets what a range ending tomorrow gets, on every backend. ClickHouse once wrote
 * such a bound's day as a date its toDate() cannot read and returned nothing.
 */
const FAR_ENDS = [Date.UTC(2105, 11, 31, 12), Date.UTC(2106, 0, 1), 2 ** 32 * 1000, 2 ** 50, Number.MAX_SAFE_INTEGER];

export function farBoundsConformance(backend: BackendUnderTest): void {
	const title = (what: string) => `${backend.name} far bounds: ${what}`;

	test(title('a range ending far in the future holds the windows a near end holds'), () =>
		withStorage(backend, {}, async ({ storage: { profiles, connections } }) => {
			await profiles.insertWindow({
				host: 'a',
				startMs: T0,
				durationMs: 10_000,
				frequencyHz: 100,
				frames: [{ name: 'main', module: 'app', kind: 'user' }],
				samples: [{ pid: 1, comm: 'app', stack: [0], weight: 3 }],
			});
			await connections.insertWindow({
				host: 'a',
				startMs: T0,
				durationMs: 10_000,
				connections: [
					{
						cookie: '1',
						pid: 1,
						comm: 'app',
						family: 4,
						saddr: '10.0.0.1',
						sport: 40000,
						daddr: '10.0.0.2',
						dport: 443,
						state: 'ESTABLISHED',
						retransmits: 4,
						firstRetransmitAt: null,
						lastRetransmitAt: null,
					},
				],
			});
			for (const toMs of [T0 + 20_000, ...FAR_ENDS]) {
				const merged = await profiles.query({ fromMs: 0, toMs });
				assert.equal(merged.windows, 1, `profile windows up to ${toMs}`);
				assert.equal(totalWeight(merged.profile), 3, `profile samples up to ${toMs}`);
				assert.deepEqual(
					(await connections.query({ fromMs: 0, toMs })).map((c) => c.retransmits),
					[4],
					`retransmits up to ${toMs}`,
				);
			}
		}),
	);
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PROFILE_COUNTERS } from '@firesight/native';
import { DROP_DESCRIPTIONS } from '@firesight/web/drop-descriptions';
import { SYMBOLIZER_DROPS } from './profiling/profiling-feature.ts';
import { tlsDrops } from './tls/tls-feature.ts';
import type { TlsCaptureCounters } from './tls/tls-capture.ts';

/** An object whose every field reads 0: the counters of a capture that saw nothing. */
const zeros = <T extends object>(): T => new Proxy({}, { get: () => 0 }) as T;

/**
 * The drops panel names what each counter means. A counter added to a C enum or to a feature's
 * drops without a description would show there as "no description yet": this names it first.
 */
test('every loss counter the profile and TLS features report has a description in the drops panel', () => {
	const tls = Object.keys(
		tlsDrops({ kernel: zeros(), discovery: zeros(), connections: zeros(), requests: 0, otherProtocolBytes: 0 } as TlsCaptureCounters, 0, {
			samplesUnattributed: 0,
			requestsForgotten: 0,
			samplesLifetimeCut: 0,
		}),
	).map((name) => `tls.${name}`);
	// `samples` is the total the others are a share of, not a loss.
	const profile = [...PROFILE_COUNTERS.filter((name) => name !== 'samples'), ...SYMBOLIZER_DROPS].map((name) => `profile.${name}`);
	assert.ok(tls.length > 20 && profile.length > 10, `${tls.length} TLS and ${profile.length} profile counters`);
	assert.deepEqual(
		[...profile, ...tls].filter((name) => DROP_DESCRIPTIONS[name] === undefined),
		[],
		'counters without a description',
	);
});

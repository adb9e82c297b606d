import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProfileBuilder, type Frame, type ProfileSample } from '@firesight/profile';
import { readClocks } from './monotonic-clock.ts';
import { RequestAttribution } from './request-attribution.ts';

const frame = (name: string): Frame => ({ name, module: 'm', kind: 'user' });
const builder = () => new ProfileBuilder({ startMs: 0, durationMs: 0, frequencyHz: 100 });
const MS = 1_000_000n;

/** Holds `weight` samples of a one-frame stack named `name`, stamped with `request`. */
function hold(a: RequestAttribution, b: ProfileBuilder, name: string, weight: number, request: number, ambiguous = false, pid = 7): void {
	a.hold(b, [b.frames.intern(frame(name))], weight, { pid, comm: 'srv' }, request, ambiguous);
}

function labelsOf(samples: readonly ProfileSample[]) {
	return samples.map((s) => ({ weight: s.weight, endpoint: s.endpoint, requestId: s.requestId, ambiguous: s.ambiguous }));
}

test('an answered request labels its samples with its endpoint; its id only when it was slow', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const now = readClocks().ns;
	a.requestStarted(1, 7, now - 2000n * MS, 'GET /slow');
	a.requestStarted(2, 7, now - 10n * MS, 'GET /fast');
	// Two fast ones on one endpoint: the p99 of its window is the slower, which keeps its id too.
	a.requestStarted(3, 7, now - 5n * MS, 'GET /fast');
	assert.equal(a.requestFinished(7, now - 2000n * MS, 'GET /slow', 1500), 'b:1');
	assert.equal(a.requestFinished(7, now - 10n * MS, 'GET /fast', 2), 'b:2');
	assert.equal(a.requestFinished(7, now - 5n * MS, 'GET /fast', 3), 'b:3');
	assert.equal(a.requestFinished(7, now, 'GET /other', 1), undefined, 'a request the kernel gave no id');
	const b = builder();
	hold(a, b, 'f', 3, 1);
	hold(a, b, 'f', 2, 2, true);
	hold(a, b, 'f', 1, 3);
	a.flush(b);
	assert.deepEqual(labelsOf(b.build().samples), [
		{ weight: 3, endpoint: 'GET /slow', requestId: 'b:1', ambiguous: undefined },
		{ weight: 2, endpoint: 'GET /fast', requestId: undefined, ambiguous: true },
		{ weight: 1, endpoint: 'GET /fast', requestId: 'b:3', ambiguous: undefined },
	]);
	assert.equal(a.stats.samplesUnattributed, 0);
});

test('samples of a request not known yet wait one window, then are labelled or counted, never guessed', () => {
	const a = new RequestAttribution({ boot: 'b' });
	const now = readClocks().ns;
	const first = builder();
	hold(a, first, 'early', 4, 10);
	hold(a, first, 'lost', 5, 11);
	a.flush(first);
	assert.equal(first.build().samples.length, 0, 'nothing labelled before its request is known');
	// The request's parse arrives after the window closed.
	a.requestStarted(10, 7, now, 'POST /late');
	a.requestFinished(7, now, 'POST /late', 1);
	const second = builder();
	a.flush(second);
	const out = second.build();
	assert.deepEqual(
		out.samples.map((s) => [out.frames[s.stack[0]!]!.name, s.weight, s.endpoint]),
		[
			['early', 4, 'POST /late'],
			['lost', 5, undefined],
		],
	);
	assert.equal(a.stats.samplesUnattributed, 5);
});

test('a young open request waits; a long open one is slow already; a stamp from another process is not trusted', () => {
	const a = new RequestAttribution({ boot: 'b', slowMs: 500 });
	const now = readClocks().ns;
	a.requestStarted(20, 7, now, 'GET /young');
	a.requestStarted(21, 7, now - 5000n * MS, 'GET /long');
	const b = builder();
	hold(a, b, 'y', 1, 20);
	hold(a, b, 'l', 2, 21);
	hold(a, b, 'x', 3, 21, false, 8);
	a.flush(b);
	assert.deepEqual(labelsOf(b.build().samples), [{ weight: 2, endpoint: 'GET /long', requestId: 'b:21', ambiguous: undefined }]);
	const last = builder();
	a.flush(last, true);
	assert.deepEqual(labelsOf(last.build().samples), [
		{ weight: 1, endpoint: 'GET /young', requestId: undefined, ambiguous: undefined },
		{ weight: 3, endpoint: undefined, requestId: undefined, ambiguous: undefined },
	]);
	assert.equal(a.stats.samplesUnattributed, 3);
});

test('requests are bounded: the oldest are forgotten and counted', () => {
	const a = new RequestAttribution({ maxRequests: 2 });
	const now = readClocks().ns;
	for (let i = 1; i <= 3; i++) a.requestStarted(i, 7, now + BigInt(i), 'GET /');
	assert.equal(a.size, 2);
	assert.equal(a.stats.requestsForgotten, 1);
	assert.equal(a.requestFinished(7, now + 1n, 'GET /', 1), undefined);
	assert.equal(a.requestFinished(7, now + 3n, 'GET /', 1), `${a.boot}:3`);
});

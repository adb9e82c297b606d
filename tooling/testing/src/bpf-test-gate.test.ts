import assert from 'node:assert/strict';
import { afterEach, test, type TestContext } from 'node:test';
import { bpfSkip, skipUnless } from './bpf-test-gate.ts';

const saved = process.env.FIRESIGHT_REQUIRE_BPF;
afterEach(() => {
	if (saved === undefined) delete process.env.FIRESIGHT_REQUIRE_BPF;
	else process.env.FIRESIGHT_REQUIRE_BPF = saved;
});

/** Records what the gate asked to skip, instead of skipping the test that checks it. */
function recorder(): { t: TestContext; skipped: string[] } {
	const skipped: string[] = [];
	return { t: { skip: (message?: string) => void skipped.push(message ?? '') } as unknown as TestContext, skipped };
}

test('a missing prerequisite skips, and says which', () => {
	delete process.env.FIRESIGHT_REQUIRE_BPF;
	const { t, skipped } = recorder();
	assert.equal(skipUnless(t, undefined, 'needs nft'), false);
	assert.deepEqual(skipped, ['needs nft']);
	const skip = bpfSkip('needs nft');
	assert.ok(typeof skip === 'string' && skip.includes('needs'), `skip reason: ${skip}`);
});

test('with FIRESIGHT_REQUIRE_BPF=1 a missing prerequisite fails instead', () => {
	process.env.FIRESIGHT_REQUIRE_BPF = '1';
	const { t, skipped } = recorder();
	assert.throws(() => skipUnless(t, undefined, 'needs nft'), /FIRESIGHT_REQUIRE_BPF=1 but this test needs nft/);
	assert.throws(() => bpfSkip('needs nft'), /FIRESIGHT_REQUIRE_BPF=1 but this test needs/);
	assert.deepEqual(skipped, []);
});

test('nothing missing: the test goes on', () => {
	process.env.FIRESIGHT_REQUIRE_BPF = '1';
	const { t, skipped } = recorder();
	assert.equal(skipUnless(t, undefined, undefined), true);
	assert.deepEqual(skipped, []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { foldedStacks, runCommand, startWorkload } from '@firesight/testing/workloads';

/*
 * OpenSSL's AES-NI assembly (in node's own OpenSSL) keeps its entry rsp in r11 while it realigns
 * the stack, and its CFI says so: CFA = r11 + 8. A sample in it must walk on to its callers, as
 * perf --call-graph dwarf does, not end at the leaf (the walker counted it unwindRuleUnsupported,
 * and 'auto' went on by frame pointers into a broken chain: unwindFramePointerLost).
 */

const firesightBin = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

/** Encrypts 1 MiB with AES-128-CTR again and again. */
const AES_LOOP = `
const crypto = require('node:crypto');
const data = Buffer.alloc(1 << 20, 7);
const key = Buffer.alloc(16, 1);
const iv = Buffer.alloc(16, 2);
console.log('ready');
for (;;) crypto.createCipheriv('aes-128-ctr', key, iv).update(data);
`;

test("OpenSSL's AES-NI code (CFA from r11) is walked through to its callers in dwarf mode", async (t) => {
	if (!skipUnlessBpf(t)) return;
	const w = await startWorkload(process.execPath, ['-e', AES_LOOP]);
	t.after(w.stop);
	const folded = await runCommand(process.execPath, [
		firesightBin,
		'record',
		'--pid',
		String(w.pid),
		'--duration',
		'4',
		'--frequency',
		'499',
		'--unwind',
		'dwarf',
		'--format',
		'folded',
	]);
	const inAes = foldedStacks(folded).filter((s) => s.frames.at(-1)?.startsWith('aesni_ctr32_encrypt_blocks'));
	const total = inAes.reduce((n, s) => n + s.count, 0);
	// Its callers: OpenSSL's EVP layer, then node's CipherBase (where V8's builtins, which have
	// no tables, end a dwarf walk).
	const whole = inAes.filter((s) => s.frames.includes('EVP_CipherUpdate')).reduce((n, s) => n + s.count, 0);
	const example = inAes.sort((a, b) => b.count - a.count)[0]?.frames.join(';');
	t.diagnostic(`${whole} of ${total} samples in aesni_ctr32_encrypt_blocks reached EVP_CipherUpdate; e.g. ${example ?? '(none)'}`);
	assert.ok(total >= 20, `only ${total} samples in aesni_ctr32_encrypt_blocks: ${example ?? '(none)'}`);
	assert.ok(whole >= 0.9 * total, `${whole} of ${total} reached EVP_CipherUpdate: ${example ?? '(none)'}`);
});

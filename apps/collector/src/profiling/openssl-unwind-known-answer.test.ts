import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skipUnlessBpf } from '@firesight/testing/bpf-test-gate';
import { foldedStacks, runCommand, startWorkload } from '@firesight/testing/workloads';

/*
 * OpenSSL's AES-NI assembly (in node's own OpenSSL) keeps its entry rsp in r11 while it realigns
 * the stack, and its CFI says so: CFA = r11 + 8. A sample in it must walk on to its callers, as
 * perf --call-graph dwarf does, not end at the leaf (the walker counted it unwindRuleUnsupported,
 * and 'auto' went on by frame pointers into a broken chain: unwindFramePointerLost). Its AES-GCM
 * keeps it in rax (CFA = rax + 8) across calls to a leaf, _aesni_ctr32_ghash_6x, that leaves rax
 * alone: a sample in the leaf walks on through aesni_gcm_decrypt with the rax the leaf left (perf's
 * walk, which takes rax as lost in a caller, ends there; the program's own calls are the answer).
 * Its SHA-512 (AVX2) saves the entry rsp on the stack it realigned, and its CFI says so by an
 * expression: CFA = *(rsp + N) + 8.
 */

const firesightBin = fileURLToPath(new URL('../../bin/firesight.js', import.meta.url));

/** Encrypts 1 MiB with AES-128-CTR, decrypts it with AES-128-GCM and hashes a quarter of it with SHA-512, again and again. */
const AES_LOOP = `
const crypto = require('node:crypto');
const data = Buffer.alloc(1 << 20, 7);
const key = Buffer.alloc(16, 1);
const iv = Buffer.alloc(16, 2);
console.log('ready');
for (;;) {
	crypto.createCipheriv('aes-128-ctr', key, iv).update(data);
	crypto.createDecipheriv('aes-128-gcm', key, iv.subarray(0, 12)).update(data);
	crypto.createHash('sha512').update(data.subarray(0, 1 << 18));
}
`;

test("OpenSSL's AES-NI and SHA-512 code (CFA from r11, from rax in a leaf's caller, or from an rsp saved on the stack) is walked through to its callers in dwarf mode", async (t) => {
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
	const stacks = foldedStacks(folded);
	// Its callers: OpenSSL's EVP layer, then node's CipherBase (where V8's builtins, which have
	// no tables, end a dwarf walk).
	const assertReached = (leaf: string, callers: string[]) => {
		const inLeaf = stacks.filter((s) => s.frames.at(-1)?.startsWith(leaf));
		const total = inLeaf.reduce((n, s) => n + s.count, 0);
		const whole = inLeaf.filter((s) => callers.every((c) => s.frames.some((f) => f.includes(c)))).reduce((n, s) => n + s.count, 0);
		const example = inLeaf.sort((a, b) => b.count - a.count)[0]?.frames.join(';');
		const summary = `${whole} of ${total} samples in ${leaf} reached ${callers.join(' and ')}; e.g. ${example ?? '(none)'}`;
		t.diagnostic(summary);
		assert.ok(total >= 20, summary);
		assert.ok(whole >= 0.9 * total, summary);
	};
	assertReached('aesni_ctr32_encrypt_blocks', ['EVP_CipherUpdate']);
	assertReached('_aesni_ctr32_ghash_6x', ['aesni_gcm_decrypt', 'EVP_DecryptUpdate']);
	// EVP_DigestUpdate tail-calls SHA512_Update: no frame of its own.
	assertReached('sha512_block_data_order_avx2', ['SHA512_Update', 'node::crypto::Hash::HashUpdate']);
});

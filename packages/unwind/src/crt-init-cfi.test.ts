import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crtSectionFde } from './crt-init-cfi.ts';
import { runCfaProgram } from './cfa-program.ts';
import { formatRule } from './unwind-rule.ts';

const POINTER_BASES = { text: 0, data: 0, section: 0, load: () => undefined };

/** crti's and crtn's halves of node's `_init`, with OpenSSL's call between. */
const NODE_INIT = Uint8Array.from([
	...[0xf3, 0x0f, 0x1e, 0xfa], // endbr64
	...[0x48, 0x83, 0xec, 0x08], // sub $8,%rsp
	...[0x48, 0x8b, 0x05, 0x71, 0xef, 0xac, 0x04], // mov __gmon_start__@GOTPCREL(%rip),%rax
	...[0x48, 0x85, 0xc0], // test %rax,%rax
	...[0x74, 0x02], // je +2
	...[0xff, 0xd0], // call *%rax
	...[0xe8, 0x55, 0x68, 0x06, 0x01], // call OPENSSL_cpuid_setup
	...[0x48, 0x83, 0xc4, 0x08], // add $8,%rsp
	0xc3, // ret
]);

function rulesOf(code: Uint8Array, addr: number): string[] {
	const fde = crtSectionFde(code, addr);
	assert.ok(fde, 'crti shape recognised');
	const rows = runCfaProgram(fde, POINTER_BASES);
	return rows.pcs.map((pc, i) => `${pc.toString(16)} ${formatRule(rows.rules[i]!)}`);
}

test("crti's _init: rsp+8 at entry, rsp+16 from the sub to the add (every return address of its calls), rsp+8 at the ret", () => {
	assert.deepEqual(rulesOf(NODE_INIT, 0xb6f000), [
		'b6f000 rsp+8 rbp=same ra=c-8',
		'b6f008 rsp+16 rbp=same ra=c-8',
		'b6f01f rsp+8 rbp=same ra=c-8',
	]);
	// Without endbr64 (libcrypto's), the frame starts 4 bytes earlier.
	assert.deepEqual(rulesOf(NODE_INIT.subarray(4), 0xc5000), [
		'c5000 rsp+8 rbp=same ra=c-8',
		'c5004 rsp+16 rbp=same ra=c-8',
		'c501b rsp+8 rbp=same ra=c-8',
	]);
});

test('a section of another shape gets no rule: nothing is assumed', () => {
	const pushRbp = Uint8Array.from([0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3]);
	assert.equal(crtSectionFde(pushRbp, 0x1000), undefined);
	// crti's start without crtn's end.
	assert.equal(crtSectionFde(NODE_INIT.subarray(0, NODE_INIT.length - 1), 0x1000), undefined);
	assert.equal(crtSectionFde(new Uint8Array(), 0x1000), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenMain, toArrayBuffer } from '@firesight/testing/golden-c';
import {
	decodeCounters,
	decodeCounts,
	decodeDeferred,
	decodeStacks,
	PROFILE_COUNT_SIZE,
	PROFILE_COUNTERS,
	PROFILE_DEFERRED_HEAD_SIZE,
} from './profile-records.ts';

/** Compiles a main() against bpf/profile.h and returns what it writes: the golden bytes come from the C compiler. */
const cBytes = (body: string) => goldenMain('profile.h', body);

test('struct profile_count decodes field by field as C lays it out', () => {
	const bytes = cBytes(`
		struct profile_count r[2];
		memset(r, 0, sizeof(r));
		r[0].key.pid = 4242; r[0].key.user_stack_id = 7; r[0].key.kern_stack_id = -14;
		strcpy(r[0].key.comm, "worker-1"); r[0].count = 123456789012ULL;
		r[1].key.pid = 1; r[1].key.user_stack_id = -17; r[1].key.kern_stack_id = 99;
		memcpy(r[1].key.comm, "exactly16charsxx", 16); r[1].count = 1;
		dump(r, sizeof(r));`);
	assert.equal(bytes.length, 2 * PROFILE_COUNT_SIZE);
	assert.deepEqual(decodeCounts(toArrayBuffer(bytes)), [
		{ pid: 4242, userStackId: 7, kernelStackId: -14, comm: 'worker-1', count: 123456789012 },
		{ pid: 1, userStackId: -17, kernelStackId: 99, comm: 'exactly16charsxx', count: 1 },
	]);
});

test('the request stamp of a sample decodes into its id and whether it was ambiguous', () => {
	const bytes = cBytes(`
		struct profile_count r[2];
		memset(r, 0, sizeof(r));
		r[0].key.pid = 7; r[0].key.request_id = 0x80000000U | 77; r[0].count = 2;
		r[1].key.pid = 7; r[1].key.request_id = 78; r[1].count = 3;
		dump(r, sizeof(r));`);
	const [a, b] = decodeCounts(toArrayBuffer(bytes));
	assert.deepEqual([a?.requestId, a?.requestAmbiguous], [77, true]);
	assert.deepEqual([b?.requestId, b?.requestAmbiguous], [78, undefined]);
});

test('stack records decode in order as C lays them out', () => {
	const stacks = cBytes(`
		struct profile_stack_head h;
		__u64 ips[2] = {0xffffffff81000010ULL, 0x401000ULL};
		memset(&h, 0, sizeof(h));
		h.id = 5; h.nr = 2; dump(&h, sizeof(h)); dump(ips, sizeof(ips));
		h.id = 6; h.nr = 0; dump(&h, sizeof(h));
		h.id = -3; h.nr = 1; dump(&h, sizeof(h)); dump(&ips[1], sizeof(ips[1]));`);
	const decoded = decodeStacks(toArrayBuffer(stacks));
	assert.deepEqual(
		[...decoded],
		[
			[5, [0xffffffff81000010n, 0x401000n]],
			[6, []],
			[-3, [0x401000n]],
		],
	);
});

test('counters decode in enum order as C lays them out', () => {
	const counters = cBytes(`unsigned long long c[PROFILE_COUNTER_MAX];
		for (int i = 0; i < PROFILE_COUNTER_MAX; i++) c[i] = 100 + i;
		dump(c, sizeof(c));`);
	assert.equal(counters.length, PROFILE_COUNTERS.length * 8, 'enum profile_counter and PROFILE_COUNTERS differ in length');
	assert.deepEqual(
		Object.values(decodeCounters(toArrayBuffer(counters))),
		PROFILE_COUNTERS.map((_, i) => 100 + i),
	);
});

test('a truncated batch is an error, not a silent short read', () => {
	assert.throws(() => decodeCounts(new ArrayBuffer(PROFILE_COUNT_SIZE + 1)), /not a multiple/);
	const bad = Buffer.alloc(8);
	bad.writeUInt32LE(3, 4);
	assert.throws(() => decodeStacks(toArrayBuffer(bad)), /past the batch end/);
	assert.throws(() => decodeStacks(new ArrayBuffer(4)), /truncated stack record header/);
});

test('a counters buffer shorter or longer than the enum throws instead of reading as zero drops', () => {
	const full = PROFILE_COUNTERS.length * 8;
	assert.throws(() => decodeCounters(new ArrayBuffer(full - 8)), /profile counters buffer is \d+ bytes, expected \d+/);
	assert.throws(() => decodeCounters(new ArrayBuffer(0)), /expected/);
	assert.throws(() => decodeCounters(new ArrayBuffer(full + 8)), /expected/);
	assert.equal(decodeCounters(new ArrayBuffer(full)).countsMapFull, 0);
});

test('deferred sample records decode as C lays them out, each cut after the stack bytes it read (as the addon appends them)', () => {
	// Two records as profiler.cc's AppendDeferred writes them: the head, then stack_len bytes.
	const bytes = cBytes(`
		static struct profile_deferred r;
		size_t head = (size_t)((char *)r.stack - (char *)&r);
		memset(&r, 0, sizeof(r));
		r.pc = 0x401234; r.sp = 0x7ffd0000; r.pid = 4242; r.request_id = 0x80000000U | 9;
		r.kern_nr = 2; r.kern_ips[0] = 0xffffffff81000010ULL; r.kern_ips[1] = 0xffffffff81000020ULL;
		r.stack_len = 3; r.stack[0] = 0xaa; r.stack[2] = 0xcc; strcpy(r.comm, "split-60-40");
		if (head != ${PROFILE_DEFERRED_HEAD_SIZE}) return 1;
		dump(&r, head + r.stack_len);
		memset(&r, 0, sizeof(r));
		r.pid = 7; r.stack_len = 0; strcpy(r.comm, "b");
		dump(&r, head);`);
	const [a, b, ...rest] = decodeDeferred(toArrayBuffer(bytes));
	assert.equal(rest.length, 0);
	assert.deepEqual(
		{ ...a, record: [...(a?.record ?? [])].slice(PROFILE_DEFERRED_HEAD_SIZE) },
		{
			pid: 4242,
			comm: 'split-60-40',
			requestId: 9,
			requestAmbiguous: true,
			kernelIps: [0xffffffff81000010n, 0xffffffff81000020n],
			record: [0xaa, 0, 0xcc],
		},
	);
	assert.equal(a?.record.length, PROFILE_DEFERRED_HEAD_SIZE + 3);
	assert.deepEqual([b?.pid, b?.comm, b?.kernelIps, b?.record.length], [7, 'b', [], PROFILE_DEFERRED_HEAD_SIZE]);
	assert.throws(() => decodeDeferred(toArrayBuffer(bytes.subarray(0, bytes.length - 1))), /past the batch end|truncated/);
});

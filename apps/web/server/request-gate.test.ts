import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestGate } from './request-gate.ts';

test('the gate lets `slots` in, queues up to its limit, refuses the rest, and a waiter that gives up leaves', async () => {
	const gate = new RequestGate(2, 1);
	const never = new AbortController().signal;
	const a = await gate.enter(never);
	const b = await gate.enter(never);
	assert.ok(a && b);
	const giveUp = new AbortController();
	const waiting = gate.enter(giveUp.signal);
	assert.equal(await gate.enter(never), null, 'the queue is full');
	giveUp.abort();
	assert.equal(await waiting, null);
	const c = gate.enter(never);
	let cIn = false;
	void c.then(() => (cIn = true));
	await new Promise((r) => setImmediate(r));
	assert.equal(cIn, false, 'no slot is free yet');
	a();
	const release = await c;
	assert.ok(release);
	b();
	release();
	assert.ok(await gate.enter(never));
	assert.ok(await gate.enter(never));
});

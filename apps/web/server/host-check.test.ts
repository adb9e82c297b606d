import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { allowedHostNames, hostAllowed, hostName, isLoopback, originAllowed } from './host-check.ts';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

test('Host headers are read as a name without port, or refused when malformed', () => {
	assert.equal(hostName('127.0.0.1:7300'), '127.0.0.1');
	assert.equal(hostName('[::1]:7300'), '::1');
	assert.equal(hostName('LocalHost.'), 'localhost');
	assert.equal(hostName('example.com'), 'example.com');
	for (const bad of [undefined, '', '::1', 'a b', 'user@127.0.0.1', '[nope]:1', '[abc]:1', '127.0.0.1:7300/x', 'x:123456']) {
		assert.equal(hostName(bad), null, String(bad));
	}
});

test('a hub on loopback answers to loopback names and the ones it is given, and nothing else', () => {
	const names = allowedHostNames('127.0.0.1', ['Hub.Example']);
	for (const ok of ['127.0.0.1:7300', 'localhost:7300', '[::1]:7300', 'hub.example', 'HUB.EXAMPLE:80'])
		assert.ok(hostAllowed(req({ host: ok }), names), ok);
	for (const no of ['attacker.example', 'attacker.example:7300', '127.0.0.2:7300', ''])
		assert.ok(!hostAllowed(req({ host: no }), names), no);
	assert.ok(!hostAllowed(req({}), names));
	assert.ok(allowedHostNames('0.0.0.0').size > 3, 'a wildcard listen adds this machine’s addresses');
});

test('Origin must be the hub itself when present', () => {
	assert.ok(originAllowed(req({ host: '127.0.0.1:7300' })));
	assert.ok(originAllowed(req({ host: '127.0.0.1:7300', origin: 'http://127.0.0.1:7300' })));
	assert.ok(!originAllowed(req({ host: '127.0.0.1:7300', origin: 'http://127.0.0.1:7301' })));
	assert.ok(!originAllowed(req({ host: '127.0.0.1:7300', origin: 'http://attacker.example' })));
	assert.ok(!originAllowed(req({ host: '127.0.0.1:7300', origin: 'null' })));
});

test('loopback is 127/8, ::1 and localhost', () => {
	for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(isLoopback(h), h);
	for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com']) assert.ok(!isLoopback(h), h);
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from './free-port.ts';

test('free ports lie below the ephemeral range, where no connect() is given them, and can be bound', async () => {
	const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
	for (let i = 0; i < 50; i++) {
		const port = await freePort();
		assert.ok(port >= 1024 && port < low, `port ${port} is not below the ephemeral range (from ${low})`);
		const server = createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, '127.0.0.1', resolve);
		});
		await new Promise((resolve) => server.close(resolve));
	}
});

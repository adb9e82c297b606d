import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports below the kernel's ephemeral range to draw from; wide enough that files running side by side rarely draw the same. */
const SPAN = 10_000;

/**
 * A port on 127.0.0.1 for a server that a test starts (often in a child process) after this
 * returns. It is drawn below the kernel's ephemeral range (`ip_local_port_range`): a port there is
 * never given to a `connect()`, so the many client sockets of tests running beside this one cannot
 * take it before the server binds it, as they can a port bound to 0 and released. Each draw is
 * checked free by binding it.
 */
export async function freePort(): Promise<number> {
	const low = ephemeralLow();
	const from = Math.max(1024, low - SPAN);
	for (let tries = 0; tries < 100 && from < low; tries++) {
		const port = from + Math.floor(Math.random() * (low - from));
		if (await bindable(port)) return port;
	}
	throw new Error(`no free port found in ${from}–${low - 1}, below the ephemeral range`);
}

function ephemeralLow(): number {
	try {
		return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
	} catch {
		return 32768;
	}
}

function bindable(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

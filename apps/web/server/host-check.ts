import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
	const h = host.toLowerCase().replace(/^\[|\]$/g, '');
	return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

function normalize(name: string): string {
	return name
		.toLowerCase()
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '');
}

/**
 * The names a browser may use to reach this hub: loopback names, the listen address, and
 * `extra` (DNS names the hub is known by). A wildcard listen (0.0.0.0, ::) adds this machine's
 * interface addresses and host name, which is what a LAN client types.
 */
export function allowedHostNames(listenHost: string, extra: readonly string[] = []): Set<string> {
	const names = new Set(['localhost', '127.0.0.1', '::1', normalize(listenHost), ...extra.map(normalize)]);
	if (listenHost === '0.0.0.0' || listenHost === '::' || listenHost === '') {
		names.add(normalize(hostname()));
		for (const list of Object.values(networkInterfaces())) {
			for (const a of list ?? []) names.add(normalize(a.address));
		}
	}
	return names;
}

/** The name part of a Host header (`example.com:7300`, `[::1]:7300`), lower-cased; null when malformed. */
export function hostName(header: string | undefined): string | null {
	if (!header) return null;
	const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/@]+))(?::(\d{1,5}))?$/.exec(header.trim());
	if (!m) return null;
	const name = m[1] ?? m[2]!;
	if (m[1] !== undefined && isIP(m[1]) !== 6) return null;
	return normalize(name);
}

/**
 * DNS rebinding: an attacker's name resolving to 127.0.0.1 reaches the hub with their name in
 * Host. Only names the hub listens on are served.
 */
export function hostAllowed(req: IncomingMessage, names: ReadonlySet<string>): boolean {
	const name = hostName(req.headers.host);
	return name !== null && names.has(name);
}

/**
 * Cross-site requests: a page elsewhere may make the browser open `/live` or post to the hub,
 * with the browser's cookies. Browsers always say where such a request comes from in Origin;
 * it must be this hub (the Host the request was sent to). Clients that are not browsers send
 * no Origin and pass.
 */
export function originAllowed(req: IncomingMessage): boolean {
	const origin = req.headers.origin;
	if (origin === undefined) return true;
	let host: string;
	try {
		host = new URL(origin).host;
	} catch {
		return false; // includes `Origin: null` from sandboxed frames and file: pages
	}
	return host !== '' && host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
}

import type { IncomingMessage } from 'node:http';

/**
 * The URL a request names, read against the hub; null for a target the URL parser refuses, such
 * as `//` (a scheme-relative URL without a host), which the caller answers with a 400. Thrown
 * instead, it made a plain request a 500 and ended the hub's process from the upgrade listener.
 */
export function requestTarget(req: IncomingMessage): URL | null {
	try {
		return new URL(req.url ?? '/', 'http://hub');
	} catch {
		return null;
	}
}

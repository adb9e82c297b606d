import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { quote, UsageError } from './command.ts';

export interface ListenAddress {
	host: string;
	port: number;
}

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, the last not all digits. */
const HOSTNAME = /^(?=.{1,253}\.?$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

/**
 * `--listen ADDR:PORT` (or `[v6]:PORT`, or `:PORT` for the default address) as a zod schema. The
 * address must be an IP address or a well-formed host name; whether a name resolves is checked by
 * resolveListen, which needs the network.
 */
export function listenAddress(fallback: ListenAddress) {
	const message = 'must be ADDR:PORT with a port from 1 to 65535, e.g. 127.0.0.1:7300 or [::1]:7300';
	return z
		.string()
		.transform((text, ctx): ListenAddress => {
			const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text.trim());
			const port = Number(m?.[3]);
			const host = m?.[1] ?? (m?.[2] || fallback.host);
			if (!m || port < 1 || port > 65535) {
				ctx.addIssue({ code: 'custom', message });
				return z.NEVER;
			}
			if (m[1] !== undefined ? isIP(host) !== 6 : isIP(host) === 0 && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) {
				ctx.addIssue({ code: 'custom', message: `has no valid address: ${quote(host)} is neither an IP address nor a host name` });
				return z.NEVER;
			}
			return { host, port };
		})
		.default({ ...fallback });
}

/** Checks that a host name in --listen resolves, so a typo is refused before anything starts. */
export async function resolveListen(listen: ListenAddress): Promise<void> {
	if (isIP(listen.host)) return;
	try {
		await lookup(listen.host);
	} catch (err) {
		const code = (err as NodeJS.ErrnoException).code ?? 'failed';
		throw new UsageError(`--listen host ${quote(listen.host)} does not resolve (${code})`);
	}
}

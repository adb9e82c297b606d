import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@firesight/api';
import { UsageError, UserError } from './command.ts';

export type HubClient = ReturnType<typeof createHubClient>;

/** The typed tRPC client of a hub's API; a hub with auth on wants its token as Bearer. */
export function createHubClient(hubUrl: string, token?: string) {
	const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
	// A refusal is plain text, not tRPC's JSON: say what it means before tRPC fails to parse it.
	const fetchChecked = async (...[input, init]: Parameters<typeof fetch>): Promise<Response> => {
		const res = await fetch(input, init);
		if (res.status === 401) throw new UserError(`the hub at ${hubUrl} wants its token: give --token or set $FIRESIGHT_TOKEN`);
		return res;
	};
	return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${hubUrl}/trpc`, headers, fetch: fetchChecked })] });
}

function networkReason(err: unknown): string | undefined {
	// fetch wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
	for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
		const code = (e as { code?: unknown }).code;
		if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
		if (e instanceof TypeError && e.message === 'fetch failed' && !(e as { cause?: unknown }).cause) return 'fetch failed';
	}
	return undefined;
}

/** Turns a failed hub call into a one-line UserError: unreachable hub, or the API's own message. */
export function hubError(hubUrl: string, err: unknown): Error {
	if (err instanceof UsageError || err instanceof UserError) return err;
	const net = networkReason(err);
	if (net) return new UserError(`cannot reach the hub at ${hubUrl} (${net}); is 'firesight hub' or 'firesight up' running?`);
	if (err instanceof TRPCClientError) {
		if (err.cause instanceof UserError) return err.cause;
		const code = (err.data as { firesight?: string } | undefined)?.firesight;
		if (!err.data && /JSON|Unexpected token/i.test(err.message)) {
			return new UserError(`${hubUrl} does not look like a Firesight hub (${err.message})`);
		}
		return new UserError(code ? `hub: ${err.message} (${code})` : `hub: ${err.message}`);
	}
	return err instanceof Error ? err : new Error(String(err));
}

/** Runs a hub call, mapping its failures through `hubError`. */
export async function callHub<T>(hubUrl: string, fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (err) {
		throw hubError(hubUrl, err);
	}
}

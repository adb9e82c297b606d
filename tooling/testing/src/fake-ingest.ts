import { WebSocket } from 'ws';
import type { CollectorMessage, HelloMessage } from '@firesight/protocol';

/** A made-up collector's connection to a hub's /ingest, its hello sent. */
export interface FakeIngest {
	send(message: CollectorMessage): void;
	/** Calls `fn` every `ms` until close(). */
	every(ms: number, fn: () => void): void;
	/** Stops the timers and closes the socket, waiting at most a second for the hub's close. */
	close(): Promise<void>;
}

export async function openFakeIngest(hubUrl: string, token: string, hello: Omit<HelloMessage, 'type'>): Promise<FakeIngest> {
	const ws = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}/ingest`, { headers: { authorization: `Bearer ${token}` } });
	await new Promise<void>((resolve, reject) => {
		ws.once('open', () => resolve());
		ws.once('error', reject);
	});
	const send = (message: CollectorMessage) => ws.send(JSON.stringify(message));
	send({ type: 'hello', ...hello });
	const timers: NodeJS.Timeout[] = [];
	return {
		send,
		every: (ms, fn) => void timers.push(setInterval(fn, ms)),
		close: async () => {
			for (const timer of timers) clearInterval(timer);
			await new Promise<void>((resolve) => {
				ws.once('close', () => resolve());
				ws.close();
				setTimeout(resolve, 1_000).unref();
			});
		},
	};
}

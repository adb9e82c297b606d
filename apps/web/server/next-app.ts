import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

export interface NextApp {
	handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
	upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
	close(): Promise<void>;
}

/**
 * Loads the Next.js dashboard from `dir`. Imported lazily so the hub (and its tests) run
 * without Next when the web UI is off.
 */
export async function loadNextApp(opts: { dir: string; dev: boolean; hostname: string; port: number }): Promise<NextApp> {
	if (!opts.dev && !existsSync(join(opts.dir, '.next', 'BUILD_ID'))) {
		throw new Error(`the dashboard is not built (no ${join(opts.dir, '.next')}); run 'npm run build' first`);
	}
	// Next reads NODE_ENV to pick its React build; an unset value would mean development.
	const env = process.env as Record<string, string | undefined>;
	env.NODE_ENV ??= opts.dev ? 'development' : 'production';
	process.env.NEXT_TELEMETRY_DISABLED = '1';
	const { default: next } = await import('next');
	const app = next({ dev: opts.dev, dir: opts.dir, hostname: opts.hostname, port: opts.port });
	await app.prepare();
	const handle = app.getRequestHandler();
	const upgrade = app.getUpgradeHandler();
	return {
		handle: (req, res) => handle(req, res),
		upgrade: (req, socket, head) => upgrade(req, socket, head),
		close: () => app.close(),
	};
}

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ApiContext } from '@firesight/api';
import { redactionRules } from '@firesight/protocol';
import { openStorage, type Storage, type StorageConfig } from '@firesight/store';
import { DEFAULT_LISTEN } from './default-listen.ts';
import { HubState } from './hub-state.ts';
import { Ingest } from './ingest.ts';
import { LiveStream } from './live.ts';
import { createLogger, logLine } from './logger.ts';
import { createHubMetrics } from './metrics.ts';
import { loadNextApp, type NextApp } from './next-app.ts';
import { serveMetrics, servePprof, serveText } from './http-routes.ts';
import { HubAccess, refuseOpenBeyondLoopback } from './hub-access.ts';
import { HubConfigError } from './hub-config-error.ts';
import { allowedHostNames, isLoopback } from './host-check.ts';
import { createTrpcRoute, type ApiBudget } from './trpc-route.ts';
import { createImportRoute, markSharePage } from './share-routes.ts';
import { requestTarget } from './request-target.ts';
import type { ImportLimits } from '@firesight/profile';

export { DEFAULT_LISTEN };

export interface HubOptions {
	listen?: { host: string; port: number };
	/** Data directory of the SQLite storage; `$FIRESIGHT_DATA` or `./data` when absent. */
	dataDir?: string;
	/** Collectors must send `Authorization: Bearer <token>`. */
	token: string;
	/**
	 * Browsers and API clients need the token too: the login page sets a session cookie, API
	 * clients may send it as Bearer. Default: off on a loopback address, on elsewhere. Only a
	 * loopback hub may turn it off: pass false for a token the user did not choose (made for
	 * this run and never shown), and startHub refuses to listen beyond loopback with it.
	 */
	auth?: boolean;
	/** Serve HTTPS and WSS with this PEM certificate and key (file paths). */
	tls?: { certFile: string; keyFile: string };
	/** Names besides loopback and the listen address that browsers may reach the hub by. */
	allowedHosts?: readonly string[];
	/** Header names to redact from captured requests, besides the default list. */
	redactHeaders?: readonly string[];
	/** Serve `/metrics` without credentials, for a Prometheus scraper. */
	metricsPublic?: boolean;
	/** Wrong tokens the login form takes per minute before it makes everyone wait (default 30). */
	loginFailuresPerMinute?: number;
	/** Wrong Bearer tokens one address may send per minute before its attempts wait (default 30). */
	bearerFailuresPerMinute?: number;
	/** Limits on what one API request may cost (batch size, time, answer size). */
	apiBudget?: Partial<ApiBudget>;
	/** Run Next in development mode (hot reload) instead of serving the `next build` output. */
	dev?: boolean;
	/** Serve the dashboard; false runs API and streams only (tests, headless hubs). Default true. */
	web?: boolean;
	/** Where to store; SQLite under dataDir (with retentionMs) when absent. */
	storage?: StorageConfig;
	/** How long stored data is kept when `storage` is absent; 7 days by default. */
	retentionMs?: number;
	/** Bounds on an imported profile file (`POST /api/import`); 32 MiB and more by default. */
	importLimits?: ImportLimits;
	/** Collector ping interval; a collector missing one pong is disconnected. Default 5 s. */
	heartbeatMs?: number;
	/** Browser status heartbeat. Default 2 s. */
	statusEveryMs?: number;
	/** Bytes a slow browser may fall behind before it is dropped. Default 8 MiB. */
	maxBrowserBufferBytes?: number;
	/** Command lines kept redacted (see CommandLineRedactor); 0 redacts every one anew. Default 16,384. */
	redactedCommandLines?: number;
	log?: (line: string) => void;
}

export interface Hub {
	/** Base URL, e.g. http://127.0.0.1:7300 (https:// with TLS) */
	url: string;
	/** Whether browsers and API clients must present the token or a session. */
	auth: boolean;
	port: number;
	state: HubState;
	/** The hub's storage, open until close(). */
	storage: Storage;
	close(): Promise<void>;
}

const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Starts the hub: one HTTP server for the dashboard, `/trpc`, `/api/pprof`, `/api/import`, `/metrics`,
 * `/healthz`, and the WebSocket endpoints `/ingest` (collectors) and `/live` (browsers).
 */
export async function startHub(options: HubOptions): Promise<Hub> {
	if (!options.token) throw new Error('a hub needs a token for its collectors');
	const listen = options.listen ?? DEFAULT_LISTEN;
	const auth = options.auth ?? !isLoopback(listen.host);
	refuseOpenBeyondLoopback(listen.host, auth);
	const tlsFiles = options.tls && readTlsFiles(options.tls);
	const log = options.log ?? logLine(createLogger('hub'));
	const storage = await openStorage(options.storage ?? { backend: 'sqlite', dataDir: options.dataDir, retentionMs: options.retentionMs });
	const state = new HubState();
	const metrics = createHubMetrics(state, storage.profiles);
	const ctx: ApiContext = { storage, live: state };
	const live = new LiveStream({
		state,
		metrics,
		maxBufferedBytes: options.maxBrowserBufferBytes ?? 8 * 1024 * 1024,
		statusEveryMs: options.statusEveryMs ?? 2000,
	});
	const ingest = new Ingest({
		token: options.token,
		storage,
		state,
		metrics,
		heartbeatMs: options.heartbeatMs ?? 5000,
		redaction: redactionRules(options.redactHeaders),
		...(options.redactedCommandLines === undefined ? {} : { redactedCommandLines: options.redactedCommandLines }),
		log,
	});
	// A share made through the API or an import records who made it, as far as access can tell.
	const requester = (req: IncomingMessage) => access.requester(req);
	const trpc = createTrpcRoute({ ctx, metrics, log, requester, ...(options.apiBudget ? { budget: options.apiBudget } : {}) });
	const importRoute = createImportRoute({ ctx, metrics, limits: options.importLimits, requester });
	const access = new HubAccess({
		token: options.token,
		auth,
		tls: tlsFiles !== undefined,
		hostNames: allowedHostNames(listen.host, options.allowedHosts),
		metricsPublic: options.metricsPublic ?? false,
		metrics,
		...(options.loginFailuresPerMinute === undefined ? {} : { loginFailuresPerMinute: options.loginFailuresPerMinute }),
		...(options.bearerFailuresPerMinute === undefined ? {} : { bearerFailuresPerMinute: options.bearerFailuresPerMinute }),
	});
	/**
	 * Set while the dashboard loads, which takes seconds after the port opens (and /healthz
	 * answers): a page asked for meanwhile waits for it instead of getting "dashboard is off".
	 */
	let webLoading: Promise<NextApp> | undefined;
	let web: NextApp | undefined;

	const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
		const url = requestTarget(req);
		if (!url) return serveText(res, 400, 'bad request target');
		const path = url.pathname;
		const verdict = access.check(req, path, false);
		if (!verdict.ok) {
			if (verdict.status === 303) {
				res.writeHead(303, { location: verdict.location, 'cache-control': 'no-store' });
				res.end();
				return;
			}
			if (verdict.status === 429) res.setHeader('retry-after', String(verdict.retryAfterS));
			else res.setHeader('www-authenticate', 'Bearer');
			return serveText(res, verdict.status, verdict.message);
		}
		if (path === '/api/login') return access.login(req, res);
		if (path === '/api/logout') return access.logout(req, res);
		if (path === '/trpc' || path.startsWith('/trpc/')) return trpc(req, res);
		if (path === '/api/pprof') return servePprof(req, res, url, ctx);
		if (path === '/api/import') return importRoute(req, res, url);
		if (path.startsWith('/s/')) await markSharePage(req, path, ctx);
		if (path === '/metrics') return serveMetrics(res, metrics);
		if (path === '/healthz') return serveText(res, 200, 'ok');
		if (web) return web.handle(req, res);
		if (webLoading) return (await webLoading).handle(req, res);
		serveText(res, 404, 'not found (the dashboard is off on this hub)');
	};

	const handler = (req: IncomingMessage, res: ServerResponse) => {
		onRequest(req, res).catch((err) => {
			log(`${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
			if (!res.headersSent) serveText(res, 500, 'internal error');
			else res.destroy();
		});
	};
	// One handler either way: TLS changes the transport, not who may see what.
	const server: Server = tlsFiles ? createHttpsServer(tlsFiles, handler) : createServer(handler);
	const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
		const target = requestTarget(req);
		if (!target) {
			socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
			return;
		}
		const path = target.pathname;
		const verdict = access.check(req, path, true);
		if (!verdict.ok) {
			const [status, reason, extra] =
				verdict.status === 403
					? [403, 'Forbidden', '']
					: verdict.status === 429
						? [429, 'Too Many Requests', `Retry-After: ${verdict.retryAfterS}\r\n`]
						: [401, 'Unauthorized', ''];
			socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extra}Content-Length: 0\r\n\r\n`);
			return;
		}
		if (path === '/ingest') return ingest.handleUpgrade(req, socket, head);
		if (path === '/live') return live.handleUpgrade(req, socket, head);
		// Next's dev server keeps its hot-reload socket on its own paths.
		if (web) {
			web.upgrade(req, socket, head).catch(() => socket.destroy());
			return;
		}
		socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
	};
	// An 'upgrade' listener that throws is an uncaught exception that ends the whole hub: one bad
	// handshake costs its own socket, as one bad request costs its own response in `handler`.
	server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
		socket.on('error', () => socket.destroy());
		try {
			onUpgrade(req, socket, head);
		} catch (err) {
			log(`upgrade ${req.url}: ${(err as Error).stack ?? err}`);
			socket.destroy();
		}
	});

	await new Promise<void>((resolveListen, reject) => {
		server.once('error', reject);
		server.listen(listen.port, listen.host, () => {
			server.off('error', reject);
			resolveListen();
		});
	}).catch(async (err) => {
		await Promise.all([ingest.close(), live.close(), storage.close()]);
		throw err;
	});
	const port = (server.address() as AddressInfo).port;
	const hostPart = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
	const url = `${tlsFiles ? 'https' : 'http'}://${hostPart}:${port}`;

	if (options.web !== false) {
		try {
			webLoading = loadNextApp({ dir: WEB_DIR, dev: options.dev ?? false, hostname: listen.host, port });
			web = await webLoading;
		} catch (err) {
			await closeAll();
			throw err;
		}
	}

	let closing: Promise<void> | undefined;
	async function closeAll(): Promise<void> {
		await Promise.all([ingest.close(), live.close()]);
		await new Promise<void>((r) => {
			server.close(() => r());
			server.closeAllConnections();
		});
		await web?.close().catch(() => {});
		await storage.close();
	}

	return {
		url,
		auth,
		port,
		state,
		storage,
		close: () => (closing ??= closeAll()),
	};
}

/** PEM files read up front, so a wrong path is one clear line before anything listens. */
function readTlsFiles(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
	const read = (file: string, what: string) => {
		try {
			return readFileSync(file);
		} catch (err) {
			throw new HubConfigError(
				'tls',
				`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
			);
		}
	};
	return { cert: read(tls.certFile, 'certificate'), key: read(tls.keyFile, 'key') };
}

export { HubState } from './hub-state.ts';
export { HubConfigError } from './hub-config-error.ts';
export { authorized, DEFAULT_MAX_HELD_MESSAGES } from './ingest.ts';

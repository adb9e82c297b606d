import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import { authorized } from './ingest.ts';
import { HubConfigError } from './hub-config-error.ts';
import { hostAllowed, isLoopback, originAllowed } from './host-check.ts';
import type { HubMetrics } from './metrics.ts';
import { Sessions } from './sessions.ts';
import { WrongTokenThrottle } from './wrong-token-throttle.ts';
import { isPublicShareRead } from './share-routes.ts';

export const SESSION_COOKIE = 'firesight_session';

/**
 * What anyone may fetch when auth is on: health, the login page and what it is drawn with.
 * Share links (`/s/<id>`, profile data only) and their reads are the one other exception
 * (`isPublicShareRead`).
 */
const PUBLIC_PATHS = new Set(['/healthz', '/login', '/api/login', '/icon.svg']);
const PUBLIC_PREFIXES = ['/_next/static/'];

/** Routes that answer data, not pages: refused with 401 rather than sent to the login page. */
function isApiPath(path: string): boolean {
	return (
		path === '/trpc' ||
		path.startsWith('/trpc/') ||
		path.startsWith('/api/') ||
		path === '/metrics' ||
		path === '/live' ||
		path === '/ingest'
	);
}

function isPublic(path: string): boolean {
	return PUBLIC_PATHS.has(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type Verdict =
	| { ok: true }
	| { ok: false; status: 401 | 403; message: string }
	| { ok: false; status: 429; message: string; retryAfterS: number }
	| { ok: false; status: 303; location: string };

export interface AccessOptions {
	token: string;
	/** Browsers and API clients must log in (session cookie) or send the token as Bearer. */
	auth: boolean;
	/** Served over TLS: the session cookie is marked Secure. */
	tls: boolean;
	hostNames: ReadonlySet<string>;
	/** `/metrics` without credentials (and without the Host check), for a Prometheus scraper. */
	metricsPublic: boolean;
	metrics: HubMetrics;
	sessionTtlMs?: number;
	/**
	 * Wrong tokens the login form takes per minute; past it, every login waits for the minute to
	 * end, so a token a person chose cannot be guessed at network speed. Default 30.
	 */
	loginFailuresPerMinute?: number;
	/** Wrong Bearer tokens (collectors, API clients) one address may send per minute. Default 30. */
	bearerFailuresPerMinute?: number;
}

/** `Authorization: Bearer <something>`: a token was offered, right or wrong. */
function bearerOffered(req: IncomingMessage): boolean {
	return /^Bearer\s+\S/i.test(req.headers.authorization ?? '');
}

function cookie(req: IncomingMessage, name: string): string | undefined {
	for (const part of (req.headers.cookie ?? '').split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
	}
	return undefined;
}

/** Beyond loopback anyone on the network could read captured requests: a token is a must there. */
export function refuseOpenBeyondLoopback(listenHost: string, auth: boolean): void {
	if (auth || isLoopback(listenHost)) return;
	throw new HubConfigError(
		'needs_token',
		`refusing to listen on ${listenHost} without a token: anyone on the network could read captured requests; give --token (browsers then log in with it) or listen on 127.0.0.1`,
	);
}

/**
 * Only a path on this hub, so a crafted login link cannot send the browser elsewhere; written in
 * ASCII as a URL is, since a Location header refuses control characters and takes bytes past
 * Latin-1 for something else (a `next` with one made the login answer a 500).
 */
export function safeNext(next: string | null | undefined): string {
	if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
	const url = new URL(next, 'http://hub.invalid');
	return url.origin === 'http://hub.invalid' ? `${url.pathname}${url.search}${url.hash}` : '/';
}

/** Who may see what: the Host and Origin checks, and the token or a session on every door. */
export class HubAccess {
	readonly #opts: AccessOptions;
	readonly #sessions: Sessions;
	readonly #refused: Counter<'reason'>;
	readonly #loginsFailed: Counter;
	/** When recent wrong tokens came, oldest first; at most loginFailuresPerMinute of them. */
	readonly #failures: number[] = [];
	readonly #bearerFailed: Counter<'door'>;
	readonly #bearerThrottle: WrongTokenThrottle;

	constructor(opts: AccessOptions) {
		this.#opts = opts;
		this.#sessions = new Sessions({ ttlMs: opts.sessionTtlMs ?? 7 * 24 * 3600_000, max: 10_000 });
		this.#refused = new Counter({
			name: 'firesight_hub_http_refused_total',
			help: 'HTTP requests and WebSocket upgrades refused: unknown Host, cross-site Origin, no credentials',
			labelNames: ['reason'] as const,
			registers: [opts.metrics.registry],
		});
		this.#loginsFailed = new Counter({
			name: 'firesight_hub_logins_failed_total',
			help: 'Login attempts with a wrong token',
			registers: [opts.metrics.registry],
		});
		this.#bearerThrottle = new WrongTokenThrottle({ perMinute: opts.bearerFailuresPerMinute ?? 30, maxAddresses: 10_000 });
		this.#bearerFailed = new Counter({
			name: 'firesight_hub_bearer_failures_total',
			help: 'Wrong Bearer tokens, by door: ingest (collectors) or api (API clients); each address is throttled past a limit per minute',
			labelNames: ['door'] as const,
			registers: [opts.metrics.registry],
		});
		const throttle = this.#bearerThrottle;
		new Counter({
			name: 'firesight_hub_bearer_throttle_forgotten_total',
			help: 'Addresses the wrong-token throttle forgot to stay within its bound of 10,000 (their count starts again)',
			registers: [opts.metrics.registry],
			collect() {
				this.reset();
				this.inc(throttle.evicted);
			},
		});
	}

	get auth(): boolean {
		return this.#opts.auth;
	}

	/** Logged in (session cookie) or holding the token (Bearer); everyone when auth is off. */
	authenticated(req: IncomingMessage): boolean {
		if (!this.#opts.auth) return true;
		return authorized(req, this.#opts.token) || this.#sessions.valid(cookie(req, SESSION_COOKIE));
	}

	/**
	 * Who is asking, as far as the hub can tell, for a share's maker: the hub has one token and
	 * no accounts, so this names how the caller got in, not a person.
	 */
	requester(req: IncomingMessage): string {
		if (this.#opts.auth && authorized(req, this.#opts.token)) return 'a holder of the hub token';
		if (this.#opts.auth && this.#sessions.valid(cookie(req, SESSION_COOKIE))) return 'a signed-in browser';
		return isLoopback(req.socket.remoteAddress ?? '') ? 'anonymous on loopback' : 'anonymous';
	}

	check(req: IncomingMessage, path: string, upgrade: boolean): Verdict {
		const bearer = authorized(req, this.#opts.token);
		// Where a token opens something (always /ingest; everything else when auth is on), a wrong one
		// counts against its address, and past the limit no token from there is even looked at.
		if (bearerOffered(req) && (path === '/ingest' || this.#opts.auth)) {
			const address = req.socket.remoteAddress ?? '';
			const wait = this.#bearerThrottle.waitSeconds(address);
			if (wait > 0) {
				this.#refused.inc({ reason: 'bearer_throttled' });
				return { ok: false, status: 429, message: `too many wrong tokens from this address; try again in ${wait} s`, retryAfterS: wait };
			}
			if (!bearer) {
				this.#bearerFailed.inc({ door: path === '/ingest' ? 'ingest' : 'api' });
				this.#bearerThrottle.failed(address);
			}
		}
		// Health checks and scrapers use whatever address reaches the host; the token is no
		// rebinding risk (a page elsewhere cannot know it), and /ingest checks it itself.
		const hostExempt = bearer || path === '/healthz' || path === '/ingest' || (path === '/metrics' && this.#opts.metricsPublic);
		if (!hostExempt && !hostAllowed(req, this.#opts.hostNames)) {
			return this.#refuse('host', 403, `Host '${req.headers.host ?? ''}' is not a name this hub answers to (see allowed hosts)`);
		}
		if ((upgrade || !SAFE_METHODS.has(req.method ?? 'GET')) && !originAllowed(req)) {
			return this.#refuse('origin', 403, `cross-site request from '${req.headers.origin}' refused`);
		}
		if (path === '/ingest' || isPublic(path) || (path === '/metrics' && this.#opts.metricsPublic)) return { ok: true };
		if (!upgrade && publicShareRead(req, path)) return { ok: true };
		if (bearer || this.authenticated(req)) return { ok: true };
		if (!upgrade && !isApiPath(path) && SAFE_METHODS.has(req.method ?? 'GET')) {
			this.#refused.inc({ reason: 'login' });
			return { ok: false, status: 303, location: `/login?next=${encodeURIComponent(req.url ?? '/')}` };
		}
		return this.#refuse('unauthenticated', 401, 'log in at /login, or send Authorization: Bearer <token>');
	}

	#refuse(reason: string, status: 401 | 403, message: string): Verdict {
		this.#refused.inc({ reason });
		return { ok: false, status, message };
	}

	/** POST /api/login with a form `token=…&next=/path`: a session cookie, then back to `next`. */
	async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
		if (req.method !== 'POST') {
			res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain; charset=utf-8' });
			res.end('use POST\n');
			return;
		}
		const form = await readForm(req, 8192);
		if (!form) {
			res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8' });
			res.end('login form too large\n');
			return;
		}
		const next = safeNext(form.get('next'));
		if (!this.#opts.auth) return redirect(res, next);
		const now = Date.now();
		while (this.#failures.length > 0 && this.#failures[0]! <= now - 60_000) this.#failures.shift();
		const limit = this.#opts.loginFailuresPerMinute ?? 30;
		if (this.#failures.length >= limit) {
			const wait = Math.ceil((this.#failures[0]! + 60_000 - now) / 1000);
			this.#refused.inc({ reason: 'login_throttled' });
			res.writeHead(429, { 'retry-after': String(wait), 'content-type': 'text/plain; charset=utf-8' });
			res.end(`too many wrong tokens in the last minute; try again in ${wait} s\n`);
			return;
		}
		const given = form.get('token')?.trim() ?? '';
		if (!given || !sameToken(given, this.#opts.token)) {
			this.#loginsFailed.inc();
			this.#failures.push(now);
			return redirect(res, `/login?failed=1&next=${encodeURIComponent(next)}`);
		}
		const id = this.#sessions.create();
		const maxAge = Math.floor(this.#sessions.ttlMs / 1000);
		const secure = this.#opts.tls ? '; Secure' : '';
		res.setHeader('set-cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
		redirect(res, next);
	}

	/** POST /api/logout: forgets the session and clears the cookie. */
	logout(req: IncomingMessage, res: ServerResponse): void {
		this.#sessions.delete(cookie(req, SESSION_COOKIE));
		res.setHeader('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${this.#opts.tls ? '; Secure' : ''}`);
		redirect(res, '/login');
	}
}

/** A malformed path (`/trpc/%E0`) is simply not a share read; it must not become a 500. */
function publicShareRead(req: IncomingMessage, path: string): boolean {
	try {
		return isPublicShareRead(req.method, path, new URL(req.url ?? '/', 'http://hub').searchParams);
	} catch {
		return false;
	}
}

/** Constant time: digests first, so the lengths match as timingSafeEqual needs. */
function sameToken(given: string, token: string): boolean {
	const digest = (s: string) => createHash('sha256').update(s).digest();
	return timingSafeEqual(digest(given), digest(token));
}

function redirect(res: ServerResponse, location: string): void {
	res.writeHead(303, { location, 'cache-control': 'no-store' });
	res.end();
}

/** A urlencoded body up to `max` bytes; null when larger. */
async function readForm(req: IncomingMessage, max: number): Promise<URLSearchParams | null> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req as AsyncIterable<Buffer>) {
		size += chunk.length;
		if (size > max) return null;
		chunks.push(chunk);
	}
	return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

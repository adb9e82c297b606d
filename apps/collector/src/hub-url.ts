import { DEFAULT_LISTEN } from '@firesight/web/default-listen';
import { UsageError } from './command.ts';

export const DEFAULT_HUB_URL = `http://${DEFAULT_LISTEN.host}:${DEFAULT_LISTEN.port}`;

/** Accepts `http(s)://host:port` or a bare `host:port`; returns the base URL without a trailing slash. */
export function normalizeHubUrl(value: string | undefined): string {
	const raw = (value ?? DEFAULT_HUB_URL).trim();
	const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		throw new UsageError(`--hub must be a URL such as ${DEFAULT_HUB_URL}, got '${raw}'`);
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		throw new UsageError(`--hub must be an http or https URL, got '${raw}'`);
	}
	return url.toString().replace(/\/+$/, '');
}

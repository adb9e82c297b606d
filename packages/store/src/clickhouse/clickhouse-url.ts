/** Where a ClickHouse store lives, from a `clickhouse://[USER[:PASSWORD]@]HOST:PORT/DB` URL. */
export interface ClickhouseLocation {
	/** The server's HTTP interface, `http://HOST:PORT`. */
	httpUrl: string;
	database: string;
	username: string;
	password: string;
}

/** ClickHouse's own HTTP port, when the URL names none. */
export const DEFAULT_CLICKHOUSE_PORT = 8123;

/** Database names this store creates and addresses without quoting. */
const DATABASE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Parses a store URL; throws one line naming what is wrong. */
export function parseClickhouseUrl(text: string): ClickhouseLocation {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new Error(`not a ClickHouse URL: '${text}' (expected clickhouse://HOST:PORT/DB)`);
	}
	if (url.protocol !== 'clickhouse:') throw new Error(`not a ClickHouse URL: '${text}' (expected clickhouse://HOST:PORT/DB)`);
	if (!url.hostname) throw new Error(`ClickHouse URL '${text}' names no host`);
	const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'firesight';
	if (!DATABASE.test(database)) {
		throw new Error(`ClickHouse database name '${database}' must be letters, digits and _ (not starting with a digit)`);
	}
	if (url.search || url.hash) throw new Error(`ClickHouse URL '${text}' takes no query or fragment`);
	const port = url.port || String(DEFAULT_CLICKHOUSE_PORT);
	return {
		httpUrl: `http://${url.hostname}:${port}`,
		database,
		username: decodeURIComponent(url.username) || 'default',
		password: decodeURIComponent(url.password),
	};
}

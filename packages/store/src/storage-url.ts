import { parseClickhouseUrl } from './clickhouse/clickhouse-url.ts';
import type { StorageConfig } from './storage.ts';

/**
 * The config a store URL names, as a `--store` flag takes it:
 * - `sqlite:PATH`: a SQLite database file (`sqlite::memory:` keeps nothing);
 * - `sqlite:DIR/`: `firesight.db` in that directory;
 * - `clickhouse://[USER[:PASSWORD]@]HOST:PORT/DB`: a database on a ClickHouse server (HTTP port).
 * Throws one line for anything else.
 */
export function parseStorageUrl(text: string): StorageConfig {
	if (text.startsWith('sqlite:')) {
		const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
		if (path === '') throw new Error(`store URL '${text}' names no file (sqlite:PATH)`);
		return path.endsWith('/') ? { backend: 'sqlite', dataDir: path } : { backend: 'sqlite', path };
	}
	if (text.startsWith('clickhouse:')) {
		parseClickhouseUrl(text);
		return { backend: 'clickhouse', url: text };
	}
	throw new Error(`unknown store '${text}': expected sqlite:PATH or clickhouse://HOST:PORT/DB`);
}

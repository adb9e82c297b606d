import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlameNode } from '@firesight/profile';
import { openStorage, type Storage } from '@firesight/store';
import type { ApiContext, LiveView } from './context.ts';

// What the router tests share. Not exported from the package: only tests beside it import this.

/** A hub with no collector connected. */
export const NO_LIVE: LiveView = { hosts: () => [], processes: () => [] };

/**
 * A throw-away SQLite storage in its own directory, filled by `seed`, then handed to `fn` as an
 * API context (with `live`) and as itself; closed and its directory removed whatever happens.
 */
export async function withTestApi(
	seed: (storage: Storage) => Promise<void>,
	fn: (ctx: ApiContext, storage: Storage, dir: string) => Promise<void>,
	live: LiveView = NO_LIVE,
): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-api-'));
	const storage = await openStorage({ backend: 'sqlite', dataDir: dir, pruneIntervalMs: 0 });
	try {
		await seed(storage);
		await fn({ storage, live }, storage, dir);
	} finally {
		await storage.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/** The first node named `name`, depth first. */
export function findByName(node: FlameNode, name: string): FlameNode | undefined {
	if (node.name === name) return node;
	for (const c of node.children) {
		const f = findByName(c, name);
		if (f) return f;
	}
	return undefined;
}

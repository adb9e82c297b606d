import type { TestContext } from 'node:test';
import type { Storage } from '../storage.ts';
import type { StorageOptions } from '../storage-options.ts';

/** A backend as the conformance suite drives it. */
export interface BackendUnderTest {
	/** Named in the test titles. */
	name: string;
	/** A fresh, empty storage with these options (its own pruning timer off). */
	open(options?: StorageOptions): Promise<OpenedStorage>;
}

export interface OpenedStorage {
	storage: Storage;
	/**
	 * Opens the same data again once `storage` is closed; absent for a backend that keeps
	 * nothing across a restart, which skips the persistence checks.
	 */
	reopen?: (options?: StorageOptions) => Promise<Storage>;
	/** Removes what open() created. */
	dispose(): Promise<void>;
}

/** Runs `fn` on a fresh storage and disposes of it whatever happens. */
export async function withStorage(
	backend: BackendUnderTest,
	options: StorageOptions,
	fn: (opened: OpenedStorage) => Promise<void>,
): Promise<void> {
	const opened = await backend.open({ pruneIntervalMs: 0, ...options });
	try {
		await fn(opened);
	} finally {
		await opened.storage.close();
		await opened.dispose();
	}
}

/**
 * Runs `before` on a fresh storage, closes it, opens the same data again and runs `after` on that
 * with what `before` returned; skips for a backend that keeps nothing across a restart.
 */
export async function acrossReopen<T>(
	t: TestContext,
	backend: BackendUnderTest,
	before: (storage: Storage) => Promise<T>,
	after: (storage: Storage, before: T) => Promise<void>,
): Promise<void> {
	const opened = await backend.open({ pruneIntervalMs: 0 });
	const { reopen } = opened;
	if (!reopen) {
		await opened.storage.close();
		await opened.dispose();
		return t.skip(`${backend.name} keeps nothing across a restart`);
	}
	let storage = opened.storage;
	try {
		const result = await before(storage);
		await storage.close();
		storage = await reopen({ pruneIntervalMs: 0 });
		await after(storage, result);
	} finally {
		await storage.close();
		await opened.dispose();
	}
}

export const T0 = 1_700_000_000_000;
export const DAY = 86_400_000;

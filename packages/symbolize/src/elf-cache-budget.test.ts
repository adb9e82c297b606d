import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildTargets } from '@firesight/testing/symbolize-targets';
import { FileSource } from './byte-source.ts';
import { ElfCache } from './elf-cache.ts';
import type { SymbolTable } from './symbol-table.ts';

/**
 * The ELF cache's budget is in bytes of symbol tables, and it bounds what the cache keeps alive:
 * files let go past it are counted, and their tables (also indexed by build-id) can be collected.
 */
const LIBC = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib64/libc.so.6'].find(existsSync);

function files(): string[] {
	const b = buildTargets();
	return [b.pie, b.nopie, b.libLinked, b.libDl, ...(LIBC ? [LIBC] : [])];
}

const load = (cache: ElfCache, path: string) => cache.get(path, () => [() => new FileSource(path)]);

test('past its byte budget, the cache lets the least recently used files go, counts them, and keeps within the budget', () => {
	const paths = files();
	const sizes = paths.map((p) => load(new ElfCache(), p)!.symbols.bytes);
	assert.ok(
		sizes.every((n) => n > 0),
		`every file has symbols: ${sizes.join(', ')} bytes`,
	);
	const total = sizes.reduce((a, n) => a + n + 1, 0);
	// Room for all but the smallest: cycling through every file must let some go each round.
	const budget = total - Math.min(...sizes) - 1;
	const cache = new ElfCache({ maxBytes: budget });
	for (let round = 0; round < 3; round++) {
		for (const p of paths) {
			assert.ok(load(cache, p), p);
			assert.ok(cache.bytes <= budget, `${cache.bytes} bytes kept, budget ${budget}`);
		}
	}
	assert.ok(cache.size < paths.length, `${cache.size} of ${paths.length} files kept`);
	assert.ok(cache.evictions >= 2 * paths.length, `${cache.evictions} files let go in 3 rounds`);
	const { opened, sharedByBuildId } = cache.stats;
	assert.ok(opened + sharedByBuildId > paths.length, `${opened} files parsed, ${sharedByBuildId} shared: those let go are read again`);
});

test('a table let go past the budget is not kept alive by the build-id index', async () => {
	setFlagsFromString('--expose-gc');
	const gc = runInNewContext('gc') as () => void;
	const b = buildTargets();
	// One byte: each file is over the budget alone, so only the latest stays.
	const cache = new ElfCache({ maxBytes: 1 });
	// In a function of its own: a suspended async function may keep its dead locals.
	const first = ((): WeakRef<SymbolTable> => {
		const loaded = load(cache, b.pie)!;
		assert.ok(loaded.buildId, 'the fixture has a build-id, so its table is indexed by it');
		return new WeakRef(loaded.symbols);
	})();
	assert.ok(load(cache, b.nopie));
	assert.equal(cache.size, 1);
	assert.equal(cache.evictions, 1);
	for (let i = 0; i < 10 && first.deref() !== undefined; i++) {
		await new Promise((r) => setImmediate(r));
		gc();
	}
	assert.equal(first.deref(), undefined, 'the evicted file’s symbol table is still held');
});

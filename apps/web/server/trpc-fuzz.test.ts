import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { appRouter } from '@firesight/api';
import { profileWindow, userFrames } from '@firesight/testing/profile-windows';
import { withTestHub } from './hub-test-harness.ts';

/**
 * Every tRPC procedure, queries and mutations, fed valid inputs with one field (at any depth)
 * replaced by a value that breaks it, taken away, or joined by a stranger: each answer is a
 * success or a 4xx whose message is one line, never a 500, an "internal" error or a stack trace.
 * The generic fuzz of hub-fuzz.test.ts sends random objects, which every schema refuses at its
 * first field: these reach the nested inputs (a diff's sides, flame paths, view states) and the
 * code behind a valid schema.
 */

type Json = fc.JsonValue;

/** Values that break schemas: wrong types, out of range, huge, negative, fractional, deep. */
const nasty: fc.Arbitrary<Json> = fc.oneof(
	fc.jsonValue({ maxDepth: 3 }),
	fc.constantFrom(-1, 0, 0.5, 1e-300, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, 8.64e15 + 1, '', ' ', '\u0000', null, [], {}, true),
	fc.constantFrom('x'.repeat(5000), 'é'.repeat(3000), '../../etc/passwd', '%00', "'; DROP TABLE windows; --", '__proto__', 'constructor'),
	fc.string({ maxLength: 300 }),
	fc.integer(),
	fc.double(),
	fc.array(fc.string({ maxLength: 40 }), { maxLength: 40 }),
);

/** Every path to a value of `value`, the root ([]) included. */
function pathsOf(value: Json, at: (string | number)[] = []): (string | number)[][] {
	const out = [at];
	if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...at, i])));
	else if (value !== null && typeof value === 'object')
		for (const [k, v] of Object.entries(value)) if (v !== undefined) out.push(...pathsOf(v, [...at, k]));
	return out;
}

/** `value` with the thing at `path` replaced (or deleted, for undefined), as a fresh copy. */
function mutate(value: Json, path: (string | number)[], next: Json | undefined): Json | undefined {
	if (path.length === 0) return next;
	const copy = structuredClone(value) as Record<string | number, Json>;
	let parent = copy;
	for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
	const last = path.at(-1)!;
	if (next === undefined) {
		if (Array.isArray(parent)) parent.splice(Number(last), 1);
		else delete parent[last];
	} else parent[last] = next;
	return copy;
}

test('tRPC: valid inputs broken at any depth get a success or a one-line 4xx, never a 500 or a stack trace', () => {
	const logged: string[] = [];
	return withTestHub({ token: 'trpc-fuzz-token', log: (l) => logged.push(l) }, async (hub) => {
		const now = Date.now();
		const fromMs = now - 3_600_000;
		const frames = userFrames('app', 'main', 'work', 'leaf');
		for (let i = 0; i < 3; i++) {
			await hub.storage.profiles.insertWindow(
				profileWindow(`box-${i}`, now - 60_000, frames, [
					{ pid: 7, comm: 'app', stack: [0, 1, 2], weight: 5 },
					{ pid: 8, comm: 'app', stack: [0, 1], weight: 2, endpoint: 'GET /items/:id', requestId: 'r1' },
				]),
			);
		}
		const call = async (name: string, type: string, input: Json | undefined) => {
			const url = `${hub.url}/trpc/${name}`;
			const res =
				type === 'query'
					? await fetch(input === undefined ? url : `${url}?input=${encodeURIComponent(JSON.stringify(input))}`)
					: await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input ?? null) });
			return { status: res.status, body: await res.text() };
		};
		const made = await call('shares.create', 'mutation', { fromMs, toMs: now });
		assert.equal(made.status, 200, made.body);
		const share = (JSON.parse(made.body) as { result: { data: { id: string } } }).result.data.id;
		const doomed = (
			JSON.parse((await call('shares.create', 'mutation', { fromMs, toMs: now })).body) as { result: { data: { id: string } } }
		).result.data.id;
		const range = { fromMs, toMs: now };
		const valid: Record<string, Json | undefined> = {
			'diff.flame': {
				baseline: { query: { ...range, host: 'box-0' } },
				comparison: { share },
				minFraction: 0.01,
				topLimit: 5,
				byProcess: false,
			},
			'diff.shares': { baseline: { share }, comparison: { share } },
			'hosts.list': undefined,
			'network.connections': { ...range, host: ['box-0', 'box-1'] },
			'network.series': { ...range, stepMs: 60_000 },
			'processes.find': { pid: 7, host: 'box-0' },
			'profile.endpoint': { ...range, endpoint: 'GET /items/:id', requestId: 'r1', ownOnly: true, pid: 8, minFraction: 0, topLimit: 3 },
			'profile.flame': {
				...range,
				host: ['box-0', 'box-2'],
				comm: 'app',
				minFraction: 0,
				topLimit: 3,
				groupByProcess: true,
				maxNodes: 100,
			},
			'profile.folded': { ...range, pid: 7, pids: true },
			'profile.search': { ...range, term: 'work', path: ['app', 'main'], groupByEndpoint: true },
			'profile.subtree': { ...range, path: ['app', 'main', 'work'], minFraction: 0.1, groupByProcess: true },
			'profile.timeline': { ...range, comm: 'app', endpoint: 'GET /items/:id', maxPoints: 10 },
			'requests.endpoints': { ...range, host: 'box-0' },
			'requests.histogram': { ...range, endpoint: 'GET /items/:id', method: 'GET', role: 'server' },
			'requests.list': { sinceMs: fromMs, untilMs: now, limit: 10, host: 'box-0', pid: 7 },
			'sandwich.query': { ...range, name: 'work', module: 'app', minFraction: 0.01, host: 'box-1' },
			'sandwich.share': { id: share, name: 'main', minFraction: 0 },
			'shares.create': { ...range, pid: 7, pids: [8], viewState: { view: 'flame', zoom: 'app;main' }, creator: 'fuzz' },
			'shares.delete': { id: doomed },
			'shares.flame': { id: share, minFraction: 0.01, topLimit: 3 },
			'shares.get': { id: share },
			'shares.list': undefined,
		};
		const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(
			([name, p]) => [name, p._def.type] as const,
		);
		// A procedure added without an input here would go unfuzzed.
		assert.deepEqual(procedures.map(([name]) => name).sort(), Object.keys(valid).sort());
		for (const [name, type] of procedures) {
			const res = await call(name, type, valid[name]);
			assert.equal(res.status, 200, `${name}(valid) → ${res.status} ${res.body.slice(0, 300)}`);
		}
		const broken = fc
			.constantFrom(...procedures)
			.chain(([name, type]) => {
				const base = valid[name] ?? {};
				return fc.tuple(
					fc.constant(name),
					fc.constant(type),
					fc.constant(base),
					fc.constantFrom(...pathsOf(base)),
					fc.oneof({ weight: 4, arbitrary: nasty }, { weight: 1, arbitrary: fc.constant(undefined) }),
					fc.option(fc.tuple(fc.string({ maxLength: 20 }), nasty), { freq: 4 }),
				);
			})
			.map(([name, type, base, path, next, extra]) => {
				let input = mutate(base, path, next);
				if (extra && input !== null && typeof input === 'object' && !Array.isArray(input)) input = { ...input, [extra[0]]: extra[1] };
				return { name, type, input };
			});
		await fc.assert(
			fc.asyncProperty(broken, async ({ name, type, input }) => {
				const res = await call(name, type, input);
				const what = `${name}(${JSON.stringify(input)?.slice(0, 300)}) → ${res.status} ${res.body.slice(0, 400)}`;
				assert.ok(res.status < 500, what);
				// 431: the URL is over Node's limit on a request's head, refused before the hub reads it.
				if (res.status !== 200 && res.status !== 431) {
					const { error } = JSON.parse(res.body) as { error: { message: string; data?: { stack?: string } } };
					assert.ok(error.message.length > 0 && !error.message.includes('\n'), `not one line: ${what}`);
					assert.equal(error.data?.stack, undefined, `a stack trace: ${what}`);
				}
			}),
			{ numRuns: 1500 },
		);
		assert.deepEqual(
			logged.filter((l) => l.startsWith('trpc ')),
			[],
		);
	});
});

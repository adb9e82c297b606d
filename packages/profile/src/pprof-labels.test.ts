import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Frame } from './frame.ts';
import { fromPprof, toPprof } from './pprof.ts';
import { ProfileBuilder } from './profile-builder.ts';

// The request labels in pprof as the standard toolchain reads them: `go tool pprof -tags`
// lists them, `-tagfocus` keeps the samples of one endpoint.

const dir = mkdtempSync(join(tmpdir(), 'firesight-pprof-labels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function goPprof(args: string[], pprof: Uint8Array): string {
	const file = join(dir, `p-${Math.random().toString(36).slice(2)}.pb.gz`);
	writeFileSync(file, pprof);
	return execFileSync('go', ['tool', 'pprof', ...args, file], {
		encoding: 'utf8',
		env: { ...process.env, GOCACHE: join(dir, 'cache'), PPROF_TMPDIR: dir, HOME: dir },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
}

const f = (name: string): Frame => ({ name, module: 'server', kind: 'user' });

function labelled() {
	const b = new ProfileBuilder({ startMs: 1_700_000_000_000, durationMs: 10_000, frequencyHz: 100 });
	b.appendSample([f('main'), f('getUser')], 30, { pid: 7, comm: 'server', endpoint: 'GET /api/users/:id' });
	b.appendSample([f('main'), f('getUser')], 5, { pid: 7, comm: 'server', endpoint: 'GET /api/users/:id', requestId: 'b1:42' });
	b.appendSample([f('main'), f('listOrders')], 12, { pid: 7, comm: 'server', endpoint: 'POST /api/orders', ambiguous: true });
	b.appendSample([f('main'), f('idle')], 3, { pid: 7, comm: 'server' });
	return b.build();
}

test('go tool pprof -tags lists the endpoint and request labels with their samples', () => {
	const out = goPprof(['-tags', '-sample_index=samples'], toPprof(labelled()));
	const endpointBlock = out.slice(out.indexOf(' endpoint:'));
	assert.match(endpointBlock, /35(\.0)? \(\s*[\d.]+%\): GET \/api\/users\/:id/);
	assert.match(endpointBlock, /12(\.0)? \(\s*[\d.]+%\): POST \/api\/orders/);
	assert.match(out, / request:[^]*?5(\.0)? \(\s*[\d.]+%\): b1:42/);
	assert.match(out, / ambiguous:[^]*?12(\.0)? \(\s*[\d.]+%\): true/);
});

test('go tool pprof -tagfocus keeps only the samples of one endpoint', () => {
	const out = goPprof(['-top', '-sample_index=samples', '-tagfocus=endpoint=GET /api/users/:id'], toPprof(labelled()));
	assert.match(out, /Total samples = 50/);
	assert.match(out, /Showing nodes accounting for 35, 70(\.0+)?% of 50 total/);
	assert.match(out, /getUser/);
	assert.doesNotMatch(out, /listOrders|idle/);
});

test('the request labels survive export and import', () => {
	const profile = labelled();
	assert.deepEqual(fromPprof(toPprof(profile))!.samples, profile.samples);
});

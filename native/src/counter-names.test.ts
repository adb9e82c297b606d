import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { PROFILE_COUNTERS } from './profile-records.ts';
import { TCP_COUNTERS } from './tcp-records.ts';
import { TLS_COUNTERS } from './tls-records.ts';

/**
 * One name per counter from the C header to the browser: a decoder's name is its enum entry's,
 * without the tool prefix, in camelCase (TCP_RING_BUFFER_FULL → ringBufferFull). The drop
 * counters keep that name through the live stats, /metrics and the drops panel.
 */
function enumNames(header: string, enumName: string, prefix: string): string[] {
	const text = readFileSync(new URL(`../../bpf/${header}`, import.meta.url), 'utf8');
	const body = new RegExp(`enum ${enumName} \\{([^}]*)\\}`).exec(text)?.[1];
	assert.ok(body, `enum ${enumName} in bpf/${header}`);
	// Entries start their lines; a name in a comment does not.
	return [...body.matchAll(new RegExp(`^\\s*${prefix}([A-Z0-9_]+)\\b`, 'gm'))]
		.map((m) => m[1]!)
		.filter((n) => n !== 'COUNTER_MAX')
		.map((n) => n.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
}

test('counter names in the decoders are the C enum names, camelCased', () => {
	assert.deepEqual([...PROFILE_COUNTERS], enumNames('profile.h', 'profile_counter', 'PROFILE_'));
	assert.deepEqual([...TCP_COUNTERS], enumNames('tcp.h', 'tcp_counter', 'TCP_'));
	// The addon's own drop count follows the kernel's.
	assert.deepEqual(TLS_COUNTERS.slice(0, -1), enumNames('tls.h', 'tls_counter', 'TLS_'));
	assert.equal(TLS_COUNTERS.at(-1), 'streamDropped');
});

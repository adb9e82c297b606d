import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../systemd/', import.meta.url));
const units = readdirSync(dir)
	.filter((f) => f.endsWith('.service'))
	.sort();
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const noSystemd = analyze.error ? 'systemd-analyze is not installed here (Debian package systemd)' : false;

/**
 * `systemd-analyze verify` exits 0 on unknown keys and sections, only printing them; any line it
 * prints about our unit fails the test too. It also checks that ExecStart's program exists: where
 * Node is not /usr/bin/node (a Node container image), the copy under test names this Node.
 */
function verify(file: string): { status: number | null; output: string } {
	const work = mkdtempSync(join(tmpdir(), 'firesight-units-'));
	try {
		const copy = join(work, file);
		copyFileSync(join(dir, file), copy);
		if (!existsSync('/usr/bin/node')) writeFileSync(copy, readFileSync(copy, 'utf8').replaceAll('/usr/bin/node ', `${process.execPath} `));
		const r = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
		const output = `${r.stdout}${r.stderr}`
			.split('\n')
			.filter((line) => line.includes(file))
			.join('\n');
		return { status: r.status, output };
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}

/** A unit's lines without its comments. */
function settings(file: string): string {
	return readFileSync(join(dir, file), 'utf8')
		.split('\n')
		.filter((line) => !line.startsWith('#'))
		.join('\n');
}

test('there are units for the collector and the hub', () => {
	assert.deepEqual(units, ['firesight-collector.service', 'firesight-hub.service']);
});

for (const file of units) {
	test(`systemd-analyze verify passes on ${file}`, { skip: noSystemd }, () => {
		const { status, output } = verify(file);
		assert.equal(output, '', output);
		assert.equal(status, 0);
	});
}

test('the hub runs as an unprivileged dynamic user with its own state directory', () => {
	const unit = settings('firesight-hub.service');
	assert.match(unit, /^DynamicUser=yes$/m);
	assert.match(unit, /^StateDirectory=firesight$/m);
	assert.match(unit, /^CapabilityBoundingSet=$/m);
	assert.match(unit, /--data %S\/firesight/);
	assert.doesNotMatch(unit, /FIRESIGHT_TOKEN=|--token /, 'the token belongs in the environment file');
});

test('the collector keeps only the capabilities it uses', () => {
	const unit = settings('firesight-collector.service');
	const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1]?.split(' ').sort();
	assert.deepEqual(caps, [
		'CAP_BPF',
		'CAP_DAC_READ_SEARCH',
		'CAP_NET_ADMIN',
		'CAP_PERFMON',
		'CAP_SYSLOG',
		'CAP_SYS_ADMIN',
		'CAP_SYS_PTRACE',
		'CAP_SYS_RESOURCE',
	]);
	assert.doesNotMatch(unit, /FIRESIGHT_TOKEN=|--token /, 'the token belongs in the environment file');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, formatLogRecord, logLine } from './logger.ts';

test('not on a terminal, each line is one JSON record with an ISO time, a level and the component', () => {
	const out: string[] = [];
	const log = logLine(createLogger('collector', { pretty: false, write: (chunk) => out.push(chunk) }));
	log('HTTPS request capture is off: no libssl');
	log('hub refused the token', 'error');
	assert.equal(out.length, 2);
	const [first, second] = out.map((line) => JSON.parse(line) as Record<string, unknown>);
	assert.equal(first!.msg, 'HTTPS request capture is off: no libssl');
	assert.equal(first!.name, 'collector');
	assert.equal(first!.level, 30);
	assert.equal(first!.pid, process.pid);
	assert.match(String(first!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
	assert.equal(second!.level, 50);
	assert.ok(
		out.every((line) => line.endsWith('\n') && line.split('\n').length === 2),
		'one line each',
	);
});

test('on a terminal, a line reads time, level, component and message', () => {
	const out: string[] = [];
	const log = logLine(createLogger('hub', { pretty: true, write: (chunk) => out.push(chunk) }));
	log('collector web-1 connected', 'warn');
	assert.match(out[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}hub: collector web-1 connected\n$/);
	assert.equal(
		formatLogRecord('{"time":"2026-01-02T03:04:05.678Z","level":30,"name":"hub","msg":"m","host":"a"}'),
		'03:04:05.678 INFO  hub: m {"host":"a"}\n',
	);
	assert.equal(formatLogRecord('not json\n'), 'not json\n');
});

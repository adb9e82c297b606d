import assert from 'node:assert/strict';

/** One unlabelled sample's value in a Prometheus text exposition; fails when it is missing. */
export function metricValue(text: string, name: string): number {
	const line = text.split('\n').find((l) => l.startsWith(`${name} `));
	assert.ok(line, `${name} is on /metrics`);
	return Number(line.split(' ')[1]);
}

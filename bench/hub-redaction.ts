/**
 * Hub CPU per live message, with command lines redacted once each (the hub's cache) against
 * redacted anew in every message (`redactedCommandLines: 0`, as before the cache). A collector
 * sends the same host's process table again and again, as a real one does every second; the
 * figure is the hub process's CPU (parse, validate, redact, publish, acknowledge) per message.
 *
 * Usage: npx tsx bench/hub-redaction.ts [--processes N] [--messages N] [--rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { startHub } from '@firesight/web/server';
import { writeResultsSection } from './results-file.ts';
import { benchArgs, wholeNumber } from './bench-args.ts';

// At most 100,000 each: more would only measure how long the run takes to make its messages.
const { values } = benchArgs({
	name: 'hub-redaction',
	summary: 'Hub CPU per live message, command lines redacted once each (the cache) against redacted anew in every message.',
	writes: 'the "Hub redaction cost" section of bench/RESULTS.md',
	options: {
		processes: { check: wholeNumber(1, 100_000), placeholder: 'N', help: 'processes in each message', default: '1000' },
		messages: { check: wholeNumber(1, 100_000), placeholder: 'N', help: 'messages sent in each round', default: '200' },
		rounds: { check: wholeNumber(1, 100_000), placeholder: 'N', help: 'rounds; each measures both ways', default: '5' },
	},
});
const PROCESSES = values.processes;
const MESSAGES = values.messages;
const ROUNDS = values.rounds;
const TOKEN = 'bench-token';

/** Command lines like a busy host's: interpreters with scripts and options, a few with credentials. */
function commandLine(i: number): string {
	switch (i % 6) {
		case 0:
			return `/usr/bin/python3 -m gunicorn app.wsgi:application --workers 4 --bind 0.0.0.0:${8000 + (i % 100)} --log-level info`;
		case 1:
			return `node /srv/api/dist/server.js --port ${3000 + (i % 50)} --config /etc/api/config-${i}.json`;
		case 2:
			return `postgres: app appdb 10.0.${i % 255}.${(i * 7) % 255}(5${i % 1000}) idle`;
		case 3:
			return `/usr/lib/jvm/java-17/bin/java -Xmx2g -Dspring.profiles.active=prod -Ddb.password=pw${i} -jar /opt/svc/svc-${i}.jar`;
		case 4:
			return `curl -sk -H Authorization: Bearer tok${i} https://internal.example/api/v1/items?page=${i}`;
		default:
			return `/usr/sbin/nginx -g daemon off; worker ${i}`;
	}
}

function liveMessage(seq: number): string {
	const processes = Array.from({ length: PROCESSES }, (_, i) => ({
		pid: 1000 + i,
		comm: `p${i % 50}`,
		cmdline: commandLine(i),
		cpuPercent: (i * 13 + seq) % 100,
		samplesPerSec: (i + seq) % 97,
	}));
	return JSON.stringify({ type: 'live', stats: { host: 'bench', ts: Date.now(), frequencyHz: 99, processes, drops: {} } });
}

/** CPU microseconds of this process (hub and client) per live message, over `MESSAGES` acknowledged ones. */
async function measure(redactedCommandLines: number | undefined): Promise<number> {
	const dir = mkdtempSync(join(tmpdir(), 'firesight-bench-redact-'));
	const hub = await startHub({
		listen: { host: '127.0.0.1', port: 0 },
		dataDir: dir,
		token: TOKEN,
		web: false,
		log: () => {},
		...(redactedCommandLines === undefined ? {} : { redactedCommandLines }),
	});
	const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}/ingest`, { headers: { authorization: `Bearer ${TOKEN}` } });
	try {
		let replies = 0;
		let wake: (() => void) | undefined;
		ws.on('message', () => {
			replies++;
			wake?.();
		});
		await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
		const sendAndWait = async (text: string) => {
			const want = replies + 1;
			ws.send(text);
			while (replies < want) await new Promise<void>((r) => (wake = r));
		};
		await sendAndWait(JSON.stringify({ type: 'hello', host: 'bench', version: 'bench', frequencyHz: 99 }));
		// The texts are built before measuring: the client's JSON is not the hub's cost.
		const texts = Array.from({ length: MESSAGES + 10 }, (_, i) => liveMessage(i));
		for (const t of texts.slice(0, 10)) await sendAndWait(t); // warm-up: JIT, and the cache filled
		const before = process.cpuUsage();
		for (const t of texts.slice(10)) await sendAndWait(t);
		const used = process.cpuUsage(before);
		return (used.user + used.system) / MESSAGES;
	} finally {
		ws.terminate();
		await hub.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const uncached: number[] = [];
const cached: number[] = [];
const loads: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
	loads.push(loadavg()[0]!);
	// Alternated, so a change in the machine's load falls on both.
	uncached.push(await measure(0));
	cached.push(await measure(undefined));
	console.error(`hub-redaction: round ${r + 1}: anew ${uncached.at(-1)!.toFixed(0)} µs, once ${cached.at(-1)!.toFixed(0)} µs per message`);
}
const a = median(uncached);
const b = median(cached);
const body = `
Hub CPU per live message of ${PROCESSES} processes (a sixth of their command lines with a credential),
the same host's table sent ${MESSAGES} times per measurement and each acknowledged, median of ${ROUNDS} rounds;
the CPU is the whole process's (hub and the sending client), so the ratio understates the hub's own gain.
Run: \`npx tsx bench/hub-redaction.ts\`, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, load average (1 min) ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.

| command lines | CPU per message | rounds |
|---|---:|---|
| redacted anew in every message (before) | ${(a / 1000).toFixed(2)} ms | ${uncached.map((x) => (x / 1000).toFixed(2)).join(', ')} |
| redacted once each, cached (after) | ${(b / 1000).toFixed(2)} ms | ${cached.map((x) => (x / 1000).toFixed(2)).join(', ')} |
| ratio after / before | ${(b / a).toFixed(2)}× | |
`;
writeResultsSection('Hub redaction cost', body);
console.error(body);

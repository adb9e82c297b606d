/**
 * A hub with the dashboard and a fake collector, for working on the UI without BPF:
 *   node --import tsx e2e/src/dev-hub.ts [--listen 127.0.0.1:7310] [--dev] [--no-collector]
 * `--dev` serves Next in development mode (hot reload); otherwise run `npm run build -w @firesight/web` first.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '@firesight/web/server';
import { startFakeCollector } from '@firesight/testing/fake-collector';

const args = process.argv.slice(2);
const listenArg = args[args.indexOf('--listen') + 1];
const [host, port] =
	args.includes('--listen') && listenArg ? [listenArg.split(':')[0] ?? '127.0.0.1', Number(listenArg.split(':')[1])] : ['127.0.0.1', 7310];
const token = 'dev-token';
const dataDir = process.env.FIRESIGHT_DATA ?? mkdtempSync(join(tmpdir(), 'firesight-dev-'));
const hub = await startHub({ listen: { host, port }, token, dataDir, dev: args.includes('--dev') });
console.log(`hub on ${hub.url} (data in ${dataDir})`);
const collector = args.includes('--no-collector') ? null : await startFakeCollector({ hubUrl: hub.url, token });

const stop = async () => {
	await collector?.close();
	await hub.close();
	process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

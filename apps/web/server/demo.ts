/**
 * A hub fed by a synthetic collector, for UI work and screenshots without root:
 *   node --import tsx apps/web/server/demo.ts [PORT]
 * FIRESIGHT_DEV=1 serves the dashboard with `next dev`; FIRESIGHT_WEB=0 serves only the API.
 * Data goes to a temporary directory unless FIRESIGHT_DATA is set.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoFeed } from './demo-feed.ts';
import { startHub } from './index.ts';

const port = Number(process.argv[2] ?? 7300);
const token = 'demo-token-0000';
const hub = await startHub({
	listen: { host: '127.0.0.1', port },
	token,
	dataDir: process.env.FIRESIGHT_DATA || mkdtempSync(join(tmpdir(), 'firesight-demo-')),
	dev: process.env.FIRESIGHT_DEV === '1',
	web: process.env.FIRESIGHT_WEB !== '0',
});
const feed = startDemoFeed({ hub: hub.url, token });
console.log(`demo hub on ${hub.url} (token ${token}); Ctrl-C to stop`);
const stop = async () => {
	feed.stop();
	await hub.close();
	process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

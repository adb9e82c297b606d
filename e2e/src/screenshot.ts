/**
 * Screenshots of dashboard pages, for looking at them as a user would:
 *   node --import tsx e2e/src/screenshot.ts http://127.0.0.1:7310 out-dir [path ...]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './browser.ts';

const [base = 'http://127.0.0.1:7300', outDir = 'test-results', ...paths] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const browser = await launchChromium();
try {
	const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
	page.on('console', (message) => {
		if (message.type() === 'error') console.error(`console: ${message.text()}`);
	});
	page.on('pageerror', (error) => console.error(`pageerror: ${error.message}`));
	for (const [index, path] of (paths.length > 0 ? paths : ['/', '/profiles']).entries()) {
		await page.goto(base + path, { waitUntil: 'networkidle' });
		await page.waitForTimeout(Number(process.env.SHOT_WAIT ?? 2500));
		const file = join(outDir, `${String(index).padStart(2, '0')}-${path.replace(/[^a-z0-9]+/gi, '_').slice(0, 60) || 'root'}.png`);
		await page.screenshot({ path: file, fullPage: process.env.SHOT_FULL === '1' });
		console.log(file);
	}
} finally {
	await browser.close();
}

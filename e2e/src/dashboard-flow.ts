import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { drawnFrames, frameColor, isColor, MATCH_COLOR, paintedFlame } from './flame-frames.ts';
import { parseShare, screenshot, waitFor } from './support.ts';

/**
 * The steps a user takes, shared by the fake-collector and the real `firesight up` tests. Every
 * deadline here only ends a hung run; none is a claim about speed (bench/ measures that).
 */

/**
 * Opens the live table and waits for the process's row, with a deadline meant only to end a
 * hung run: how fast a sample reaches the browser is measured by bench/live-latency.ts, not here.
 * Returns how long the page took, for the test's diagnostics.
 */
export async function expectProcessRow(page: Page, base: string, pid: number, shot: string): Promise<number> {
	const started = Date.now();
	await page.goto(`${base}/`);
	const row = page.getByTestId(`process-row-${pid}`);
	await row.waitFor({ state: 'visible', timeout: 60_000 });
	const elapsed = Date.now() - started;
	assert.equal(await page.getByTestId('live-stale-note').count(), 0, 'the table is current, not an old snapshot');
	await screenshot(page, shot);
	return elapsed;
}

export interface ShareCheck {
	pid: number;
	/** Wait until the merged profile has at least this many samples, so the share is meaningful. */
	minSamples: number;
	expectedShare: number;
	tolerance: number;
	shotPrefix: string;
}

async function totalSamples(page: Page): Promise<number> {
	const text = await page.getByTestId('total-samples').textContent({ timeout: 1_000 });
	return Number((text ?? '0').replace(/[^\d]/g, ''));
}

export async function checkProfileShare(page: Page, check: ShareCheck): Promise<{ share: number; samples: number }> {
	await page.getByTestId(`process-row-${check.pid}`).click();
	await page.waitForURL((url) => url.pathname === '/profiles' && url.searchParams.get('pid') === String(check.pid));
	// Follow new windows until enough samples are merged.
	await page.getByTestId('live-toggle').check();
	const samples = await waitFor(
		'enough samples in the profile',
		async () => {
			const count = await totalSamples(page);
			return count >= check.minSamples ? count : null;
		},
		60_000,
		500,
	);
	// Freeze the view so the share is read from one fetch.
	await page.getByTestId('live-toggle').uncheck();
	await paintedFlame(page.getByTestId('flame-graph'), () => true, 30_000);
	await screenshot(page, `${check.shotPrefix}-profile`);

	await page.getByTestId('flame-search').fill('hot_a');
	const shareText = await waitFor(
		'the search share',
		async () => {
			const text = (await page.getByTestId('flame-search-share').textContent()) ?? '';
			return /% of samples match/.test(text) ? text : null;
		},
		30_000,
	);
	const share = parseShare(shareText);
	await screenshot(page, `${check.shotPrefix}-search-hot_a`);
	assert.ok(
		Math.abs(share - check.expectedShare) <= check.tolerance,
		`hot_a share ${share}% is not within ±${check.tolerance} of ${check.expectedShare}% (${shareText})`,
	);
	const graph = page.getByTestId('flame-graph');
	await paintedFlame(graph, (state) => state.matches > 0, 30_000, 'the search highlighted');
	const [hot] = await drawnFrames(graph, { name: 'hot_a' });
	assert.ok(hot, 'hot_a is drawn');
	const color = await frameColor(graph, hot);
	assert.ok(isColor(color, MATCH_COLOR), `the matching frame is highlighted: ${color.join(', ')}`);

	await page.getByTestId('view-table').click();
	const table = page.getByTestId('top-functions');
	await table.waitFor({ state: 'visible' });
	await page.getByTestId('flame-search').fill('');
	const firstRow = table.getByTestId('top-function-row').first();
	await firstRow.waitFor();
	const names = await table.getByTestId('top-function-row').allTextContents();
	assert.ok(
		names.some((name) => name.includes('hot_a')) && names.some((name) => name.includes('hot_b')),
		`top functions list hot_a and hot_b: ${names.slice(0, 5).join(' | ')}`,
	);
	assert.ok(names[0]?.includes('hot_a'), `hot_a has the most self time: ${names[0]}`);
	await screenshot(page, `${check.shotPrefix}-top-functions`);
	return { share, samples };
}

/** Stops the hub, sees the banner, starts it again, sees the banner go. */
export async function checkBanner(page: Page, stop: () => Promise<void>, start: () => Promise<void>, shotPrefix: string): Promise<void> {
	const banner = page.getByTestId('disconnected-banner');
	await banner.waitFor({ state: 'hidden' });
	await stop();
	await banner.waitFor({ state: 'visible' });
	assert.equal(await banner.getAttribute('data-kind'), 'hub');
	await screenshot(page, `${shotPrefix}-banner`);
	await start();
	// Reconnect backoff is at most 8 s; then the status must show a connected collector.
	await banner.waitFor({ state: 'hidden', timeout: 60_000 });
	await screenshot(page, `${shotPrefix}-recovered`);
}

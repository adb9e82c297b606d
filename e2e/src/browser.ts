import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: Playwright must never download a browser (the hosts are offline). */
export const CHROMIUM_PATH = process.env.FIRESIGHT_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
	return chromium.launch({
		executablePath: CHROMIUM_PATH,
		args: [
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
		],
	});
}

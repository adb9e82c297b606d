import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: Playwright must never download a browser (the hosts are offline). */
export const CHROMIUM_PATH = process.env.FIRESIGHT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * How long a page may take to load, and an action or a wait to succeed, unless a call says
 * otherwise: a loaded machine makes pages slow (a load once took over Playwright's 30 s at a load
 * average of 36), and a wait for a condition only gets slower, never wrong.
 */
export const PAGE_TIMEOUT_MS = 120_000;

export async function launchChromium(): Promise<Browser> {
	const browser = await chromium.launch({
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
	// Every context gets the deadlines, including the one browser.newPage() opens for its page.
	const newContext = browser.newContext.bind(browser);
	browser.newContext = async (options) => {
		const context = await newContext(options);
		context.setDefaultTimeout(PAGE_TIMEOUT_MS);
		context.setDefaultNavigationTimeout(PAGE_TIMEOUT_MS);
		return context;
	};
	return browser;
}

/// <reference lib="dom" />
/**
 * The browser paint-timing harness the page benchmarks share: a probe installed before any page
 * script notes the flame graph's first draw on its canvas, and a frame later counts as painted,
 * on the page's own clock from navigation start; resource timing gives a query's start and end on
 * the same clock.
 */
import type { launchChromium } from '@firesight/e2e/browser';

type BrowserContext = Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>['newContext']>>;

export const median = (xs: number[]): number => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length ? (s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) : NaN;
};

export const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x)}` : '–');

/** Runs in the page before its scripts (`context.addInitScript(pageProbe)`). */
export function pageProbe(): void {
	const w = window as unknown as { __flame: { drawn: number; painted: number } };
	w.__flame = { drawn: -1, painted: -1 };
	const observer = new MutationObserver(() => {
		if (w.__flame.drawn >= 0) return;
		// The canvas graph counts its paints in data-draws; the SVG one held rects.
		const canvas = document.querySelector<HTMLElement>('[data-testid="flame-graph"] [data-testid="flame-canvas"]');
		if (!(Number(canvas?.dataset.draws ?? 0) > 0) && !document.querySelector('[data-testid="flame-graph"] svg rect')) return;
		w.__flame.drawn = performance.now();
		observer.disconnect();
		// The rAF callback runs before the frame is painted; a task queued from it runs after.
		requestAnimationFrame(() => setTimeout(() => (w.__flame.painted = performance.now()), 0));
	});
	observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-draws'] });
}

export interface PaintTiming {
	/** Navigation start to the first painted flame graph. */
	painted: number;
	/** The flame graph's first rect in the DOM. */
	drawn: number;
	/** The first request whose URL names `query`: its start and its response's end (NaN when none). */
	queryStart: number;
	queryEnd: number;
	/** Requests naming `query` made by then. */
	queries: number;
}

/** Opens `url` in a new page of a context that has `pageProbe`, and times it to the first paint. */
export async function timePaint(context: BrowserContext, url: string, query: string, timeoutMs = 120_000): Promise<PaintTiming> {
	const page = await context.newPage();
	try {
		await page.goto(url);
		await page.waitForFunction(() => (window as unknown as { __flame: { painted: number } }).__flame.painted >= 0, null, {
			timeout: timeoutMs,
		});
		return await page.evaluate((name) => {
			const f = (window as unknown as { __flame: { drawn: number; painted: number } }).__flame;
			const requests = performance.getEntriesByType('resource').filter((e) => e.name.includes(name)) as PerformanceResourceTiming[];
			return {
				painted: f.painted,
				drawn: f.drawn,
				queryStart: requests[0]?.startTime ?? NaN,
				queryEnd: requests[0]?.responseEnd ?? NaN,
				queries: requests.length,
			};
		}, query);
	} finally {
		await page.close();
	}
}

/**
 * Merge work done between two returns to the event loop, in samples (and stacks, rows) handled.
 * A whole-host hour is hundreds of thousands of distinct stacks: merged in one go it kept the
 * hub's event loop, and every other request (`/healthz`, ingest, live pages), waiting for seconds.
 * A count rather than a time, so the same data is cut the same way on any machine.
 */
export const MERGE_SLICE = 65_536;

/** Lets the event loop run what waits (I/O, timers) before the next slice of a merge. */
export const yieldToLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

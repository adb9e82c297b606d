/** CLOCK_MONOTONIC nanoseconds and epoch milliseconds, read together. */
export interface ClockReading {
	ns: bigint;
	ms: number;
}

/** Node's hrtime reads CLOCK_MONOTONIC, the clock of the kernel's timestamps (bpf_ktime_get_ns). */
export function readClocks(): ClockReading {
	return { ns: process.hrtime.bigint(), ms: Date.now() };
}

/**
 * Epoch ms (fractional) of a kernel CLOCK_MONOTONIC timestamp. Pass one reading for a whole batch
 * of events to read the clocks once rather than once per event.
 */
export function monotonicToEpochMs(ns: bigint, at: ClockReading = readClocks()): number {
	return at.ms - Number(at.ns - ns) / 1e6;
}

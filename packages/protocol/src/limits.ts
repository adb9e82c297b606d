/**
 * Upper bounds on everything that crosses the wire. They keep a buggy or hostile peer from
 * making the hub allocate without bound; a message over a limit is rejected with a zod error.
 */
export const limits = {
	/** Host names, comms, modules: a generous bound over what the kernel and DNS allow. */
	shortString: 256,
	/** Function names: C++ and Rust demangled names can be very long. */
	frameName: 4096,
	/** /proc/PID/cmdline, truncated by the collector. */
	cmdline: 4096,
	/** Distinct frames in one profile window. */
	framesPerWindow: 500_000,
	/** Distinct (pid, stack) rows in one profile window. */
	stacksPerWindow: 500_000,
	/** Depth of one stack (the BPF side caps at 127 user + 127 kernel). */
	stackDepth: 512,
	/** Process rows in one live snapshot. */
	processesPerSnapshot: 100_000,
	/** Named drop counters in one message. */
	dropCounters: 256,
	/** Features a collector reports as running or failed. */
	features: 64,
	/** Hosts in one status message. */
	hosts: 10_000,
	/** Longest window a collector may send: one hour. */
	maxWindowMs: 3_600_000,
	/** Largest single WebSocket message the hub accepts, in bytes. */
	maxMessageBytes: 64 * 1024 * 1024,
} as const;

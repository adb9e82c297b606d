import type { DataMessage, ProcessRow, WarmUp } from '@firesight/protocol';

/** What the agent gives a feature when it starts it. */
export interface FeatureContext {
	host: string;
	/** Queues a message for the hub; its type's queue class decides what goes first under pressure. */
	send(message: DataMessage): void;
	log(line: string): void;
}

/**
 * One signal of the collector (CPU profiles, TCP, TLS requests, and the next ones), as the agent
 * runs it. The agent owns the clock and the process table: every tick it calls tick(), passes
 * the process rows through each feature's processRows(), and sends them with every feature's
 * drops(); every window it calls window(). A feature sends its own messages through the context.
 */
export interface Feature {
	/** Each tick (twice a second): drain and send what is live (snapshots, batches). */
	tick?(): void | Promise<void>;
	/** The live process rows with this feature's columns filled in. */
	processRows?(rows: ProcessRow[]): ProcessRow[];
	/** A process appeared in the table. */
	processStarted?(pid: number): void;
	/** A process left the table (exited, or its pid was reused). */
	processExited?(pid: number): void;
	/** Each window: send what is stored (profiles, retransmit and request windows). */
	window?(): void | Promise<void>;
	/**
	 * Loss counters since start, named as the decoder names them; the agent reports them as
	 * `<feature>.<counter>` in LiveStats.drops, and so in /metrics and the UI.
	 */
	drops(): Record<string, number>;
	/**
	 * While the feature is running but not sending data yet (the profiler loading unwind tables),
	 * since when and how far; the agent reports it in LiveStats.warmingUp, so the dashboard says so.
	 */
	warmingUp?(): Omit<WarmUp, 'feature'> | undefined;
	/** Sends what is pending and detaches. */
	stop(): Promise<void>;
}

export interface FeatureDefinition {
	/** Short name, the prefix of its drop counters: `profile`, `tcp`, `tls`. */
	readonly name: string;
	/** What it is to a person reading the log: `<title> is off: <reason>`. */
	readonly title: string;
	/**
	 * Loads and starts the feature. Throws when it cannot (no BPF, no uprobes, ...): the agent logs
	 * the reason, reports the feature as failed to the hub, and runs on with the others.
	 */
	start(context: FeatureContext): Feature;
}

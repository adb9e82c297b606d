import { redactRequestBatch, type DataMessage, type DataMessageType, type MessageId, type RedactionRules } from '@firesight/protocol';
import type { Storage } from '@firesight/store';
import type { CommandLineRedactor } from './command-line-redactor.ts';
import type { HubState } from './hub-state.ts';
import type { HubMetrics } from './metrics.ts';

/** What a route may use: the stores, the live state, and the metrics. */
export interface RouteContext {
	storage: Pick<Storage, 'profiles' | 'connections' | 'requests'>;
	state: HubState;
	metrics: HubMetrics;
	/** Which captured headers are secrets. */
	redaction: RedactionRules;
	/** The same rules for command lines, each redacted once (see CommandLineRedactor). */
	commandLines: CommandLineRedactor;
}

/**
 * What the hub does with one type of collector message, once it is valid and for the host of
 * its connection: `persist` stores it (resolving once durable), then `live` updates what
 * browsers see. Either may be absent.
 */
export interface IngestRoute<M extends DataMessage> {
	/** How error messages name it: `could not store the <what>`. */
	what: string;
	/** Applied before anything else, so storage and browsers see the same message. */
	prepare?(message: M, ctx: RouteContext): M;
	/** `id`, when the message has one, is stored in the same write as the message (see IngestLedger). */
	persist?(message: M, ctx: RouteContext, id: MessageId | undefined): Promise<void>;
	live?(message: M, ctx: RouteContext): void;
}

export type IngestRoutes = { [T in DataMessageType]: IngestRoute<Extract<DataMessage, { type: T }>> };

/** One entry per collector message type; a type without one fails to compile. */
export const ingestRoutes: IngestRoutes = {
	profile: {
		what: 'profile window',
		persist: (m, { storage }, id) => storage.profiles.insertWindow(m.window, id),
		live(m, { state, metrics }) {
			metrics.windowsIngested.inc({ host: m.window.host });
			state.publish({ type: 'window', host: m.window.host, startMs: m.window.startMs, durationMs: m.window.durationMs });
		},
	},
	live: {
		what: 'live stats',
		// Collectors redact command lines; again here, as for requests, against a buggy or old one.
		prepare: (m, { commandLines }) => ({
			...m,
			stats: {
				...m.stats,
				processes: m.stats.processes.map((p) => {
					const cmdline = commandLines.redact(p.cmdline);
					return cmdline === p.cmdline ? p : { ...p, cmdline };
				}),
			},
		}),
		live: (m, { state }) => state.live(m.stats),
	},
	connections: {
		what: 'connection table',
		live: (m, { state }) => state.setLatest({ ...m.snapshot, type: 'connections' }),
	},
	retransmitWindow: {
		what: 'retransmit window',
		persist: (m, { storage }, id) => storage.connections.insertWindow(m.window, id),
	},
	requests: {
		what: 'requests',
		// The collector redacted them before they left the host; the same rules again here keep a
		// buggy collector from putting a credential in storage.
		prepare: (m, { redaction }) => ({ ...m, batch: redactRequestBatch(m.batch, redaction) }),
		persist: (m, { storage }) => storage.requests.insertBatch(m.batch),
		live: (m, { state }) => state.requests(m.batch),
	},
	requestWindow: {
		what: 'request window',
		persist: (m, { storage }, id) => storage.requests.insertWindow(m.window, id),
	},
};

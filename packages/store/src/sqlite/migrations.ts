import type Database from 'better-sqlite3';
import { packSamples } from './profile-codec.ts';

export interface Migration {
	version: number;
	name: string;
	up(db: Database.Database): void;
}

/**
 * Ordered schema history. Append, never edit: a database remembers the last version it ran in
 * `PRAGMA user_version`, and only later entries run on open.
 */
export const migrations: readonly Migration[] = [
	{
		version: 1,
		name: 'profile windows with per-host interned frames and stacks',
		up(db) {
			db.exec(`
				CREATE TABLE hosts (
					id INTEGER PRIMARY KEY,
					name TEXT NOT NULL UNIQUE
				);
				CREATE TABLE frames (
					id INTEGER PRIMARY KEY,
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					kind INTEGER NOT NULL,
					module TEXT NOT NULL,
					name TEXT NOT NULL,
					UNIQUE (host_id, kind, module, name)
				);
				-- A stack is its frame ids (uint32 little-endian, root first) in one blob.
				CREATE TABLE stacks (
					id INTEGER PRIMARY KEY,
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					frame_ids BLOB NOT NULL,
					UNIQUE (host_id, frame_ids)
				);
				CREATE TABLE windows (
					id INTEGER PRIMARY KEY,
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					start_ms INTEGER NOT NULL,
					duration_ms INTEGER NOT NULL,
					frequency_hz REAL NOT NULL
				);
				CREATE INDEX windows_start ON windows (start_ms);
				CREATE INDEX windows_host_start ON windows (host_id, start_ms);
				CREATE TABLE samples (
					window_id INTEGER NOT NULL REFERENCES windows(id),
					pid INTEGER NOT NULL,
					comm TEXT NOT NULL,
					stack_id INTEGER NOT NULL REFERENCES stacks(id),
					count INTEGER NOT NULL
				);
				CREATE INDEX samples_window ON samples (window_id);
				CREATE INDEX samples_stack ON samples (stack_id);
				-- Every (pid, comm) seen per host, so "unknown pid" differs from "no samples in range".
				CREATE TABLE processes (
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					pid INTEGER NOT NULL,
					comm TEXT NOT NULL,
					first_ms INTEGER NOT NULL,
					last_ms INTEGER NOT NULL,
					PRIMARY KEY (host_id, pid, comm)
				);
				CREATE INDEX processes_pid ON processes (pid);
			`);
		},
	},
	{
		version: 2,
		name: 'samples packed per window; stacks remember when they were last used',
		up(db) {
			// Reading one row per sample made a one-hour query scan hundreds of thousands of
			// scattered rows; one blob per window reads sequentially and decodes in JS.
			db.exec(`
				CREATE TABLE comms (
					id INTEGER PRIMARY KEY,
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					comm TEXT NOT NULL,
					UNIQUE (host_id, comm)
				);
				-- data: little-endian uint32 quadruples (stack_id, pid, comm_id, count).
				CREATE TABLE window_samples (
					window_id INTEGER PRIMARY KEY REFERENCES windows(id),
					data BLOB NOT NULL
				);
				ALTER TABLE stacks ADD COLUMN last_ms INTEGER NOT NULL DEFAULT 0;
				INSERT INTO comms (host_id, comm)
					SELECT DISTINCT w.host_id, s.comm FROM samples s JOIN windows w ON w.id = s.window_id;
				UPDATE stacks SET last_ms = COALESCE((
					SELECT MAX(w.start_ms + w.duration_ms) FROM samples s JOIN windows w ON w.id = s.window_id
					WHERE s.stack_id = stacks.id), 0);
			`);
			const insert = db.prepare('INSERT INTO window_samples (window_id, data) VALUES (?, ?)');
			let current = -1;
			let rows: number[] = [];
			const flush = () => {
				if (current >= 0) insert.run(current, packSamples(rows));
				rows = [];
			};
			for (const [windowId, stackId, pid, commId, count] of db
				.prepare(
					`SELECT s.window_id, s.stack_id, s.pid, c.id, s.count FROM samples s
					 JOIN windows w ON w.id = s.window_id JOIN comms c ON c.host_id = w.host_id AND c.comm = s.comm
					 ORDER BY s.window_id`,
				)
				.raw()
				.iterate() as Iterable<[number, number, number, number, number]>) {
				if (windowId !== current) {
					flush();
					current = windowId;
				}
				rows.push(stackId, pid, commId, count);
			}
			flush();
			db.exec(`
				DROP TABLE samples;
				CREATE INDEX stacks_last ON stacks (last_ms);
			`);
		},
	},
	{
		version: 3,
		name: 'per-window, per-connection TCP retransmits',
		up(db) {
			createConnectionTables(db);
		},
	},
	{
		version: 4,
		name: 'HTTPS requests (as the collector redacted them) and per-window endpoint aggregates',
		up(db) {
			createRequestTables(db);
		},
	},
	{
		version: 5,
		name: 'the connection and request tables again, where a database skipped versions 3 or 4',
		up(db) {
			// Versions 3 and 4 landed in parallel builds: a database one of them migrated can be
			// marked past the other without its tables. Both are idempotent, so they run again
			// here; where the tables exist this changes nothing.
			createConnectionTables(db);
			createRequestTables(db);
		},
	},
	{
		version: 6,
		name: 'shares: profile snapshots handed out by link, kept until deleted',
		up(db) {
			db.exec(`
				CREATE TABLE shares (
					id TEXT PRIMARY KEY,
					created_ms INTEGER NOT NULL,
					creator TEXT,
					source TEXT NOT NULL,
					view_state TEXT,
					total_samples INTEGER NOT NULL,
					stacks INTEGER NOT NULL,
					-- The snapshot, a @firesight/profile Profile as gzipped JSON.
					profile BLOB NOT NULL
				);
				CREATE INDEX shares_created ON shares (created_ms);
			`);
		},
	},
	{
		version: 7,
		name: 'the ingest ledger: the highest stored message sequence per collector run',
		up(db) {
			db.exec(`
				CREATE TABLE IF NOT EXISTS ingested_messages (
					host TEXT NOT NULL,
					boot TEXT NOT NULL,
					seq INTEGER NOT NULL,
					updated_ms INTEGER NOT NULL,
					PRIMARY KEY (host, boot)
				);
			`);
		},
	},
	{
		version: 8,
		name: 'request labels of profile samples: the endpoint and request their thread was serving',
		up(db) {
			// Interned per host like comms; '' stands for an absent endpoint or request id.
			// window_samples.labels: one uint32 label id per sample, in the order of `data`'s
			// quadruples (0: no label); NULL when no sample of the window has one, so older
			// windows and unattributed ones stay as they were.
			db.exec(`
				CREATE TABLE sample_labels (
					id INTEGER PRIMARY KEY,
					host_id INTEGER NOT NULL REFERENCES hosts(id),
					endpoint TEXT NOT NULL,
					request_id TEXT NOT NULL,
					ambiguous INTEGER NOT NULL,
					last_ms INTEGER NOT NULL,
					UNIQUE (host_id, endpoint, request_id, ambiguous)
				);
				CREATE INDEX sample_labels_endpoint ON sample_labels (endpoint);
				CREATE INDEX sample_labels_request ON sample_labels (request_id);
				CREATE INDEX sample_labels_last ON sample_labels (last_ms);
				ALTER TABLE window_samples ADD COLUMN labels BLOB;
			`);
		},
	},
	{
		version: 9,
		name: 'requests keep their requestId, the label of the profile samples attributed to them',
		up(db) {
			db.exec('ALTER TABLE http_requests ADD COLUMN request_id TEXT');
		},
	},
];

/** Per-window, per-connection TCP retransmits (migration 3; idempotent, migration 5 runs it again). */
function createConnectionTables(db: Database.Database): void {
	// Denormalized on purpose: a window holds few connections (only those that
	// retransmitted), and queries group by the tuple anyway.
	db.exec(`
		CREATE TABLE IF NOT EXISTS connection_retransmits (
			host TEXT NOT NULL,
			start_ms INTEGER NOT NULL,
			duration_ms INTEGER NOT NULL,
			cookie TEXT NOT NULL,
			pid INTEGER NOT NULL,
			comm TEXT NOT NULL,
			family INTEGER NOT NULL,
			saddr TEXT NOT NULL,
			sport INTEGER NOT NULL,
			daddr TEXT NOT NULL,
			dport INTEGER NOT NULL,
			retransmits INTEGER NOT NULL,
			state TEXT NOT NULL,
			first_ms INTEGER,
			last_ms INTEGER
		);
		CREATE INDEX IF NOT EXISTS connection_retransmits_start ON connection_retransmits (start_ms);
		CREATE INDEX IF NOT EXISTS connection_retransmits_pid ON connection_retransmits (pid, start_ms);
	`);
}

/** HTTPS requests and per-window endpoint aggregates (migration 4; idempotent, migration 5 runs it again). */
function createRequestTables(db: Database.Database): void {
	db.exec(`
		CREATE TABLE IF NOT EXISTS http_requests (
			id INTEGER PRIMARY KEY,
			host TEXT NOT NULL,
			ts REAL NOT NULL,
			pid INTEGER NOT NULL,
			comm TEXT NOT NULL,
			role TEXT NOT NULL,
			method TEXT NOT NULL,
			path TEXT NOT NULL,
			endpoint TEXT NOT NULL,
			status INTEGER NOT NULL,
			latency_ms REAL NOT NULL,
			req_bytes INTEGER NOT NULL,
			resp_bytes INTEGER NOT NULL,
			local TEXT,
			remote TEXT,
			connection TEXT,
			http_version TEXT NOT NULL,
			request_headers TEXT NOT NULL,
			response_headers TEXT NOT NULL,
			request_body TEXT,
			response_body TEXT
		);
		CREATE INDEX IF NOT EXISTS http_requests_ts ON http_requests (ts);
		CREATE INDEX IF NOT EXISTS http_requests_pid ON http_requests (pid, ts);
		CREATE TABLE IF NOT EXISTS request_endpoints (
			host TEXT NOT NULL,
			start_ms INTEGER NOT NULL,
			duration_ms INTEGER NOT NULL,
			pid INTEGER NOT NULL,
			comm TEXT NOT NULL,
			role TEXT NOT NULL,
			method TEXT NOT NULL,
			endpoint TEXT NOT NULL,
			count INTEGER NOT NULL,
			errors INTEGER NOT NULL,
			client_errors INTEGER NOT NULL,
			req_bytes INTEGER NOT NULL,
			resp_bytes INTEGER NOT NULL,
			sum_latency_ms REAL NOT NULL,
			max_latency_ms REAL NOT NULL,
			histogram BLOB NOT NULL
		);
		CREATE INDEX IF NOT EXISTS request_endpoints_start ON request_endpoints (start_ms);
	`);
}

/** Runs every migration newer than the database, each in its own transaction. Returns the version. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number {
	let current = db.pragma('user_version', { simple: true }) as number;
	// Features land in parallel and may append their entries out of order: run them by version.
	list = [...list].sort((a, b) => a.version - b.version);
	const latest = list.at(-1)?.version ?? 0;
	if (current > latest) {
		throw new Error(`database schema version ${current} is newer than this Firesight (${latest}); upgrade Firesight`);
	}
	for (const m of list) {
		if (m.version <= current) continue;
		db.transaction(() => {
			m.up(db);
			db.pragma(`user_version = ${m.version}`);
		})();
		current = m.version;
	}
	return current;
}

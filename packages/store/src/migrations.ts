import type Database from 'better-sqlite3';

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
];

/** Runs every migration newer than the database, each in its own transaction. Returns the version. */
export function migrate(db: Database.Database, list: readonly Migration[] = migrations): number {
	let current = db.pragma('user_version', { simple: true }) as number;
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

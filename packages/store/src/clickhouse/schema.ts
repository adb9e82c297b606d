import type { ClickHouseClient } from '@clickhouse/client';
import type { MessageId } from '@firesight/protocol';
import { str } from './sql.ts';

/** The schema version this code writes; a database at a newer one is refused. */
export const SCHEMA_VERSION = 4;

/**
 * Columns added after the tables were first made, with the version that added them. `TABLES`
 * lists them too, so a new database has them from the start.
 */
const ADDED_COLUMNS: Record<string, readonly { version: number; column: string }[]> = {
	// The request labels of profile samples ('' and 0 where a sample has none, and on the
	// marker rows): the endpoint and request the sampled thread was serving.
	profile_samples: [
		{ version: 3, column: 'endpoint String' },
		{ version: 3, column: 'request_id String' },
		{ version: 3, column: 'ambiguous UInt8' },
	],
	// The requestId the samples attributed to a request carry.
	http_requests: [{ version: 4, column: 'request_id Nullable(String)' }],
};

/** The added columns of a table, as its CREATE lists them. */
const addedColumns = (table: string) => (ADDED_COLUMNS[table] ?? []).map((c) => c.column).join(', ');

/**
 * A stored collector message's id (boot id and sequence number) as columns of the rows its
 * INSERT writes: ClickHouse has no transactions, but one INSERT into one table is one atomic
 * block, so the rows and their message's id are stored together or not at all.
 */
const MESSAGE_ID_COLUMNS = `message_boot String DEFAULT '', message_seq Int64 DEFAULT -1`;

/** The tables whose rows carry a message id, and which of their rows do (the ingest ledger reads them). */
export const MESSAGE_ID_TABLES = [
	{ table: 'profile_samples', rows: 'stack = 0' },
	{ table: 'connection_retransmits', rows: '1' },
	{ table: 'request_endpoints', rows: '1' },
] as const;

/** A JSONEachRow row's message id columns. */
export function messageIdColumns(id: MessageId | undefined): { message_boot: string; message_seq: number } {
	return { message_boot: id?.boot ?? '', message_seq: id?.seq ?? -1 };
}

/**
 * Tables for ClickHouse 18.16: MergeTree ordered by host and time, partitioned by day
 * (`day`, the UTC date of a window's start or a request's first byte), so retention drops whole
 * partitions. No TTL, DateTime64 or LowCardinality there: times are UInt64 epoch ms (Float64
 * for requests, whose times are fractional) beside the Date that partitions them.
 */
const TABLES: readonly string[] = [
	// One row per (window, stack, pid, comm), and one marker row per window (stack 0) carrying
	// the window's frequency: a window and its samples go in with one INSERT, all or nothing.
	// ord: a sample's place in its window, so a query gives samples back in the order they came.
	// message_boot/message_seq: the collector message's id, on the marker row (see MESSAGE_ID_TABLES).
	`CREATE TABLE IF NOT EXISTS profile_samples (
		day Date, host String, start_ms UInt64, duration_ms UInt32, frequency_hz Float64,
		stack UInt64, ord UInt32, pid UInt32, comm String, count UInt64, ${MESSAGE_ID_COLUMNS}, ${addedColumns('profile_samples')}
	) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (host, start_ms, ord)`,
	// The dictionary: a stack (hash of its frames' hashes) and a frame (hash of kind, module
	// and name), each written once per day it is used, in that day's partition, so dropping a
	// day drops exactly what only that day used, and a window always finds its stacks in its day.
	`CREATE TABLE IF NOT EXISTS profile_stacks (day Date, stack UInt64, frames Array(UInt64))
	 ENGINE = ReplacingMergeTree PARTITION BY toYYYYMMDD(day) ORDER BY stack`,
	`CREATE TABLE IF NOT EXISTS profile_frames (
		day Date, frame UInt64, kind Enum8('user' = 1, 'kernel' = 2, 'jit' = 3), module String, name String
	) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMMDD(day) ORDER BY frame`,
	// Filled from the marker rows and from each insert's distinct processes by materialized
	// views: host lists and process look-ups read these small tables, not the samples.
	`CREATE TABLE IF NOT EXISTS profile_windows (
		day Date, host String, start_ms UInt64, duration_ms UInt32, frequency_hz Float64
	) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (host, start_ms)`,
	`CREATE MATERIALIZED VIEW IF NOT EXISTS profile_windows_mv TO profile_windows AS
	 SELECT day, host, start_ms, duration_ms, frequency_hz FROM profile_samples WHERE stack = 0`,
	`CREATE TABLE IF NOT EXISTS profile_processes (day Date, host String, pid UInt32, comm String, last_ms UInt64)
	 ENGINE = ReplacingMergeTree(last_ms) PARTITION BY toYYYYMMDD(day) ORDER BY (pid, host, comm)`,
	`CREATE MATERIALIZED VIEW IF NOT EXISTS profile_processes_mv TO profile_processes AS
	 SELECT day, host, pid, comm, max(start_ms + duration_ms) AS last_ms FROM profile_samples
	 WHERE stack != 0 GROUP BY day, host, pid, comm`,
	`CREATE TABLE IF NOT EXISTS connection_retransmits (
		day Date, host String, start_ms UInt64, duration_ms UInt32, cookie String, pid UInt32, comm String,
		family UInt8, saddr String, sport UInt16, daddr String, dport UInt16, retransmits UInt32, state String,
		first_ms Nullable(UInt64), last_ms Nullable(UInt64), ${MESSAGE_ID_COLUMNS}
	) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (host, start_ms)`,
	// seq: insertion order, for the cap on stored requests (oldest go first).
	`CREATE TABLE IF NOT EXISTS http_requests (
		day Date, seq UInt64, host String, ts Float64, pid UInt32, comm String, role Enum8('client' = 1, 'server' = 2),
		method String, path String, endpoint String, status UInt16, latency_ms Float64, req_bytes UInt64, resp_bytes UInt64,
		local Nullable(String), remote Nullable(String), connection Nullable(String), http_version String,
		request_headers String, response_headers String, request_body Nullable(String), response_body Nullable(String),
		${addedColumns('http_requests')}
	) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (host, ts)`,
	`CREATE TABLE IF NOT EXISTS request_endpoints (
		day Date, host String, start_ms UInt64, duration_ms UInt32, pid UInt32, comm String,
		role Enum8('client' = 1, 'server' = 2), method String, endpoint String, count UInt64, errors UInt64,
		client_errors UInt64, req_bytes UInt64, resp_bytes UInt64, sum_latency_ms Float64, max_latency_ms Float64,
		histogram Array(UInt64), ${MESSAGE_ID_COLUMNS}
	) ENGINE = MergeTree PARTITION BY toYYYYMMDD(day) ORDER BY (host, start_ms)`,
	// Kept until deleted: no partitions to drop.
	`CREATE TABLE IF NOT EXISTS shares (
		id String, created_ms UInt64, creator Nullable(String), source String, view_state Nullable(String),
		total_samples UInt64, stacks UInt64, profile String
	) ENGINE = MergeTree ORDER BY id`,
	// The ingest ledger: a collector run's (host, boot) mark, newest row wins. It only adds to
	// the ids in the data tables, which are what makes a replay after a crash recognisable.
	`CREATE TABLE IF NOT EXISTS ingested_messages (host String, boot String, seq Int64, updated_ms UInt64)
	 ENGINE = ReplacingMergeTree(updated_ms) ORDER BY (host, boot)`,
	// What retention has hidden so far and the schema version, newest value per key.
	`CREATE TABLE IF NOT EXISTS meta (key String, value Float64, at UInt64) ENGINE = ReplacingMergeTree(at) ORDER BY key`,
];

/** Tables whose day partitions retention drops, by what decides when a row's time is up. */
export const WINDOW_TABLES = [
	'profile_samples',
	'profile_stacks',
	'profile_frames',
	'profile_windows',
	'profile_processes',
	'connection_retransmits',
	'request_endpoints',
] as const;

/** Creates the database and what is missing of the schema; refuses a newer schema. */
export async function createSchema(admin: ClickHouseClient, client: ClickHouseClient, database: string): Promise<void> {
	await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
	for (const query of TABLES) await client.command({ query });
	const found = await readMeta(client);
	const version = found.get('schema');
	if (version !== undefined && version > SCHEMA_VERSION) {
		throw new Error(`ClickHouse database '${database}' has schema version ${version}, newer than this Firesight (${SCHEMA_VERSION})`);
	}
	// Version 1 had no message ids in the data; ADD COLUMN appends, as CREATE above lists them.
	if (version === undefined || version < 2) {
		for (const { table } of MESSAGE_ID_TABLES) {
			const have = await (
				await client.query({
					query: `SELECT name FROM system.columns WHERE database = ${str(database)} AND table = ${str(table)} AND name LIKE 'message_%'`,
					format: 'JSONEachRow',
				})
			).json<{ name: string }>();
			if (!have.some((c) => c.name === 'message_boot'))
				await client.command({ query: `ALTER TABLE ${table} ADD COLUMN message_boot String DEFAULT ''` });
			if (!have.some((c) => c.name === 'message_seq'))
				await client.command({ query: `ALTER TABLE ${table} ADD COLUMN message_seq Int64 DEFAULT -1` });
		}
	}
	// 18.16 has no ADD COLUMN IF NOT EXISTS: add what system.columns lacks, so a crash before
	// the version mark below only means this runs again.
	for (const [table, added] of Object.entries(ADDED_COLUMNS)) {
		const due = added.filter((c) => version === undefined || version < c.version);
		if (due.length === 0) continue;
		const have = await (
			await client.query({
				query: `SELECT name FROM system.columns WHERE database = ${str(database)} AND table = ${str(table)}`,
				format: 'JSONEachRow',
			})
		).json<{ name: string }>();
		const missing = due.filter((c) => !have.some((h) => h.name === c.column.split(' ')[0]));
		if (missing.length > 0) {
			await client.command({ query: `ALTER TABLE ${table} ${missing.map((c) => `ADD COLUMN ${c.column}`).join(', ')}` });
		}
	}
	if (version === undefined || version < SCHEMA_VERSION) await writeMeta(client, 'schema', SCHEMA_VERSION);
}

/** The newest value of every key in `meta`. */
export async function readMeta(client: ClickHouseClient): Promise<Map<string, number>> {
	const rows = await (
		await client.query({ query: 'SELECT key, argMax(value, at) AS value FROM meta GROUP BY key', format: 'JSONEachRow' })
	).json<{ key: string; value: number }>();
	return new Map(rows.map((r) => [r.key, Number(r.value)]));
}

let lastAt = 0;

export async function writeMeta(client: ClickHouseClient, key: string, value: number): Promise<void> {
	// Strictly increasing within a process, so two writes in one millisecond keep their order.
	lastAt = Math.max(lastAt + 1, Date.now() * 1000);
	await client.command({ query: `INSERT INTO meta (key, value, at) VALUES (${str(key)}, ${value}, ${lastAt})` });
}

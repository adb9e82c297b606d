import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import type { ClickhouseStorageConfig, Storage } from '../storage.ts';
import { checkQueryBudget, querySignal } from '../query-budget.ts';
import { DEFAULT_MAX_REQUESTS, DEFAULT_PRUNE_INTERVAL_MS, DEFAULT_RETENTION_MS } from '../storage-options.ts';
import { parseClickhouseUrl, type ClickhouseLocation } from './clickhouse-url.ts';
import { ClickhouseConnectionStore } from './connection-store.ts';
import { ClickhouseIngestLedger } from './ingest-ledger.ts';
import { ClickhouseProfileStore } from './profile-store.ts';
import { ClickhouseRequestStore } from './request-store.ts';
import { prune } from './retention.ts';
import type { RetentionState } from './retention-state.ts';
import { createSchema, readMeta } from './schema.ts';
import { ClickhouseShareStore } from './share-store.ts';

function clientFor(at: ClickhouseLocation, database: string): ClickHouseClient {
	return createClient({
		url: at.httpUrl,
		username: at.username,
		password: at.password,
		database,
		request_timeout: 300_000,
		// Errors reach the caller as rejections; the client's own logging would print them twice.
		log: { level: ClickHouseLogLevel.OFF },
		clickhouse_settings: {
			// A dictionary look-up names up to 20,000 frames or 8,192 stacks in its text.
			max_query_size: '16777216',
		},
	});
}

/**
 * Every read through this client stops when the caller's query budget is spent: the client
 * aborts its HTTP request, so a flame query whose API answer timed out does not run on.
 */
function budgeted(client: ClickHouseClient): ClickHouseClient {
	const query = client.query.bind(client);
	client.query = ((params: Parameters<typeof query>[0]) => {
		// The client only listens for an abort to come: one that came already must stop it here.
		try {
			checkQueryBudget();
		} catch (err) {
			return Promise.reject(err);
		}
		const signal = querySignal();
		return query(signal && !params.abort_signal ? { ...params, abort_signal: signal } : params);
	}) as typeof client.query;
	return client;
}

/** Why the server cannot be used, in one line. */
function reachError(at: ClickhouseLocation, err: unknown): Error {
	const e = err as NodeJS.ErrnoException;
	const why = e.code ?? (e.message ?? String(err)).split('\n')[0];
	return new Error(`cannot use ClickHouse at ${at.httpUrl.replace('http://', '')}/${at.database}: ${why}`);
}

/**
 * The ClickHouse backend: every signal in one database, written in batches off the caller's
 * path (each insert resolves when its batch is stored), retention by day partitions.
 */
export async function openClickhouseStorage(config: ClickhouseStorageConfig): Promise<Storage> {
	const at = parseClickhouseUrl(config.url);
	const admin = clientFor(at, 'default');
	const client = budgeted(clientFor(at, at.database));
	let state: RetentionState;
	let nextSeq: number;
	try {
		try {
			await admin.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((r) => r.json());
		} catch (err) {
			throw reachError(at, err);
		}
		await createSchema(admin, client, at.database);
		const meta = await readMeta(client);
		state = {
			cutoffMs: meta.get('retention.cutoffMs') ?? -Infinity,
			requestSeq: meta.get('retention.requestSeq') ?? 0,
		};
		const max = await (
			await client.query({ query: 'SELECT toString(max(seq)) AS newest, count() AS n FROM http_requests', format: 'JSONEachRow' })
		).json<{ newest: string; n: string }>();
		nextSeq = Number(max[0]?.n ?? 0) > 0 ? Number(max[0]!.newest) + 1 : Math.max(1, state.requestSeq);
	} catch (err) {
		await client.close();
		throw err;
	} finally {
		await admin.close();
	}

	const retentionMs = config.retentionMs ?? DEFAULT_RETENTION_MS;
	const maxRequests = config.maxRequests ?? DEFAULT_MAX_REQUESTS;
	const now = config.now ?? Date.now;
	let closed = false;
	const check = (): void => {
		if (closed) throw new Error('storage is closed');
	};
	const profiles = new ClickhouseProfileStore(client, check, state, config.profileCacheBudget);
	const connections = new ClickhouseConnectionStore(client, check, state);
	const requests = new ClickhouseRequestStore(client, check, state, nextSeq);
	const shares = new ClickhouseShareStore(client, at.database, check, now);
	const ingested = new ClickhouseIngestLedger(client, at.database, check, now);
	const drain = () =>
		Promise.all([profiles.writer.drain(), connections.batcher.drain(), requests.requestBatcher.drain(), requests.endpointBatcher.drain()]);
	// One prune at a time: the timer's and a caller's would otherwise race on the same partitions.
	let pruning: Promise<void> = Promise.resolve();
	const pruneAt = (nowMs: number): Promise<void> => {
		const run = pruning.then(async () => {
			// What was written before the call is retained or dropped like everything else.
			await drain();
			const { dropped } = await prune(client, at.database, state, nowMs - retentionMs, maxRequests);
			if (dropped.some((d) => d.startsWith('profile_'))) profiles.writer.forgetWritten();
			await ingested.prune(nowMs - retentionMs);
		});
		pruning = run.catch(() => {});
		return run;
	};
	const interval = config.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
	// Unref'd: pruning alone must not keep the process alive.
	const timer =
		interval > 0
			? setInterval(() => {
					pruneAt(now()).catch((err: unknown) => {
						console.error(`firesight storage: prune failed: ${(err as Error).message.split('\n')[0]}`);
					});
				}, interval).unref()
			: undefined;
	return {
		profiles,
		connections,
		requests,
		shares,
		ingested,
		async prune(nowMs = now()) {
			check();
			await pruneAt(nowMs);
		},
		async close() {
			if (closed) return;
			closed = true;
			if (timer) clearInterval(timer);
			await drain();
			await pruning;
			await client.close();
		},
	};
}

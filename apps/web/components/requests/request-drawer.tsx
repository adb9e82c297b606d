'use client';

import Link from 'next/link';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { REDACTED_VALUE } from '@firesight/protocol';
import type { StoredRequest } from '@firesight/store';
import { api, describeError } from '../../lib/api.ts';
import type { HostRequest } from '../../lib/live-store.ts';
import { formatBytes } from '../../lib/network.ts';
import { profileHref } from '../../lib/profile-query.ts';
import { formatLatency, requestKey } from '../../lib/requests.ts';
import { RequestActions } from './request-actions.tsx';
import { StatusBadge } from './request-columns.tsx';

/** `14:03:07.482`: requests a few ms apart must read apart. */
function formatInstant(ms: number): string {
	const date = new Date(ms);
	const pad = (n: number, width = 2) => String(n).padStart(width, '0');
	return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** How often and how long to look for the stored copy: the hub stores a batch as it fans it out. */
const LOOKUPS = 5;
const LOOKUP_EVERY_MS = 1000;

type Stored = { state: 'loading' } | { state: 'found'; record: StoredRequest } | { state: 'missing' } | { state: 'error'; message: string };

/** The stored record of a live request (the live stream carries no headers), matched by its key. */
function useStoredRequest(request: HostRequest): Stored {
	const [stored, setStored] = useState<{ key: string; value: Stored } | null>(null);
	const key = requestKey(request);
	useEffect(() => {
		const controller = new AbortController();
		let timer: ReturnType<typeof setTimeout> | undefined;
		const look = async (attempt: number) => {
			try {
				const since = Math.floor(request.ts);
				const records = await api.requests.list.query(
					{ host: request.host, pid: request.pid, sinceMs: since, untilMs: since + 1, limit: 100 },
					{ signal: controller.signal },
				);
				const record = records.find((r) => requestKey(r) === key);
				if (record) setStored({ key, value: { state: 'found', record } });
				else if (attempt + 1 < LOOKUPS) timer = setTimeout(() => void look(attempt + 1), LOOKUP_EVERY_MS);
				else setStored({ key, value: { state: 'missing' } });
			} catch (error) {
				if (!controller.signal.aborted) setStored({ key, value: { state: 'error', message: describeError(error) } });
			}
		};
		void look(0);
		return () => {
			controller.abort();
			clearTimeout(timer);
		};
	}, [key, request]);
	return stored && stored.key === key ? stored.value : { state: 'loading' };
}

function HeaderTable({ title, headers, testId }: { title: string; headers: readonly [string, string][]; testId: string }) {
	return (
		<section className="drawer-section" aria-label={title}>
			<h3>{title}</h3>
			{headers.length === 0 ? (
				<p className="dim">none</p>
			) : (
				<table className="header-table" data-testid={testId}>
					<tbody>
						{headers.map(([name, value], index) => (
							<tr key={`${index}:${name}`}>
								<th scope="row" className="mono">
									{name}
								</th>
								<td className="mono">
									{value === REDACTED_VALUE ? (
										<span
											className="redacted-value"
											data-testid="redacted-header"
											title="Redacted by the collector: the value never left the host"
										>
											{value}
										</span>
									) : (
										value
									)}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
		</section>
	);
}

interface RequestDrawerProps {
	request: HostRequest;
	/** Its endpoint's p99 in its process over the page's range, when known (see isSlowRequest). */
	p99Ms?: number | null;
	onClose(): void;
}

/**
 * One request's details beside the live table: what it was, its sizes and timings, and its
 * headers as stored (secrets redacted by the collector, and again by the hub). Not modal: the
 * table stays usable. Focus moves into the drawer when it opens and back to the table when it
 * closes; Esc closes it.
 */
export function RequestDrawer({ request, p99Ms = null, onClose }: RequestDrawerProps) {
	const stored = useStoredRequest(request);
	const closeRef = useRef<HTMLButtonElement>(null);

	useEffect(() => {
		const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
		// Newer requests push rows out of the (virtualized) live table at any moment, even right
		// after focus returns to one, which would drop focus to the page: so focus goes back to
		// the table that held the opening row, which stays.
		const table = opener?.closest<HTMLElement>('.virtual-table-wrap') ?? null;
		closeRef.current?.focus();
		return () => {
			if (table?.isConnected) table.focus();
			else if (opener?.isConnected) opener.focus();
		};
	}, []);
	useEffect(() => {
		const onKey = (event: KeyboardEvent) => {
			if (event.key === 'Escape') onClose();
		};
		document.addEventListener('keydown', onKey);
		return () => document.removeEventListener('keydown', onKey);
	}, [onClose]);

	const record = stored.state === 'found' ? stored.record : null;
	const facts: [string, ReactNode][] = [
		['Status', <StatusBadge key="s" status={request.status} />],
		['Side', request.role === 'client' ? 'client (the process sent it)' : 'server (the process answered it)'],
		[
			'Process',
			<>
				<span className="mono strong">{request.comm || '?'}</span>{' '}
				<Link href={profileHref({ pid: request.pid, hosts: [request.host] })} className="mono">
					{request.pid}
				</Link>
			</>,
		],
		['Host', <span className="mono">{request.host}</span>],
		['Started', <span className="mono">{formatInstant(request.ts)}</span>],
		['Finished', <span className="mono">{formatInstant(request.ts + request.latencyMs)}</span>],
		['Latency', <span className="mono strong">{formatLatency(request.latencyMs)}</span>],
		...(p99Ms !== null
			? [
					[
						'Endpoint p99',
						<span className="mono" data-testid="request-drawer-p99" title="Over the Endpoints range, in this process">
							{formatLatency(p99Ms)}
						</span>,
					] as [string, ReactNode],
				]
			: []),
		['Request size', <span className="mono">{formatBytes(request.reqBytes)}</span>],
		['Response size', <span className="mono">{formatBytes(request.respBytes)}</span>],
		['Local', <span className="mono">{request.local ?? '?'}</span>],
		['Peer', <span className="mono">{request.remote ?? '?'}</span>],
		['HTTP', <span className="mono">{request.httpVersion}</span>],
	];

	return (
		<aside className="request-drawer" role="dialog" aria-modal="false" aria-labelledby="request-drawer-title" data-testid="request-drawer">
			<header className="drawer-head">
				<h2 id="request-drawer-title" className="mono ellipsis" title={`${request.method} ${request.path}`}>
					<span className="strong">{request.method}</span> {request.path}
				</h2>
				<div className="drawer-actions">
					<RequestActions request={request} p99Ms={p99Ms} />
				</div>
				<button
					ref={closeRef}
					type="button"
					className="button button-small drawer-close"
					onClick={onClose}
					aria-label="Close request details"
					data-testid="request-drawer-close"
				>
					✕
				</button>
			</header>
			<div className="drawer-body">
				<dl className="drawer-facts">
					{facts.map(([label, value]) => (
						<div key={label}>
							<dt>{label}</dt>
							<dd>{value}</dd>
						</div>
					))}
				</dl>
				<p className="drawer-note dim">
					Latency runs from the first request byte to the last response byte, by kernel timestamps. Sizes are wire bytes, head and body.
				</p>
				{stored.state === 'loading' && <p className="dim">Loading headers…</p>}
				{stored.state === 'missing' && (
					<p className="dim" data-testid="request-drawer-missing">
						The hub has not stored this request (its batch may have been dropped under load); its headers are not available.
					</p>
				)}
				{stored.state === 'error' && <p className="error-text">Headers could not be loaded: {stored.message}</p>}
				{record && (
					<>
						<HeaderTable title="Request headers" headers={record.requestHeaders} testId="request-headers" />
						<HeaderTable title="Response headers" headers={record.responseHeaders} testId="response-headers" />
						{record.requestBody !== undefined && (
							<section className="drawer-section">
								<h3>Request body</h3>
								<pre className="drawer-body-text">{record.requestBody}</pre>
							</section>
						)}
						{record.responseBody !== undefined && (
							<section className="drawer-section">
								<h3>Response body</h3>
								<pre className="drawer-body-text">{record.responseBody}</pre>
							</section>
						)}
					</>
				)}
			</div>
		</aside>
	);
}

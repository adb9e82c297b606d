import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { templatePath } from '@firesight/http1';
import {
	TlsTracer,
	type Http1ExchangeRecord,
	type Http1Stat,
	type TlsCounter,
	type TlsStreamEvent,
	type TlsTracerOptions,
} from '@firesight/native';
import {
	DEFAULT_REDACTION,
	REDACTED_VALUE,
	isSecretHeader,
	redactRequestPath,
	type RedactionRules,
	type RequestRecord,
} from '@firesight/protocol';
import { readClocks, type ClockReading } from '../monotonic-clock.ts';
import type { RequestAttribution } from '../request-attribution.ts';
import { ConnectionTracker, type ConnectionSummary, type ConnectionTrackerStats } from './connection-tracker.ts';
import { RequestAggregator, type RequestAggregates } from './request-aggregates.ts';
import { TargetDiscovery, type AttachedFile, type DiscoveryStats } from './target-discovery.ts';

export interface TlsCaptureOptions {
	/** Only these processes; every process when empty or absent. */
	pids?: readonly number[];
	/** Processes whose request and response bodies are kept (capped); none by default. */
	captureBodies?: readonly number[];
	/** Body bytes kept per message for those processes. */
	maxBodyBytes?: number;
	/** Which headers are secrets; the protocol's default list unless given. */
	redaction?: RedactionRules;
	/** Connections idle this long are ended (their close may have been missed). */
	idleTimeoutMs?: number;
	/** Connections reassembled at once; the least recently active is ended to make room. */
	maxConnections?: number;
	/** Kernel ring buffer bytes (power of two). */
	ringBytes?: number;
	/** Sizes of the kernel maps and of the queue to JavaScript (the defaults, or smaller in tests). */
	kernel?: Pick<
		TlsTracerOptions,
		'activeSlots' | 'threadSlots' | 'connectionEntries' | 'requestContextEntries' | 'processEntries' | 'maxInFlightBytes'
	>;
	/** How socket syscalls are seen (see TlsTracerOptions): 'auto' unless comparing the two. */
	syscallHook?: 'auto' | 'tracepoints' | 'raw';
	/** Told what each request the kernel gave an id was, so that CPU samples can be labelled with it. */
	attribution?: RequestAttribution;
}

export interface TlsCaptureCounters {
	kernel: Record<TlsCounter | 'decodeErrors', number>;
	discovery: DiscoveryStats;
	connections: ConnectionTrackerStats;
	requests: number;
	/** TLS bytes on connections that were not HTTP/1.x, summed over ended connections. */
	otherProtocolBytes: number;
}

export interface TlsCaptureEvents {
	request: [RequestRecord];
	connectionEnd: [ConnectionSummary];
	error: [Error];
}

/**
 * HTTPS visibility without touching the programs: uprobes on OpenSSL (tls BPF tool), target
 * discovery, per-connection HTTP/1.x reassembly (in the addon, off the main thread), redaction
 * and aggregates.
 * Nothing leaves it unredacted: `request` events and aggregates() carry redacted records only.
 *
 *   const cap = new TlsCapture(); cap.on('request', r => ...); cap.start(); ... cap.stop();
 */
export class TlsCapture extends EventEmitter<TlsCaptureEvents> {
	readonly #opts: TlsCaptureOptions;
	#tracer: TlsTracer | undefined;
	#discovery: TargetDiscovery | undefined;
	#tracker: ConnectionTracker;
	#aggregates = new RequestAggregator();
	#comms = new Map<number, string>();
	#bodies: Set<number>;
	#requests = 0;
	/** The addon tracker's totals as of the last stop, for counters() after it. */
	#lastHttp1: Record<Http1Stat, number> | undefined;
	/** Request target -> what a request record takes of it: services repeat their URLs. */
	#urls = new Map<string, UrlParts>();
	/** The clocks, read once per batch of events rather than once per request. */
	#clock: ClockReading = readClocks();
	/** #clock's monotonic ns as a number, and its epoch ms (per batch). */
	#clockNs = 0;
	#clockMs = 0;
	readonly #rules: RedactionRules;

	constructor(opts: TlsCaptureOptions = {}) {
		super();
		this.#opts = opts;
		this.#bodies = new Set(opts.captureBodies ?? []);
		this.#rules = opts.redaction ?? DEFAULT_REDACTION;
		this.#tracker = new ConnectionTracker({ onEnd: (s) => this.emit('connectionEnd', s) });
	}

	get running(): boolean {
		return this.#tracer !== undefined;
	}

	/** How the running capture sees socket syscalls (see TlsTracer.syscallHook). */
	get syscallHook(): 'sockets' | 'tracepoints' | 'raw' | undefined {
		return this.#tracer?.syscallHook;
	}

	/** Loads the BPF tool, attaches to every OpenSSL in use, and starts reporting. Throws NativeError. */
	start(): void {
		if (this.#tracer) return;
		const tracer = new TlsTracer({
			...this.#opts.kernel,
			pids: this.#opts.pids,
			ringBytes: this.#opts.ringBytes,
			syscallHook: this.#opts.syscallHook,
			// Only worth its kernel work when someone labels samples with the requests.
			requestContext: this.#opts.attribution !== undefined,
			http1: {
				maxBodyBytes: Math.max(0, this.#opts.maxBodyBytes ?? 4096),
				idleTimeoutMs: this.#opts.idleTimeoutMs ?? 300_000,
				...(this.#opts.maxConnections !== undefined ? { maxConnections: this.#opts.maxConnections } : {}),
			},
			captureBodies: [...this.#bodies],
			// The collector's one place of header redaction: decided once per header name, applied
			// as the exchanges are decoded, so no header leaves with a secret value.
			headerValue: (name) => (isSecretHeader(name, this.#rules) ? REDACTED_VALUE : undefined),
			onEvents: (events) => this.#onEvents(events),
			onDecodeError: (err) => this.emit('error', err),
		});
		this.#tracer = tracer;
		this.#discovery = new TargetDiscovery(tracer, { onError: (err) => this.emit('error', err) });
		try {
			this.#discovery.start();
		} catch (err) {
			this.stop();
			throw err;
		}
	}

	/** Detaches and ends open connections (a response that runs until close is completed). */
	stop(): void {
		this.#discovery?.stop();
		const tracer = this.#tracer;
		if (!tracer) return;
		// Ending the open connections delivers their last exchanges and summaries first.
		tracer.close();
		this.#lastHttp1 = tracer.http1Stats();
		this.#tracer = undefined;
	}

	/** The current window of per-process and per-endpoint statistics. */
	aggregates(): RequestAggregates {
		return this.#aggregates.snapshot();
	}

	/** The current window, ending it: what the hub stores per window. */
	drainAggregates(): RequestAggregates {
		return this.#aggregates.drain();
	}

	connections(): ConnectionSummary[] {
		return (this.#tracer?.connections() ?? []).map((c) => this.#tracker.summary(c));
	}

	attachedFiles(): AttachedFile[] {
		return [...(this.#discovery?.files.values() ?? [])];
	}

	counters(): TlsCaptureCounters {
		const zeroKernel = {} as TlsCaptureCounters['kernel'];
		const { otherProtocolBytes, exchanges: _, ...connections } = this.#tracer?.http1Stats() ?? this.#lastHttp1 ?? zeroHttp1();
		return {
			kernel: this.#tracer?.counters() ?? zeroKernel,
			discovery: { ...(this.#discovery?.stats ?? { attachedFiles: 0, attachFailures: 0, processesScanned: 0, tlsProcesses: 0 }) },
			connections,
			requests: this.#requests,
			otherProtocolBytes,
		};
	}

	/** Starts or stops keeping bodies for a process (applies to its new connections). */
	setCaptureBodies(pid: number, on: boolean): void {
		if (on) this.#bodies.add(pid);
		else this.#bodies.delete(pid);
		this.#tracer?.setCaptureBodies(pid, on);
	}

	#readClocks(): void {
		this.#clock = readClocks();
		this.#clockNs = Number(this.#clock.ns);
		this.#clockMs = this.#clock.ms;
	}

	#onEvents(events: TlsStreamEvent[]): void {
		this.#readClocks();
		const attribution = this.#opts.attribution;
		for (const ev of events) {
			try {
				if (ev.type === 'exchangeRecord') {
					this.#onExchange(ev);
					continue;
				}
				if (ev.type === 'requestStart') {
					attribution?.requestStarted(ev.requestId, ev.tgid, ev.tsNs, this.#requestLineEndpoint(ev.line), ev.tid);
					continue;
				}
				if (ev.type === 'exec') {
					this.#comms.set(ev.tgid, ev.comm);
					this.#discovery?.onExec(ev.tgid);
					continue;
				}
				this.#tracker.handle(ev);
				if (ev.type === 'exit') {
					this.#discovery?.onExit(ev.tgid);
					this.#comms.delete(ev.tgid);
				}
			} catch (err) {
				this.emit('error', err as Error);
			}
		}
	}

	#comm(pid: number): string {
		let comm = this.#comms.get(pid);
		if (comm === undefined) {
			try {
				comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
			} catch {
				comm = '';
			}
			this.#comms.set(pid, comm);
		}
		return comm;
	}

	#url(url: string): UrlParts {
		let hit = this.#urls.get(url);
		if (!hit) {
			// Bounded: a service with ever-new URLs (ids in paths) refills it from scratch.
			if (this.#urls.size >= 4096) this.#urls.clear();
			hit = { path: redactRequestPath(url), endpoint: templatePath(url), method: '', label: '' };
			this.#urls.set(url, hit);
		}
		return hit;
	}

	/** `METHOD /path/template`, the same string for the same method and URL while it is cached. */
	#label(parts: UrlParts, method: string): string {
		if (parts.method !== method) {
			parts.method = method;
			parts.label = `${method} ${parts.endpoint}`;
		}
		return parts.label;
	}

	/** `METHOD /path/template` from the request line the kernel saw start a request, or ''. */
	#requestLineEndpoint(line: string | null): string {
		if (line === null) return '';
		const sp = line.indexOf(' ');
		if (sp <= 0) return '';
		const end = line.indexOf(' ', sp + 1);
		const target = end < 0 ? line.slice(sp + 1) : line.slice(sp + 1, end);
		return target ? this.#label(this.#url(target), line.slice(0, sp)) : '';
	}

	#onExchange(x: Http1ExchangeRecord): void {
		const parts = this.#url(x.url);
		const ends = this.#tracker.ends(x.tgid, x.ssl, x.fd, x.gen);
		const r: RequestRecord = {
			ts: this.#clockMs - (this.#clockNs - x.startNs) / 1e6,
			pid: x.tgid,
			comm: this.#comm(x.tgid),
			role: x.role,
			method: x.method,
			path: parts.path,
			endpoint: parts.endpoint,
			status: x.status,
			latencyMs: x.latencyNs / 1e6,
			reqBytes: x.reqBytes,
			respBytes: x.respBytes,
			local: ends.local,
			remote: ends.remote,
			connection: ends.connection,
			httpVersion: x.httpVersion,
			requestHeaders: x.requestHeaders,
			responseHeaders: x.responseHeaders,
		};
		if (x.role === 'server' && this.#opts.attribution && x.requestId !== 0) {
			const requestId = this.#opts.attribution.requestFinished(x.requestId, x.tgid, this.#label(parts, x.method), r.latencyMs);
			if (requestId !== undefined) r.requestId = requestId;
		}
		if (x.requestBody) r.requestBody = utf8.decode(x.requestBody);
		if (x.responseBody) r.responseBody = utf8.decode(x.responseBody);
		this.#requests++;
		this.#aggregates.add(r);
		this.emit('request', r);
	}
}

/** What a request record takes of its URL: cached per URL (with the last method's label). */
interface UrlParts {
	/** Query values redacted. */
	path: string;
	/** The path template. */
	endpoint: string;
	method: string;
	/** `${method} ${endpoint}`. */
	label: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

function zeroHttp1(): Record<Http1Stat, number> {
	return {
		open: 0,
		closed: 0,
		evicted: 0,
		unboundSeen: 0,
		exchanges: 0,
		parseErrors: 0,
		desyncs: 0,
		skippedBytes: 0,
		filledGaps: 0,
		unpairedResponses: 0,
		unansweredRequests: 0,
		pendingDropped: 0,
		otherProtocolBytes: 0,
	};
}

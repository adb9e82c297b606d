/** One HTTP/1.x request seen in TLS plaintext, redacted: the only shape that leaves the collector. */
export interface TlsRequest {
	/** Wall-clock milliseconds of the first request byte. */
	ts: number;
	pid: number;
	comm: string;
	/** Whether the process sent the request (client) or answered it (server). */
	role: 'client' | 'server';
	method: string;
	/** The request target with query values redacted (see redaction.ts). */
	path: string;
	/** Method-independent path template: ids and numbers collapsed to `:id`, no query. */
	endpoint: string;
	status: number;
	/** First request byte to last response byte, from kernel timestamps. */
	latencyMs: number;
	/** Wire bytes (head and body) of the request and of the response. */
	reqBytes: number;
	respBytes: number;
	/** `address:port` ([v6]:port), or null when the peer could not be tied to a socket. */
	local: string | null;
	remote: string | null;
	/** `pid:fd:generation`, stable for the life of the connection; null when the socket is unknown. */
	connection: string | null;
	httpVersion: string;
	/** Header names and values in wire order; secrets replaced by REDACTED. */
	requestHeaders: [string, string][];
	responseHeaders: [string, string][];
	/** Only for processes named by --capture-bodies, capped; UTF-8 with invalid bytes replaced. */
	requestBody?: string;
	responseBody?: string;
}

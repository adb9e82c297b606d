import fc from 'fast-check';

/**
 * HTTP/1 byte streams for the parsers' property tests (packages/http1's fuzz test, and the
 * addon's tracker against packages/http1): valid messages with every framing, mutated, cut into
 * chunks anywhere, with gaps of bytes that went by uncaptured.
 *
 * `bytes` says what the bodies and mutations may hold: 'any' byte, or 'ascii' where the two
 * parsers are compared (http-parser-js reads bytes as 'ascii', which clears the high bit).
 */
export function http1Streams(bytes: 'ascii' | 'any') {
	const top = bytes === 'ascii' ? 0x7f : 0xff;
	const token = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
	const headerValue = fc.stringMatching(/^[ -~\t]{0,40}$/);
	const path = fc.stringMatching(/^\/[A-Za-z0-9/_.?=&%-]{0,40}$/);
	const body = fc.uint8Array({ maxLength: 300 }).map((b) => b.map((x) => x & top));
	const special = fc.constantFrom(
		['Connection', 'close'],
		['Connection', 'keep-alive'],
		['Connection', 'Upgrade'],
		['Upgrade', 'websocket'],
		['Transfer-Encoding', 'gzip'],
		['X-Folded', 'a'],
		['content-length', '5'],
	);

	/** A request or response as it goes on the wire: Content-Length, chunked or (responses) until close. */
	const message = (kind: 'request' | 'response') =>
		fc
			.record({
				method: fc.constantFrom(...METHODS),
				path,
				status: fc.oneof(fc.constantFrom(100, 101, 103, 200, 204, 304, 404), fc.integer({ min: 100, max: 599 })),
				headers: fc.array(fc.oneof(fc.tuple(token, headerValue), special), { maxLength: 6 }),
				fold: fc.option(fc.stringMatching(/^[ \t]{1,3}[!-~]{1,10}[ \t]?$/), { freq: 5 }),
				body,
				framing: fc.constantFrom('length', 'chunked', 'none'),
				chunkExt: fc.constantFrom('', ';a=b', ' ', ''),
				/** Sometimes a length no sender could mean, in place of the true one. */
				badLength: fc.option(fc.constantFrom('-3', '-1', 'abc', '\u00004', '1e2', '0x10', '', ' 7 ', '99999999999999999999', '-0', '+4'), {
					freq: 4,
				}),
				version: fc.constantFrom('1.0', '1.1'),
				lf: fc.boolean(),
			})
			.map(({ method, path: p, status, headers, fold, body: b, framing, chunkExt, version, badLength, lf }) => {
				const eol = lf ? '\n' : '\r\n';
				const start = kind === 'request' ? `${method} ${p} HTTP/${version}` : `HTTP/${version} ${status} X`;
				const lines = headers.map(([k, v]) => `${k}: ${v}`);
				if (fold && lines.length) lines.push(fold);
				let payload: Buffer = Buffer.from(b);
				if (framing === 'length') lines.push(`Content-Length: ${badLength ?? b.length}`);
				else if (framing === 'chunked') {
					lines.push('Transfer-Encoding: chunked');
					const size = badLength ?? b.length.toString(16);
					payload = Buffer.concat([
						Buffer.from(`${size}${chunkExt}${eol}`, 'latin1'),
						payload,
						Buffer.from(b.length ? `${eol}0${eol}Trailer: x${eol}${eol}` : eol),
					]);
				} else if (kind === 'request') payload = Buffer.alloc(0);
				return Buffer.concat([Buffer.from(`${start}${eol}${lines.map((l) => `${l}${eol}`).join('')}${eol}`, 'latin1'), payload]);
			});

	const mutation: fc.Arbitrary<Mutation> = fc.record({
		at: fc.nat(),
		op: fc.constantFrom('flip', 'insert', 'delete', 'token'),
		byte: fc.integer({ min: 0, max: top }),
	});

	return { token, headerValue, path, body, message, mutation };
}

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'PATCH', 'M-SEARCH', 'BREW'] as const;

export type Mutation = { at: number; op: 'flip' | 'insert' | 'delete' | 'token'; byte: number };

/** What a byte-level mutation rarely makes on its own: signs, line ends, big numbers, heads. */
export const TOKENS = [
	'-',
	'\r\n',
	'\r\n\r\n',
	'\0',
	'ffffffff',
	'-5',
	': ',
	' ',
	'\t',
	'HTTP/1.1 200 OK\r\n',
	'GET / HTTP/1.1\r\n',
	'Content-Length: 3\r\n',
].map((t) => Buffer.from(t, 'latin1'));

export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
	const out = [...bytes];
	for (const m of mutations) {
		if (out.length === 0) break;
		const at = m.at % out.length;
		if (m.op === 'flip') out[at] = m.byte;
		else if (m.op === 'insert') out.splice(at, 0, m.byte);
		else if (m.op === 'token') out.splice(at, 0, ...TOKENS[m.byte % TOKENS.length]!);
		else out.splice(at, 1);
	}
	return Uint8Array.from(out);
}

export type Cut = { at: number; gap: number };

/** Where a stream is cut into chunks, and how many bytes of each went by uncaptured. */
export const cuts = fc.array(fc.record({ at: fc.nat(), gap: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0), fc.nat(5000)) }), {
	maxLength: 8,
});

/**
 * The stream in pieces at the cuts, in order, each with the length that went by (its bytes and
 * its gap); at least one piece, empty for an empty stream.
 */
export function cutStream(bytes: Uint8Array, at: readonly Cut[]): { bytes: Uint8Array; length: number }[] {
	const points = [...new Set(at.map((c) => (bytes.length ? c.at % bytes.length : 0)))].sort((a, b) => a - b);
	const out: { bytes: Uint8Array; length: number }[] = [];
	let from = 0;
	points.push(bytes.length);
	points.forEach((to, i) => {
		if (to <= from && !(i === points.length - 1 && out.length === 0)) return;
		const piece = bytes.subarray(from, to);
		out.push({ bytes: piece, length: piece.length + (at[i]?.gap ?? 0) });
		from = to;
	});
	return out;
}

/** Pieces read in either direction, in the order they were read: streams of `bytes`, each with its cuts. */
export function flows(bytes: fc.Arbitrary<Uint8Array>, minLength = 0) {
	return fc.array(fc.record({ side: fc.constantFrom<'outbound' | 'inbound'>('outbound', 'inbound'), bytes, cuts }), {
		minLength,
		maxLength: 6,
	});
}

/**
 * Node programs (run with `node -e`) for TCP tests and benchmarks: a sink that reads everything
 * and answers "ok" at the end of each stream, and a source that sends to it. Each is one process,
 * so the test knows which pid owns which connection.
 */

/** argv: host port. Prints "listening" when ready; runs until killed. */
export const SINK_SCRIPT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((s) => {
	s.on('data', () => {});
	s.on('end', () => s.end('ok'));
	s.on('error', () => {});
});
server.listen(Number(port), host, () => console.log('listening'));
`;

/**
 * argv: host port connections bytesPerConnection durationMs. Each connection sends
 * bytesPerConnection bytes (or, when durationMs > 0, sends until it has passed), half-closes, and
 * waits for the sink's "ok", so every byte was acknowledged when it exits. Prints "done".
 */
export const SOURCE_SCRIPT = `
const net = require('node:net');
const [host, port, conns, bytes, duration] = process.argv.slice(1).map((v, i) => (i === 0 ? v : Number(v)));
const chunk = Buffer.alloc(64 * 1024, 120);
const deadline = duration > 0 ? Date.now() + duration : 0;
let open = conns;
for (let i = 0; i < conns; i++) {
	const s = net.connect({ host, port }, () => {
		let left = bytes;
		const pump = () => {
			while (deadline ? Date.now() < deadline : left > 0) {
				const n = deadline ? chunk.length : Math.min(left, chunk.length);
				left -= n;
				if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
			}
			s.end();
		};
		pump();
	});
	s.on('data', () => {});
	s.on('error', (e) => { console.error(String(e)); process.exitCode = 1; });
	s.on('close', () => { if (--open === 0) console.log('done'); });
}
`;

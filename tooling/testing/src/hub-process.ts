import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createServer } from 'node:net';
import type { Readable } from 'node:stream';

/** A port nothing listens on right now, as the kernel hands one out. */
export function ephemeralPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address() as { port: number };
			s.close(() => resolve(port));
		});
	});
}

export interface HubProcess {
	child: ChildProcessByStdio<null, Readable, Readable>;
	/** `http://127.0.0.1:PORT`. */
	url: string;
	port: number;
	/** The collector token the hub printed. */
	token: string;
	/** What the hub printed on stdout so far. */
	output(): string;
	/** SIGKILL, unless it has exited. */
	kill(): void;
}

/**
 * `firesight hub --api-only` as a child process (`bin` is the CLI's entry point) on a free port
 * and `dataDir`, resolved once it has printed its collector token.
 */
export async function startHubProcess(bin: string, dataDir: string): Promise<HubProcess> {
	const port = await ephemeralPort();
	const child = spawn(process.execPath, [bin, 'hub', '--api-only', '--listen', `127.0.0.1:${port}`, '--data', dataDir], {
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const kill = () => {
		if (child.exitCode === null) child.kill('SIGKILL');
	};
	let out = '';
	child.stdout.on('data', (d) => (out += d));
	try {
		const token = await new Promise<string>((resolve, reject) => {
			child.once('exit', (code) => reject(new Error(`hub exited with ${code}`)));
			child.stdout.on('data', () => {
				const m = /Collector token: (\S+)/.exec(out);
				if (m) resolve(m[1]!);
			});
		});
		return { child, url: `http://127.0.0.1:${port}`, port, token, output: () => out, kill };
	} catch (err) {
		kill();
		throw err;
	}
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Two network namespaces joined by a veth pair, for tests that need real TCP traffic and real
 * packet loss without touching the host's own network: both ends of the veth live inside the
 * namespaces, and every address below exists only there.
 */
export interface NetnsPair {
	/** Namespace names (unique per pair). */
	readonly client: string;
	readonly server: string;
	readonly clientAddr: string;
	readonly serverAddr: string;
	readonly clientAddr6: string;
	readonly serverAddr6: string;
	/** Runs a command inside a namespace and returns its standard output. */
	exec(ns: string, cmd: string, args: readonly string[]): string;
	/** Starts a command inside a namespace. `ip netns exec` execs it, so child.pid is its pid. */
	spawn(ns: string, cmd: string, args: readonly string[]): ChildProcess;
	/** Loads an nftables ruleset (text for `nft -f -`) inside a namespace. */
	nft(ns: string, ruleset: string): void;
	/** The namespace's own TCP counters from /proc/net/snmp (e.g. RetransSegs). */
	tcpCounters(ns: string): Record<string, number>;
	/** Deletes both namespaces (and with them the veth pair and every rule). Safe to call twice. */
	remove(): void;
}

/** What the netns helpers need, or undefined when all of it is here. */
export function netnsUnavailableReason(): string | undefined {
	if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
	for (const tool of ['ip', 'nft']) {
		try {
			execFileSync(tool, ['-V'], { stdio: 'ignore' });
		} catch {
			return `needs the ${tool} command (${tool === 'ip' ? 'iproute2' : 'nftables'})`;
		}
	}
	return undefined;
}

function run(cmd: string, args: readonly string[], input?: string): string {
	return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Creates the pair; the caller must call remove() (in a finally or t.after). */
export function createNetnsPair(): NetnsPair {
	const id = randomBytes(4).toString('hex');
	const client = `fs-${id}-c`;
	const server = `fs-${id}-s`;
	// Interface names have a 15-byte limit.
	const vethClient = `fs${id}c`;
	const vethServer = `fs${id}s`;
	const pair: NetnsPair = {
		client,
		server,
		clientAddr: '10.231.0.1',
		serverAddr: '10.231.0.2',
		clientAddr6: 'fd00:231::1',
		serverAddr6: 'fd00:231::2',
		exec: (ns, cmd, args) => run('ip', ['netns', 'exec', ns, cmd, ...args]),
		spawn: (ns, cmd, args) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
		nft: (ns, ruleset) => void run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], ruleset),
		tcpCounters: (ns) => parseSnmpTcp(run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'])),
		remove: () => {
			for (const ns of [client, server]) {
				try {
					run('ip', ['netns', 'delete', ns]);
				} catch {
					// already gone, or never made
				}
			}
		},
	};
	try {
		run('ip', ['netns', 'add', client]);
		run('ip', ['netns', 'add', server]);
		run('ip', ['link', 'add', vethClient, 'netns', client, 'type', 'veth', 'peer', 'name', vethServer, 'netns', server]);
		for (const [ns, dev, v4, v6] of [
			[client, vethClient, pair.clientAddr, pair.clientAddr6],
			[server, vethServer, pair.serverAddr, pair.serverAddr6],
		] as const) {
			const ip = (...args: string[]) => run('ip', ['-n', ns, ...args]);
			ip('link', 'set', 'lo', 'up');
			ip('addr', 'add', `${v4}/24`, 'dev', dev);
			// nodad: usable at once, instead of after duplicate address detection (~2 s).
			ip('-6', 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad');
			ip('link', 'set', dev, 'up');
		}
	} catch (err) {
		pair.remove();
		throw err;
	}
	return pair;
}

/** The Tcp: lines of /proc/net/snmp (a header line of names, then a line of values). */
export function parseSnmpTcp(text: string): Record<string, number> {
	const lines = text.split('\n').filter((l) => l.startsWith('Tcp:'));
	const names = lines[0]?.split(/\s+/).slice(1) ?? [];
	const values = lines[1]?.split(/\s+/).slice(1) ?? [];
	if (names.length === 0 || names.length !== values.length) throw new Error('no Tcp counters in /proc/net/snmp');
	const out: Record<string, number> = {};
	names.forEach((name, i) => {
		out[name] = Number(values[i]);
	});
	return out;
}

/** Resolves with a child's standard output once it printed `marker`; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, marker: string, timeoutMs = 10_000): Promise<string> {
	return new Promise((resolve, reject) => {
		let out = '';
		let err = '';
		const timer = setTimeout(() => reject(new Error(`no "${marker}" within ${timeoutMs} ms: ${err}`)), timeoutMs);
		child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
		child.stdout?.on('data', (d: Buffer) => {
			out += d.toString();
			if (out.includes(marker)) {
				clearTimeout(timer);
				resolve(out);
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			if (!out.includes(marker)) reject(new Error(`exited with ${code} before "${marker}": ${err}`));
		});
	});
}

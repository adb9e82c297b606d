/**
 * A bpftrace script run beside a benchmark, as the peer it is measured against: started once its
 * probes are in, stopped with SIGINT so that it prints its maps.
 */
import { spawn } from 'node:child_process';

export interface RunningBpftrace {
	/** Stops it; what it printed, its maps last. */
	stop(): Promise<string>;
}

export async function startBpftrace(script: string): Promise<RunningBpftrace> {
	const proc = spawn('bpftrace', ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
	proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
	const deadline = Date.now() + 20_000;
	while (!out.includes('Attaching')) {
		if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`bpftrace did not start: ${out}`);
		await new Promise((r) => setTimeout(r, 50));
	}
	await new Promise((r) => setTimeout(r, 500)); // "Attaching" comes before the probes are in
	return {
		stop: async () => {
			proc.kill('SIGINT');
			// SIGINT prints the maps; a bpftrace that does not end on it (seen under heavy load)
			// gets SIGTERM, and its run has no counts rather than the benchmark hanging.
			const term = setTimeout(() => proc.kill('SIGTERM'), 15_000);
			await new Promise((r) => proc.on('exit', r));
			clearTimeout(term);
			return out;
		},
	};
}

import { execFileSync, type ChildProcess } from 'node:child_process';

/** Stops a profiler under test: SIGTERM (a background job may have SIGINT ignored), then SIGKILL if it lingers. */
export async function stopPeer(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((r) => child.once('exit', r));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
	await exited;
	clearTimeout(timer);
}

/** Whether a command is on the PATH (bpftrace and perf are optional peers). */
export function hasCommand(cmd: string): boolean {
	try {
		execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

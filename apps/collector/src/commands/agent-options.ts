import { durationOption, intOption, UsageError } from '../command.ts';

/** The collector agent's options, as `firesight collector` and `firesight up` both take them. */
export const agentOptions = {
	frequency: { type: 'string', short: 'F' },
	window: { type: 'string' },
	'capture-bodies': { type: 'string', multiple: true },
} as const;

/** Their help lines, but for --window whose example differs per command. */
export const agentOptionsUsage = `  -F, --frequency HZ   samples per second per CPU, 1-10000 (default 97)
  --capture-bodies PID keep HTTPS request and response bodies of this process (capped at 4 KiB
                       each); repeat for more processes. Bodies are off by default.`;

export function frequencyOption(value: string | undefined): number {
	return intOption('frequency', value, 97, 1, 10_000);
}

export function windowOption(value: string | undefined): number {
	const windowMs = durationOption('window', value, 10_000);
	if (windowMs < 1000 || windowMs > 3_600_000) throw new UsageError('--window must be from 1s to 1h');
	return windowMs;
}

export function captureBodiesOption(values: string[] | undefined): number[] {
	return (values ?? []).map((v) => intOption('capture-bodies', v, 0, 1, 2 ** 22));
}

import { UsageError } from './command.ts';

/** Parses `--listen ADDR:PORT` (or `[v6]:PORT`, or `:PORT` for the default address). */
export function parseListen(value: string | undefined, fallback: { host: string; port: number }): { host: string; port: number } {
	if (value === undefined) return { ...fallback };
	const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value.trim());
	const port = Number(m?.[3]);
	if (!m || port < 1 || port > 65535) {
		throw new UsageError(`--listen must be ADDR:PORT, e.g. 127.0.0.1:7300, got '${value}'`);
	}
	return { host: m[1] ?? (m[2] || fallback.host), port };
}

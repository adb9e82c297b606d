import { pino, type Level, type Logger } from 'pino';

/** What every component takes: one line, and optionally how much it matters (info by default). */
export type LogLine = (line: string, level?: Level) => void;

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** `12:00:01.234 INFO  collector: line`, for a person at a terminal; the fields beyond stay JSON. */
export function formatLogRecord(json: string): string {
	try {
		const { time, level, name, msg, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(json) as Record<string, unknown>;
		const at = typeof time === 'string' ? time.slice(11, 23) : new Date(Number(time)).toISOString().slice(11, 23);
		const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
		return `${at} ${(LEVEL_NAMES[Number(level)] ?? String(level)).padEnd(5)} ${String(name)}: ${String(msg)}${extra}\n`;
	} catch {
		return json;
	}
}

/**
 * The daemon's log on stderr: JSON lines with an ISO time and a level for a log collector, or
 * one readable line each when stderr is a terminal. Written synchronously so the last lines
 * before an exit are not lost.
 */
export function createLogger(name: string, options: { pretty?: boolean; write?: (chunk: string) => void } = {}): Logger {
	const pretty = options.pretty ?? process.stderr.isTTY === true;
	const write = options.write ?? ((chunk: string) => process.stderr.write(chunk));
	return pino(
		{ name, level: 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
		{ write: (chunk: string) => write(pretty ? formatLogRecord(chunk) : chunk) },
	);
}

/** The `log(line)` seam the components take, on top of a logger. */
export function logLine(logger: Logger): LogLine {
	return (line, level = 'info') => logger[level](line);
}

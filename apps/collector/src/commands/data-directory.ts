import { mkdirSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { quote, UsageError } from '../command.ts';

/**
 * Makes sure a directory the command writes (the hub's data, the collector's spool) exists and can
 * be written, before anything starts: each missing level is created on its own, because a
 * recursive mkdir under a file system that refuses it (`/proc/nope`) can retry forever. Returns the
 * absolute path. `label` names where the path came from (`--data`, `$FIRESIGHT_DATA`, `--spool`);
 * `mode` is given to the levels it creates.
 */
export function prepareDataDirectory(path: string, label: string, mode?: number): string {
	const dir = resolve(path);
	const fail = (why: string): never => {
		throw new UsageError(`${label} ${quote(path)} ${why}`);
	};
	const missing: string[] = [];
	for (let d = dir; ; d = dirname(d)) {
		let stat;
		try {
			stat = statSync(d);
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || d === dirname(d)) fail(`cannot be used (${errorCode(err)})`);
			missing.unshift(d);
			continue;
		}
		if (!stat.isDirectory()) fail(d === dir ? 'is not a directory' : `cannot be created: ${quote(d)} is not a directory`);
		break;
	}
	for (const d of missing) {
		try {
			mkdirSync(d, mode === undefined ? {} : { mode });
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(`cannot be created (${errorCode(err)})`);
		}
	}
	// Permission bits do not tell (root passes them; a read-only mount does not): try it.
	try {
		rmdirSync(mkdtempSync(join(dir, '.firesight-write-check-')));
	} catch (err) {
		fail(`is not writable (${errorCode(err)})`);
	}
	return dir;
}

function errorCode(err: unknown): string {
	return (err as NodeJS.ErrnoException).code ?? String(err);
}

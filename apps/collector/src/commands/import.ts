import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { defineOptions, quote, UsageError, UserError, type Command } from '../command.ts';
import { hubError } from '../hub-client.ts';
import { DEFAULT_HUB_URL } from '../hub-url.ts';
import { queryOptions } from './query-listing.ts';
import { creator } from './share.ts';

const usage = `Usage: firesight import FILE [--hub URL]

Sends a profile file to a running hub, which keeps it as a share, and prints the share's link.
Formats: pprof (gzipped or not, from Go, Parca, Pyroscope, perf's converters...), folded stacks
(flamegraph.pl's stackcollapse scripts, 'firesight record --format folded'), 'perf script'
output and Chrome .cpuprofile ('node --cpu-prof'). A file the hub cannot read, or over its
size limit (32 MiB unless the hub says otherwise), is refused with exit code 2.

Options:
      --hub URL          the hub (default ${DEFAULT_HUB_URL})
      --token TOKEN      the hub's token, when it asks for one (default $FIRESIGHT_TOKEN)`;

const importOptions = defineOptions({ hub: queryOptions.hub, token: queryOptions.token });

/** Files larger than this are not even read: no hub takes them whole into memory. */
const MAX_READ_BYTES = 1024 * 1024 * 1024;

function parse(argv: string[]) {
	const files = argv.filter((a, i) => !a.startsWith('-') && !(i > 0 && /^--(hub|token)$/.test(argv[i - 1]!)));
	if (files.length === 0) throw new UsageError('say which file to import: firesight import FILE');
	if (files.length > 1) throw new UsageError(`import one file at a time, got ${files.length}`);
	const file = files[0]!;
	const rest = [...argv];
	rest.splice(argv.indexOf(file), 1);
	return { file, ...importOptions.parse(rest) };
}

export const importCommand: Command = {
	name: 'import',
	usage,
	parse,
	async run(argv) {
		const { file, hub, token } = parse(argv);
		let size: number;
		try {
			size = (await stat(file)).size;
		} catch (err) {
			throw new UsageError(`cannot read ${quote(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
		}
		if (size > MAX_READ_BYTES) throw new UsageError(`${quote(file)} is larger than 1 GiB; no hub imports that`);
		const body = await readFile(file).catch((err: NodeJS.ErrnoException) => {
			throw new UsageError(`cannot read ${quote(file)}: ${err.code ?? err.message}`);
		});
		let res: Response;
		try {
			const maker = creator();
			const by = maker !== undefined ? `&creator=${encodeURIComponent(maker)}` : '';
			res = await fetch(`${hub}/api/import?name=${encodeURIComponent(basename(file))}${by}`, {
				method: 'POST',
				headers: { 'content-type': 'application/octet-stream', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
				body,
			});
		} catch (err) {
			throw hubError(hub, err);
		}
		const text = (await res.text()).trim();
		if (res.status === 401) throw new UserError(`the hub at ${hub} wants its token: give --token or set $FIRESIGHT_TOKEN`);
		// 4xx is the file's fault (not a profile, damaged, too large): exit code 2, like bad arguments.
		if (res.status >= 400 && res.status < 500) throw new UsageError(`${basename(file)}: ${text.split('\n')[0] || `HTTP ${res.status}`}`);
		if (!res.ok) throw new UserError(`hub: ${text.split('\n')[0] || `HTTP ${res.status}`}`);
		const made = JSON.parse(text) as { id: string; totalSamples: number; source: { file?: { format: string } } };
		console.error(`firesight import: ${made.totalSamples} samples read as ${made.source.file?.format ?? 'a profile'}`);
		process.stdout.write(`${hub}/s/${made.id}\n`);
		return 0;
	},
};

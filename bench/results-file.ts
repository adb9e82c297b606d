import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/**
 * Replaces (or appends) one `## heading` section of bench/RESULTS.md, so each benchmark owns its
 * section and re-running one does not disturb the others.
 */
export function writeResultsSection(heading: string, body: string): void {
	const text = existsSync(RESULTS)
		? readFileSync(RESULTS, 'utf8')
		: '# Benchmark results\n\nWritten by `npm run bench`; each section by its own script.\n';
	const marker = `## ${heading}\n`;
	const section = `${marker}\n${body.trim()}\n\n`;
	const start = text.indexOf(marker);
	let out: string;
	if (start < 0) {
		out = `${text.trimEnd()}\n\n${section}`;
	} else {
		const next = text.indexOf('\n## ', start + marker.length);
		out = text.slice(0, start) + section + (next < 0 ? '' : text.slice(next + 1));
	}
	writeFileSync(RESULTS, out.trimEnd() + '\n');
}

import { redactCommandLine, type RedactionRules } from '@firesight/protocol';

/** Command lines remembered at most, and their characters (a command line holds up to limits.cmdline). */
export const DEFAULT_REDACTOR_ENTRIES = 16_384;
export const DEFAULT_REDACTOR_CHARS = 4 * 1024 * 1024;

/**
 * Redacts command lines once each. Every live message carries every process's command line,
 * and the same few hundred come again every second; redacting each anew was most of the hub's
 * CPU per live message. The cache is keyed by the command line as received, and redaction is
 * a pure function of it (for one hub's rules), so what it returns is always what
 * redactCommandLine would: a process that changes its command line (a new exec, or a rewritten
 * argv) is a new key and is redacted afresh. Least recently used first out, past a count and a
 * size; what falls out is only redacted again when seen again.
 */
export class CommandLineRedactor {
	readonly #rules: RedactionRules;
	readonly #maxEntries: number;
	readonly #maxChars: number;
	readonly #cache = new Map<string, string>();
	#chars = 0;
	/** Command lines that were redacted (not found in the cache), and the ones that fell out of it. */
	misses = 0;
	evictions = 0;

	constructor(rules: RedactionRules, options: { maxEntries?: number; maxChars?: number } = {}) {
		this.#rules = rules;
		this.#maxEntries = options.maxEntries ?? DEFAULT_REDACTOR_ENTRIES;
		this.#maxChars = options.maxChars ?? DEFAULT_REDACTOR_CHARS;
	}

	get size(): number {
		return this.#cache.size;
	}

	redact(cmdline: string): string {
		const hit = this.#cache.get(cmdline);
		if (hit !== undefined) {
			// Re-inserted, so the Map's order is least recently used first.
			this.#cache.delete(cmdline);
			this.#cache.set(cmdline, hit);
			return hit;
		}
		this.misses++;
		const redacted = redactCommandLine(cmdline, this.#rules);
		const chars = cmdline.length + (redacted === cmdline ? 0 : redacted.length);
		if (chars > this.#maxChars) return redacted;
		// An unchanged command line is kept once, not twice.
		this.#cache.set(cmdline, redacted === cmdline ? cmdline : redacted);
		this.#chars += chars;
		while (this.#cache.size > this.#maxEntries || this.#chars > this.#maxChars) {
			const [oldest, value] = this.#cache.entries().next().value as [string, string];
			this.#cache.delete(oldest);
			this.#chars -= oldest.length + (value === oldest ? 0 : value.length);
			this.evictions++;
		}
		return redacted;
	}
}

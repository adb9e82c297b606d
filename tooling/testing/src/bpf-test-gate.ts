import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/**
 * The one gate for tests that need root, BPF or other parts of the host. Without a prerequisite
 * such a test skips, and says why; with FIRESIGHT_REQUIRE_BPF=1 (as in CI) it fails instead, so a
 * machine that silently lost its BPF support cannot pass the suite by skipping it.
 *
 * Every function takes extra reasons (e.g. netnsUnavailableReason()): undefined means present.
 */

/** Why this process cannot load BPF programs, or undefined when it can (root and BTF present). */
export function bpfUnavailableReason(): string | undefined {
	const root = rootUnavailableReason();
	if (root !== undefined) return root;
	if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs a kernel with BTF (/sys/kernel/btf/vmlinux)';
	return undefined;
}

/** Why this process is not root, or undefined when it is. */
export function rootUnavailableReason(): string | undefined {
	return process.getuid?.() === 0 ? undefined : 'needs root';
}

/** Whether a missing prerequisite fails rather than skips (FIRESIGHT_REQUIRE_BPF=1). */
export function prerequisitesRequired(): boolean {
	return process.env.FIRESIGHT_REQUIRE_BPF === '1';
}

/**
 * The first missing prerequisite, or undefined when all are here. Throws when prerequisites are
 * required and one is missing.
 */
function missing(reasons: readonly (string | undefined)[]): string | undefined {
	const reason = reasons.find((r) => r !== undefined);
	if (reason !== undefined && prerequisitesRequired()) throw new Error(`FIRESIGHT_REQUIRE_BPF=1 but this test ${reason}`);
	return reason;
}

/**
 * For the `skip` option of tests that need BPF (and `more`): false when they can run, else why
 * not. Called at the top of a test file, a required but missing prerequisite fails the file.
 */
export function bpfSkip(...more: (string | undefined)[]): string | false {
	const reason = missing([bpfUnavailableReason(), ...more]);
	return reason === undefined ? false : `${reason} (set FIRESIGHT_REQUIRE_BPF=1 to fail instead)`;
}

/** Inside a test that needs BPF (and `more`): true when it should go on; skips or fails it otherwise. */
export function skipUnlessBpf(t: TestContext, ...more: (string | undefined)[]): boolean {
	return skipUnless(t, bpfUnavailableReason(), ...more);
}

/** Inside a test: true when every reason is undefined; skips or fails it otherwise. */
export function skipUnless(t: TestContext, ...reasons: (string | undefined)[]): boolean {
	const reason = missing(reasons);
	if (reason === undefined) return true;
	t.skip(reason);
	return false;
}

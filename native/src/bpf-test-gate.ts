import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

/**
 * Why BPF tests cannot run here, or undefined when they can (root and BTF present).
 * Tests call `skipUnlessBpf(t)`: with FIRESIGHT_REQUIRE_BPF=1 (as in CI) a missing prerequisite
 * fails the test instead of skipping it.
 */
export function bpfUnavailableReason(): string | undefined {
	if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
	if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs a kernel with BTF (/sys/kernel/btf/vmlinux)';
	return undefined;
}

/** Returns true when the test should go on; skips or fails it otherwise (see above). */
export function skipUnlessBpf(t: TestContext): boolean {
	const reason = bpfUnavailableReason();
	if (reason === undefined) return true;
	if (process.env.FIRESIGHT_REQUIRE_BPF === '1') throw new Error(`FIRESIGHT_REQUIRE_BPF=1 but this test ${reason}`);
	t.skip(reason);
	return false;
}

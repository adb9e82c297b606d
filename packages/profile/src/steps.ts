/**
 * Long computations over a profile as generators that pause between steps, so a server can run
 * them a slice at a time and keep answering meanwhile; run to the end at once, they are the plain
 * functions. Nothing here waits on a clock: how a caller spends the pauses is up to it.
 */

/** About how many samples one step handles before it pauses. */
export const STEP_SAMPLES = 65_536;

/** Runs a stepped computation to its end, without pausing. */
export function runSteps<T>(steps: Generator<void, T>): T {
	for (;;) {
		const step = steps.next();
		if (step.done) return step.value;
	}
}

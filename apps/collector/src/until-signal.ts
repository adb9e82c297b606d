/** Resolves on the first SIGINT or SIGTERM, so long-running commands can shut down cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
	return new Promise((resolve) => {
		const done = (signal: NodeJS.Signals) => {
			process.off('SIGINT', done);
			process.off('SIGTERM', done);
			resolve(signal);
		};
		process.on('SIGINT', done);
		process.on('SIGTERM', done);
	});
}

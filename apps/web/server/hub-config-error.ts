/**
 * A hub option that cannot work, said in one line for the CLI to print (exit code 2): no token
 * beyond loopback, unreadable or invalid TLS files.
 */
export class HubConfigError extends Error {
	override readonly name = 'HubConfigError';

	constructor(
		readonly code: 'needs_token' | 'tls',
		message: string,
	) {
		super(message);
	}
}

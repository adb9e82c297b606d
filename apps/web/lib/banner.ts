import { formatAgo } from './format.ts';
import type { LiveState } from './live-store.ts';

export type Banner =
	{ kind: 'hub'; title: string; detail: string; retryAt: number | null } | { kind: 'collector'; title: string; detail: string };

/** A first connection gets this long before a slow start counts as an outage. */
const FIRST_CONNECT_GRACE_MS = 2_000;

/** What the disconnection banner says, or null when everything is connected. */
export function bannerFor(state: LiveState, now: number): Banner | null {
	if (state.connection !== 'open') {
		const lostFor = state.lostAt === null ? 0 : now - state.lostAt;
		if (!state.everConnected && state.connection === 'connecting' && lostFor < FIRST_CONNECT_GRACE_MS) return null;
		return {
			kind: 'hub',
			title: state.everConnected ? 'Lost connection to the hub' : 'Cannot reach the hub',
			detail: state.everConnected
				? `Live data stopped ${formatAgo(lostFor)} ago. Is \`firesight up\` still running?`
				: 'Is `firesight up` (or `firesight hub`) running on this address?',
			retryAt: state.connection === 'closed' ? state.retryAt : null,
		};
	}
	const status = state.status;
	if (!status) return null;
	if (status.hosts.length === 0) {
		return {
			kind: 'collector',
			title: 'No collector is connected',
			detail:
				'The hub is up but no host is sending data. Run `firesight up`, or `firesight collector --hub URL --token TOKEN` on each host.',
		};
	}
	const down = status.hosts.filter((host) => !host.connected);
	if (down.length === 0) return null;
	const names = down.map((host) => host.host).join(', ');
	const newestSeen = Math.max(...down.map((host) => host.lastSeenMs));
	const ago = newestSeen > 0 ? ` ${formatAgo(now - newestSeen)} ago` : '';
	return {
		kind: 'collector',
		title: down.length === 1 ? `Collector on ${names} disconnected${ago}` : `${down.length} collectors disconnected: ${names}`,
		detail: 'Its data has stopped updating; it reconnects by itself when the collector comes back.',
	};
}

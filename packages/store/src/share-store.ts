import { randomBytes } from 'node:crypto';
import type { Profile } from '@firesight/profile';

/**
 * What a share was taken from, shown beside it. A share made from a query names the query's
 * filters and the hosts and processes its samples came from; an imported file names the file.
 */
export interface ShareSource {
	/** `query`: merged from stored windows; `import`: a file someone uploaded. */
	kind: 'query' | 'import';
	/** The profile's time range (epoch ms); for an import, what the file states. */
	fromMs: number;
	toMs: number;
	/** Hosts whose samples went in (for a query: every host when the filter named none). */
	hosts: string[];
	/** Distinct processes in the snapshot, heaviest first, at most `MAX_SHARE_PROCESSES`. */
	processes: { pid: number; comm: string }[];
	/** The query's own filters, as given. */
	filter?: { host?: string | undefined; pid?: number | undefined; pids?: number[] | undefined; comm?: string | undefined } | undefined;
	/** For an import: the file's name and the format it was read as. */
	file?: { name: string; format: string } | undefined;
}

/**
 * How a share link opens: the Profiles page's URL parameters (`view`, `orient`, `q`, ...) as
 * `name → value`. Opaque to the store; the page decides what it honours.
 */
export type ShareViewState = Record<string, string>;

/** What a new share holds; the store adds the id and the creation time. */
export interface NewShare {
	/**
	 * The immutable snapshot: frames and sampled stacks with counts, nothing else. A share never
	 * holds captured requests, payloads, connection data or tokens, so its id can be handed out.
	 */
	profile: Profile;
	source: ShareSource;
	/** Who made it, when known (a login name, a CLI user@host); null otherwise. */
	creator: string | null;
	viewState: ShareViewState | null;
}

/** A share without its profile: what lists and headers show. */
export interface ShareSummary extends Omit<NewShare, 'profile'> {
	id: string;
	createdMs: number;
	/** Sum of the snapshot's sample weights. */
	totalSamples: number;
	/** Distinct (stack, pid, comm) rows in the snapshot. */
	stacks: number;
}

export interface Share extends ShareSummary {
	profile: Profile;
}

/** The most processes a share's source lists; the snapshot itself keeps every sample. */
export const MAX_SHARE_PROCESSES = 100;

/** A share id: 16 random bytes (128 bits) as base64url, 22 characters. */
const SHARE_ID = /^[A-Za-z0-9_-]{22}$/;

/** A new share id: 128 random bits, url-safe. Unguessable, since the id is the capability to read. */
export function newShareId(): string {
	// Never starting with '-': `firesight share delete -x…` would read the id as an option
	// (one id in 64 did). Drawing again keeps every other id equally likely.
	for (;;) {
		const id = randomBytes(16).toString('base64url');
		if (!id.startsWith('-')) return id;
	}
}

/** Whether `id` has the shape of a share id (it may still be unknown). */
export function isShareId(id: string): boolean {
	return SHARE_ID.test(id);
}

/**
 * Profile snapshots handed out by link. Shares have no retention of their own: they are kept
 * until deleted, whatever `prune()` drops of the windows they were taken from.
 */
export interface ShareStore {
	/** Stores a snapshot under a fresh id; resolves with its summary once it is durable. */
	create(share: NewShare): Promise<ShareSummary>;
	/** The share with its profile, or null for an unknown (or malformed) id. */
	get(id: string): Promise<Share | null>;
	/** The share without its profile (no decoding), or null: to tell whether a link is good. */
	summary(id: string): Promise<ShareSummary | null>;
	/** Every share, newest first. */
	list(): Promise<ShareSummary[]>;
	/** Deletes a share; false when there was none with this id. */
	delete(id: string): Promise<boolean>;
}

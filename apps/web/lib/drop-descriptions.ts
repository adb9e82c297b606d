/** What a loss counts, so a share can be computed against the right total. */
export type DropDenominator = 'samples' | 'requests' | 'windows';

export interface DropDescription {
	meaning: string;
	/** The events the counter is a part of, when the dashboard knows their rate. */
	per?: DropDenominator;
	/**
	 * False for what was kept but shortened or left unnamed (a cut name, an unsymbolized frame):
	 * shown in the panel, not summed into the header's count of what was lost.
	 */
	lost?: false;
}

/**
 * What each counter means to a person, keyed by the name that reaches /metrics:
 * `<feature>.<counter>` from a collector, `hub.<metric>.<label>` from the hub itself.
 */
export const DROP_DESCRIPTIONS: Readonly<Record<string, DropDescription>> = {
	'profile.userStackMissing': {
		meaning: 'Samples whose user-space stack could not be read (process exiting, or a stack the unwinder cannot walk)',
		per: 'samples',
	},
	'profile.kernelStackMissing': { meaning: 'Samples whose kernel stack could not be read', per: 'samples' },
	'profile.stackCollisions': { meaning: 'Samples whose stack collided with another in the kernel stack map and was lost', per: 'samples' },
	'profile.countsMapFull': {
		meaning: 'Samples lost because the kernel counts map was full before the collector drained it',
		per: 'samples',
	},
	'profile.unwindNoMapping': {
		meaning: 'User stacks cut short: an address in no mapping the walker knew (a new process or mmap)',
		per: 'samples',
	},
	'profile.unwindNoTable': { meaning: 'User stacks cut short: no unwind table for the code (--unwind dwarf)', per: 'samples' },
	'profile.unwindLookupFailed': {
		meaning: 'User stacks cut short: a row or rule of a loaded unwind table missing from the kernel maps',
		per: 'samples',
	},
	'profile.unwindRuleUnsupported': {
		meaning: 'User stacks cut short: an unwind rule the walker cannot evaluate (--unwind dwarf; auto goes on with frame pointers)',
		per: 'samples',
	},
	'profile.unwindNoProgress': { meaning: 'User stacks cut short: an unwind step that would not move up the stack', per: 'samples' },
	'profile.unwindFramePointerLost': {
		meaning: 'User stacks cut short: walked by frame pointers into code that keeps none (no unwind table covered it)',
		per: 'samples',
	},
	'profile.unwindZeroReturn': {
		meaning:
			'User stacks possibly cut short: a zero return address where the unwind info marks no outermost frame (code that leaves its first frame unmarked, or a wrong rule)',
		per: 'samples',
	},
	'profile.unwindTablePending': {
		meaning:
			'User stacks cut short: the unwind tables they needed were not loaded yet, and were still not when the sample was walked again (a table still being built)',
		per: 'samples',
	},
	'profile.unwindDeferred': {
		meaning: 'Samples taken before their unwind tables were loaded (a new process), copied and walked again once they were: not lost',
		per: 'samples',
		lost: false,
	},
	'profile.unwindDeferRingFull': {
		meaning: 'User stacks possibly cut short: taken before their unwind tables were loaded, with no room left to copy them for later',
		per: 'samples',
	},
	'profile.unwindDeferQueueFull': {
		meaning:
			'Samples taken before their unwind tables were loaded, walked at once for want of room in the collector to hold them: where they were cut, that is counted as unwindTablePending',
		per: 'samples',
		lost: false,
	},
	'profile.unwindProcessExited': {
		meaning:
			'User stacks walked by frame pointers only, possibly cut: the process exited before its memory map could be read (a program that ran for a few milliseconds), so neither its unwind tables nor its symbols could be (its frames count as missNoProcess)',
		per: 'samples',
		lost: false,
	},
	'profile.unwindProcessExeced': {
		meaning:
			'User stacks walked by frame pointers only, possibly cut: taken before their unwind tables were loaded, and the process exec’d another program before they could be walked again, so its code’s tables and symbols were gone (its frames show as [before exec])',
		per: 'samples',
		lost: false,
	},
	'profile.unwindUretprobeTrampoline': {
		meaning:
			'User stacks ended at a function with a return probe: sampled just as the kernel swapped the probe in for the return address, or the real one back, with nothing naming the real one (perf’s walk is cut there too). Firesight’s TLS probes note theirs: this counts other tools’ probes, and samples of a process walked later, once described',
		per: 'samples',
	},
	'profile.unwindReadFault': { meaning: 'User stacks cut short: reading the stack faulted', per: 'samples' },
	'profile.unwindTooDeep': { meaning: 'User stacks cut at the walker’s depth limit', per: 'samples' },
	'profile.unwindMappingsFull': {
		meaning: 'User stacks cut short: the process had more executable mappings than the walker holds',
		per: 'samples',
	},
	'profile.unwindStacksFull': { meaning: 'User stacks lost: the kernel’s user stack map was full', per: 'samples' },
	'profile.unwindTablesFull': { meaning: 'Unwind tables that did not fit the kernel budget (their code is walked with frame pointers)' },
	'profile.unwindBuildFailures': { meaning: 'Mapped files whose unwind table could not be built (walked with frame pointers)' },
	'profile.unwindProcessesDropped': { meaning: 'Processes whose mappings were not given to the stack walker (queue or map full)' },
	'profile.unwindFilesDropped': { meaning: 'Mapped files not tracked for unwinding: too many at once' },
	'profile.framesCut': { meaning: 'Frame names cut to the wire limit (the end, with the method name, is kept)', lost: false },
	'profile.elfEvictions': {
		meaning: 'Symbol tables of mapped files let go past the collector’s budget (64 MiB), read again when next needed: nothing lost',
		lost: false,
	},
	'profile.processEvictions': {
		meaning:
			'Memory maps of processes let go past the collector’s budget (32 MiB), read again when next needed: nothing lost while the process runs (a sample of one that exited since is named [exited], counted as missNoProcess)',
		lost: false,
	},
	'profile.missNoProcess': { meaning: 'Frames not named: the process had exited before its memory map was read', lost: false },
	'profile.missNoMapping': { meaning: 'Frames not named: the address is in no mapping of the process', lost: false },
	'profile.missNoFile': { meaning: 'Frames not named: the mapped file could not be opened', lost: false },
	'profile.missNoSymbol': { meaning: 'Frames not named: the file has no symbol for the address', lost: false },
	'profile.kernelMiss': { meaning: 'Kernel frames not named from kallsyms', lost: false },
	'tcp.ringBufferFull': { meaning: 'TCP events lost because the kernel ring buffer was full' },
	'tcp.connectionsMapFull': { meaning: 'Connections not tracked because the kernel connections map was full' },
	'tcp.synackPendingFull': { meaning: 'Handshakes not timed because the pending SYN-ACK map was full' },
	'tcp.eventsDropped': { meaning: 'TCP events dropped by the collector’s bounded queue' },
	'tls.dataLost': { meaning: 'TLS data events lost because the ring buffer was full', per: 'requests' },
	'tls.controlLost': { meaning: 'TLS control events (connection open/close) lost because the ring buffer was full' },
	'tls.truncated': { meaning: 'TLS reads or writes longer than one capture record, cut', lost: false },
	'tls.readFailed': { meaning: 'SSL calls whose data or byte count could not be read from the process’s memory' },
	'tls.noEntry': {
		meaning: 'SSL calls seen returning with data but not entering (attached mid-call, nested, or the in-flight map was full)',
	},
	'tls.activeFull': { meaning: 'SSL calls not captured because the in-flight call map was full' },
	'tls.connFull': { meaning: 'TLS connections not tracked because the connection map was full' },
	'tls.threadsFull': { meaning: 'Node TLS calls not tied to their socket because another thread took their thread’s slot of socket notes' },
	'tls.streamDropped': { meaning: 'HTTP streams given up by the parser (out of order or over its buffer)', per: 'requests' },
	'tls.decodeErrors': { meaning: 'TLS capture records that could not be decoded' },
	'tls.attachFailures': { meaning: 'Processes whose OpenSSL could not be attached to' },
	'tls.connectionsEvicted': { meaning: 'TLS connections evicted from the collector’s bounded table' },
	'tls.parseErrors': {
		meaning: 'HTTP/1 streams that could not be parsed at some point (the message in progress is lost)',
		per: 'requests',
	},
	'tls.desyncs': {
		meaning: 'Times an HTTP/1 stream lost its place (a parse error or an uncaptured gap outside a body) and skipped to the next message',
	},
	'tls.skippedBytes': { meaning: 'Bytes of HTTP/1 streams skipped while out of step' },
	'tls.unpairedResponses': { meaning: 'HTTP responses whose request was not captured', per: 'requests' },
	'tls.unansweredRequests': { meaning: 'HTTP requests whose response was not captured before the connection ended', per: 'requests' },
	'tls.pendingDropped': { meaning: 'Pipelined HTTP requests forgotten past 256 waiting on one connection', per: 'requests' },
	'tls.requestsNotSent': {
		meaning: 'Captured requests not sent to the hub (over the collector’s budget of 20,000 a second)',
		per: 'requests',
	},
	'tls.requestContextFull': { meaning: 'Requests whose CPU could not be attributed because the kernel request context map was full' },
	'tls.requestSlotsFull': { meaning: 'Requests forgotten because more than 8 were open on one thread (their later CPU is unattributed)' },
	'tls.responseUnmatched': {
		meaning: 'Responses written by a thread that held no request of their connection (a thread pool): that CPU is not attributed',
	},
	'tls.samplesUnattributed': {
		meaning: 'CPU samples stamped with a request the HTTPS capture never described, sent without an endpoint',
		per: 'samples',
	},
	'tls.requestsForgotten': { meaning: 'Requests forgotten by the collector’s bounded table before their CPU samples were labelled' },
	'tls.samplesLifetimeCut': {
		meaning: 'Ambiguous CPU samples that fell in more slow requests’ lifetimes than their label holds: the oldest requests miss them',
		per: 'samples',
	},
	'hubQueue.live': { meaning: 'Live snapshots superseded in the full queue to the hub (a newer one was sent)' },
	'hubQueue.requests': {
		meaning: 'Captured requests dropped, oldest first, past the queue to the hub’s bound (a second of the collector’s budget)',
		per: 'requests',
	},
	'hubQueue.requestsUnconfirmed': {
		meaning:
			'Captured requests written to a hub connection that ended before the hub answered them: possibly lost (the hub may have stored some)',
		per: 'requests',
	},
	'hubQueue.window': {
		meaning: 'Stored messages (profile windows and others) dropped by the spool’s cap, oldest first, never reaching the hub',
		per: 'windows',
	},
	'live.processesCut': { meaning: 'Processes left out of the live table past its bound (100,000 rows), the least busy first' },
	'hub.windowRepairs.frame_name_cut': { meaning: 'Frame names the hub cut to its limit so the window could be stored', lost: false },
	'hub.windowRepairs.frame_module_cut': { meaning: 'Module names the hub cut to its limit so the window could be stored', lost: false },
	'hub.windowRepairs.frame_replaced': {
		meaning: 'Unreadable frames the hub replaced with “[invalid frame]”, keeping their samples',
		lost: false,
	},
	'hub.windowRepairs.comm_cut': { meaning: 'Process names the hub cut to its limit', lost: false },
	'hub.windowRepairs.stack_dropped': { meaning: 'Invalid stacks the hub dropped so the rest of the window could be stored' },
	'hub.messagesRejected.invalid': { meaning: 'Collector messages (whole windows among them) the hub refused as invalid', per: 'windows' },
	'hub.messagesRejected.store': { meaning: 'Collector messages the hub could not store (the collector sends them again)', per: 'windows' },
	'hub.messagesRejected.closed': {
		meaning:
			'Collector messages without an id (request batches, live snapshots) read but not stored because the hub closed their connection first',
	},
	'hub.unauthorized': { meaning: 'Collector connections refused for a missing or wrong token' },
	'hub.liveRequestsThinned': {
		meaning: 'Requests left out of the live Requests page past 2,000 a second per host (all of them are stored)',
		lost: false,
	},
	'hub.hostsForgotten': { meaning: 'Disconnected hosts the hub stopped listing to stay within its bound', lost: false },
	'hub.browsersDropped': { meaning: 'Browsers cut from the live stream for reading it too slowly' },
	'hub.imports.refused': { meaning: 'Profile files posted for import that were refused' },
	'hub.imports.too_large': { meaning: 'Profile files posted for import that were over the size limit' },
	'hub.imports.failed': { meaning: 'Profile files posted for import that failed to store' },
};

/** The description of a counter, or a generic one built from its name. */
export function describeDrop(name: string): DropDescription {
	const known = DROP_DESCRIPTIONS[name];
	if (known) return known;
	const [group, metric, label] = name.split('.');
	if (group === 'hub' && metric === 'messagesRejected') return { meaning: `Collector messages the hub refused (${label ?? 'no reason'})` };
	if (group === 'hub' && metric === 'windowRepairs')
		return { meaning: `Window fields the hub repaired (${label ?? 'no reason'})`, lost: false };
	if (group === 'hub' && metric === 'httpRefused') return { meaning: `HTTP requests the hub refused (${label ?? 'no reason'})` };
	if (group === 'hub' && metric === 'apiRefused') return { meaning: `API requests over budget (${label ?? 'no reason'})` };
	if (group === 'hub') return { meaning: 'A loss counter of the hub (no description yet)' };
	return { meaning: `A loss counter of the collector’s ${group} feature (no description yet)` };
}

/** The header's one number: what the counters say was lost, leaving out what was only cut or unnamed. */
export function lostTotal(drops: Readonly<Record<string, number>>): number {
	let sum = 0;
	for (const [name, count] of Object.entries(drops)) if (describeDrop(name).lost !== false) sum += count;
	return sum;
}

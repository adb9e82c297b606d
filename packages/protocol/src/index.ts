export { limits } from './limits.ts';
export {
	frameSchema,
	hostSchema,
	pidSchema,
	commSchema,
	timestampSchema,
	frequencySchema,
	stackRowSchema,
	profileWindowSchema,
	type Frame,
	type StackRow,
	type ProfileWindow,
} from './profile-window.ts';
export {
	processRowSchema,
	dropsSchema,
	liveStatsSchema,
	type ProcessRow,
	type Drops,
	type LiveStats,
} from './live.ts';
export {
	PROTOCOL_VERSION,
	helloMessageSchema,
	profileMessageSchema,
	liveMessageSchema,
	collectorMessageSchema,
	hubReplySchema,
	type HelloMessage,
	type ProfileMessage,
	type LiveMessage,
	type CollectorMessage,
	type HubReply,
} from './ingest.ts';
export {
	processesMessageSchema,
	hostStatusSchema,
	statusMessageSchema,
	windowMessageSchema,
	liveServerMessageSchema,
	type HostStatus,
	type ProcessesMessage,
	type StatusMessage,
	type WindowMessage,
	type LiveServerMessage,
} from './browser.ts';
export { parseCollectorMessage, parseLiveServerMessage, formatZodError, type ParseResult } from './parse.ts';

export {
	Profiler,
	DEFAULT_UNWIND_PROCESSES,
	DEFERRED_TRIES,
	DEFERRED_MAX_TRIES,
	DEFAULT_UNWIND_ROWS,
	MAX_PIDS,
	UNWIND_MODES,
	type ProfilerOptions,
	type DrainedWindow,
	type UnwindMode,
	type UnwindMapping,
	type UnwindMappingKind,
} from './profiler.ts';
export { NativeError, checkBpfPrerequisites } from './native-error.ts';
export { keepLargeBlocksMapped } from './addon.ts';
export { PROFILE_COUNTERS, type ProfileCounter, type StackCount } from './profile-records.ts';
export { TlsTracer, type TlsTracerOptions } from './tls-tracer.ts';
export * from './tls-records.ts';
export * from './http1-records.ts';
export { Http1Tracker, type Http1TrackerOptions, type TlsStreamEvent } from './http1-tracker.ts';
export * from './tcp-tracer.ts';

export {
	appRouter,
	createCaller,
	type AppRouter,
	type FlameResult,
	type FlameSubtree,
	type FlameSearchResult,
	type HostInfo,
} from './router.ts';
export { RangeCache, rangeCacheFor, type RangeCacheStats } from './range-cache.ts';
export { bucketFor, type Timeline } from './timeline-procedure.ts';
export { ApiError, apiErrorCodes, apiCodeOf, type ApiErrorCode } from './errors.ts';
export type { ApiContext, LiveView } from './context.ts';
export {
	profileQueryInput,
	flameInput,
	foldedInput,
	MAX_RANGE_MS,
	DEFAULT_MIN_FRACTION,
	type ProfileQueryInput,
	type FlameInput,
} from './inputs.ts';
export { profileExport, EXPORT_FORMATS, type ProfileExport, type ExportFormat } from './profile-export.ts';
export { sharesRouter, PUBLIC_SHARE_PROCEDURES, viewStateSchema, shareCreateInput, type ShareFlameResult } from './shares-router.ts';
export { shareFromQuery, shareFromFile, type ImportOptions, type ShareMeta } from './share-snapshot.ts';
export { networkRouter, type NetworkSeriesResult, type RateSeries, type RatePoint } from './network-router.ts';
export { requestsRouter, MAX_REQUESTS_PER_CALL } from './requests-router.ts';
export { diffRouter, diffInput, diffSharesInput, topDiffRows, type DiffResult, type DiffSide, type DiffSideInput } from './diff-router.ts';
export { sandwichRouter, type SandwichResult } from './sandwich-router.ts';
export { endpointCpuInput, type EndpointCpu, type EndpointCpuInput } from './endpoint-cpu-router.ts';

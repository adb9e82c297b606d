export { type Frame, type FrameKind, frameKey, KERNEL_MODULE, JIT_MODULE } from './frame.ts';
export { FrameTable } from './frame-table.ts';
export {
	type Profile,
	type ProfileMeta,
	type ProfileSample,
	type SampleLabels,
	periodNs,
	totalWeight,
	checkProfileMeta,
} from './profile.ts';
export { ProfileBuilder } from './profile-builder.ts';
export { mergeProfiles } from './merge-profiles.ts';
export { filterProfile, type ProfileFilter } from './filter-profile.ts';
export { toFolded, parseFolded, type FoldedOptions, type ParseFoldedOptions } from './folded.ts';
export { toPprof, fromPprof } from './pprof.ts';
export { fromCpuprofile, type CpuprofileLimits } from './cpuprofile.ts';
export { fromPerfScript } from './perf-script.ts';
export {
	importProfile,
	ImportError,
	DEFAULT_IMPORT_LIMITS,
	type ImportLimits,
	type ImportFormat,
	type ImportedProfile,
} from './import-profile.ts';
export { toFlameTree, HIDDEN_NODE_NAME, type FlameNode, type FlameTree, type FlameTreeOptions } from './flame-tree.ts';
export { prunedFlameTree, prunedFlameTreeSteps, type PrunedFlameTree, type PrunedFlameTreeOptions } from './pruned-flame-tree.ts';
export { samplesUnder, findNode, graftSubtree, type FlamePath } from './flame-path.ts';
export { matchesSearch, searchProfile, type SearchCount } from './search-profile.ts';
export { topFunctions, topFunctionsSteps, type FunctionRow } from './top-functions.ts';
export { runSteps, STEP_SAMPLES } from './steps.ts';
export { diffProfiles, normalizedChange, type DiffNode, type DiffTree, type DiffOptions } from './diff-profiles.ts';
export { diffFunctions, type DiffFunctionRow } from './diff-functions.ts';
export { sandwich, type Sandwich, type FunctionRef } from './sandwich.ts';
export { groupByProcess, processFrameName, PROCESS_MODULE } from './group-by-process.ts';
export { groupByEndpoint, endpointFrameName, ENDPOINT_MODULE, NO_ENDPOINT } from './group-by-endpoint.ts';
export {
	parseRequestIds,
	requestIdEntry,
	formatRequestIds,
	REQUEST_ID_SEPARATOR,
	MAY_BE_AFTER,
	type RequestIdEntry,
} from './request-id-list.ts';

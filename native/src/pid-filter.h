// The tools' optional process filter: a BPF hash map whose keys are the tgids to keep.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

namespace firesight {

// Puts every pid of `pids` (a JS array of numbers) into `map`. Main thread, after load.
// Throws NativeError when the map refuses one.
void FillPidFilter(Napi::Env env, struct bpf_map *map, const Napi::Array &pids);

} // namespace firesight

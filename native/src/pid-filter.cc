#include "pid-filter.h"

#include <bpf/bpf.h>
#include <errno.h>

#include "native-error.h"

namespace firesight {

void FillPidFilter(Napi::Env env, struct bpf_map *map, const Napi::Array &pids)
{
	for (uint32_t i = 0; i < pids.Length(); i++) {
		__u32 pid = pids.Get(i).As<Napi::Number>().Uint32Value();
		__u8 one = 1;
		if (bpf_map_update_elem(bpf_map__fd(map), &pid, &one, BPF_ANY))
			throw NativeError(env, "bpf_map_update_elem(pids)", errno);
	}
}

} // namespace firesight

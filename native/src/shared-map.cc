#include "shared-map.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <string>

#include "native-error.h"
#include "probed-return.h"
#include "request-context.h"

namespace firesight {

// A plain hash keyed by thread id: entries are deleted when their thread exits, and a full map is
// counted by the tls tool rather than silently evicting another thread's request.
const SharedMapSpec kRequestContexts = {"request_ctx", BPF_MAP_TYPE_HASH, sizeof(__u32),
					sizeof(struct request_context)};
// One entry per CPU, overwritten at every probed call's entry and return: it is read on the same
// CPU moments later.
const SharedMapSpec kProbedReturn = {"probed_return", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
				     sizeof(struct probed_return)};

namespace {

// Each map while any tool holds it. Guarded by the mutex: workers of the same addon may load
// tools from other threads.
std::mutex mutex;
std::map<const SharedMapSpec *, std::weak_ptr<SharedMap>> shared;

} // namespace

std::shared_ptr<SharedMap> SharedMap::Acquire(Napi::Env env, const SharedMapSpec &spec,
					      uint32_t entries)
{
	std::lock_guard<std::mutex> lock(mutex);
	if (auto held = shared[&spec].lock())
		return held;
	int fd = bpf_map_create(spec.type, spec.name, spec.key_size, spec.value_size, entries,
				nullptr);
	if (fd < 0)
		throw NativeError(env, std::string("bpf_map_create(") + spec.name + ")", errno);
	std::shared_ptr<SharedMap> made(new SharedMap(spec, fd));
	shared[&spec] = made;
	return made;
}

void SharedMap::ReuseIn(Napi::Env env, struct bpf_map *map) const
{
	int err = bpf_map__reuse_fd(map, fd_);
	if (err)
		throw NativeError(env, std::string("bpf_map__reuse_fd(") + spec_.name + ")", err);
}

SharedMap::~SharedMap()
{
	close(fd_);
}

} // namespace firesight

#include "request-context-map.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <mutex>

#include "request-context.h"

namespace firesight {
namespace {

// The map while any tool holds it. Guarded by the mutex: workers of the same addon may load
// tools from other threads.
std::mutex mutex;
std::weak_ptr<RequestContextMap> shared;

} // namespace

std::shared_ptr<RequestContextMap> RequestContextMap::Acquire(uint32_t entries)
{
	std::lock_guard<std::mutex> lock(mutex);
	if (auto held = shared.lock())
		return held;
	// A plain hash keyed by thread id: entries are deleted when their thread exits, and a full
	// map is counted by the tls tool rather than silently evicting another thread's request.
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "request_ctx", sizeof(__u32),
				sizeof(struct request_context), entries, nullptr);
	if (fd < 0)
		return nullptr;
	std::shared_ptr<RequestContextMap> made(new RequestContextMap(fd));
	shared = made;
	return made;
}

int RequestContextMap::ReuseIn(struct bpf_map *map) const
{
	return bpf_map__reuse_fd(map, fd_);
}

RequestContextMap::~RequestContextMap()
{
	close(fd_);
}

} // namespace firesight

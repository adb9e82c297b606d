// The per-thread request context map (bpf/request-context.h) that the tls and profile tools
// share: created once here, handed to each object before it loads, and closed when the last of
// them lets go, so that neither tool owns the other's data and a killed process leaves nothing.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <memory>

#include "request-context.h"

namespace firesight {

class RequestContextMap {
public:
	// The map, made now with room for `entries` threads or shared with the tools that hold it
	// already (whatever its size). Main thread. Returns nullptr with errno set when the kernel
	// refuses to create it.
	static std::shared_ptr<RequestContextMap>
	Acquire(uint32_t entries = REQUEST_CONTEXT_ENTRIES);

	// Makes `map` (an object's request_contexts, before load) this map. Main thread. Returns 0
	// or a negative errno.
	int ReuseIn(struct bpf_map *map) const;

	~RequestContextMap();
	RequestContextMap(const RequestContextMap &) = delete;
	RequestContextMap &operator=(const RequestContextMap &) = delete;

private:
	explicit RequestContextMap(int fd) : fd_(fd) {}
	int fd_;
};

} // namespace firesight

// The maps that the tls and profile tools share: the per-thread request contexts
// (bpf/request-context.h) and the return addresses noted at probed calls' entries and returns
// (bpf/probed-return.h). Each is created once here, handed to each object before it loads, and
// closed when the last of them lets go, so that neither tool owns the other's data and a killed
// process leaves nothing.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <cstdint>
#include <memory>

namespace firesight {

// What a shared map is; the BPF side declares it the same way in every object that uses it.
struct SharedMapSpec {
	const char *name;
	enum bpf_map_type type;
	uint32_t key_size;
	uint32_t value_size;
};

extern const SharedMapSpec kRequestContexts;
extern const SharedMapSpec kProbedReturn;

class SharedMap {
public:
	// The map, made now with room for `entries` or shared with the tools that hold it already
	// (whatever its size). Main thread. Throws NativeError when the kernel refuses to create it.
	static std::shared_ptr<SharedMap> Acquire(Napi::Env env, const SharedMapSpec &spec,
						  uint32_t entries);

	// Makes `map` (an object's declaration of it, before load) this map. Main thread. Throws
	// NativeError.
	void ReuseIn(Napi::Env env, struct bpf_map *map) const;

	~SharedMap();
	SharedMap(const SharedMap &) = delete;
	SharedMap &operator=(const SharedMap &) = delete;

private:
	SharedMap(const SharedMapSpec &spec, int fd) : spec_(spec), fd_(fd) {}
	const SharedMapSpec &spec_;
	int fd_;
};

} // namespace firesight

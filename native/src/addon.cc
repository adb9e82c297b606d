// The addon's entry point: one class per BPF tool. Each tool's file defines Init<Tool>.
#include <napi.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace firesight {
void InitProfiler(Napi::Env env, Napi::Object exports);
void InitTlsTracer(Napi::Env env, Napi::Object exports);
void InitTcpTracer(Napi::Env env, Napi::Object exports);
} // namespace firesight

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
#ifdef __GLIBC__
	// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so
	// after a few big drains every large transient buffer (drained maps, table copies,
	// ArrayBuffers) is carved from the arenas instead of being mapped, and the arenas keep
	// what they grew to: in a soak of `up` they held 25-30 MiB more than with this, and grew
	// while the JS heap did not. The fixed threshold, glibc's default value, keeps large
	// blocks mapped on their own, so freeing one gives it back to the system.
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	firesight::InitProfiler(env, exports);
	firesight::InitTlsTracer(env, exports);
	firesight::InitTcpTracer(env, exports);
	return exports;
}

NODE_API_MODULE(firesight_native, Init)

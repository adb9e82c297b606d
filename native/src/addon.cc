// The addon's entry point: one class per BPF tool. Each tool's file defines Init<Tool>.
#include <napi.h>

namespace firesight {
void InitProfiler(Napi::Env env, Napi::Object exports);
void InitTlsTracer(Napi::Env env, Napi::Object exports);
void InitTcpTracer(Napi::Env env, Napi::Object exports);
} // namespace firesight

static Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	firesight::InitProfiler(env, exports);
	firesight::InitTlsTracer(env, exports);
	firesight::InitTcpTracer(env, exports);
	return exports;
}

NODE_API_MODULE(firesight_native, Init)

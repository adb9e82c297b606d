// JavaScript glue for Http1Tracker, shared by the TlsTracer and the standalone Http1Tracker class.
// Main thread only.
#pragma once

#include <napi.h>

#include "http1-tracker.h"

namespace firesight {

// {maxBodyBytes, maxConnections, idleTimeoutMs}, each optional.
Http1TrackerOptions Http1TrackerOptionsFrom(Napi::Object cfg);
Napi::Value SinkToArrayBuffer(Napi::Env env, const VectorSink &sink);
// HTTP1_STAT_MAX u64 totals (http1-records.h).
Napi::Value Http1StatsToArrayBuffer(Napi::Env env, Http1Tracker &tracker);
uint64_t BigIntNs(Napi::Value v);
void InitHttp1Tracker(Napi::Env env, Napi::Object exports);

} // namespace firesight

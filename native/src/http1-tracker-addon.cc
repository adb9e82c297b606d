// Http1Tracker behind a JS class, fed framed tls records from JavaScript rather than from the
// ring buffer: what the differential fuzz test drives, and the helpers the TlsTracer shares.
#include "http1-tracker-addon.h"

#include <cstring>

#include "ring-buffer-frame.h"

namespace firesight {

Http1TrackerOptions Http1TrackerOptionsFrom(Napi::Object cfg)
{
	Http1TrackerOptions o;
	if (cfg.Has("maxBodyBytes"))
		o.max_body_bytes = cfg.Get("maxBodyBytes").As<Napi::Number>().Uint32Value();
	if (cfg.Has("maxConnections"))
		o.max_connections = cfg.Get("maxConnections").As<Napi::Number>().Uint32Value();
	if (cfg.Has("idleTimeoutMs")) {
		// Clamped: a double past 2^64 does not convert.
		double ns = cfg.Get("idleTimeoutMs").As<Napi::Number>().DoubleValue() * 1e6;
		o.idle_timeout_ns = ns >= 1e18 ? uint64_t(1e18) : ns > 0 ? uint64_t(ns) : 1;
	}
	return o;
}

Napi::Value SinkToArrayBuffer(Napi::Env env, const VectorSink &sink)
{
	auto buf = Napi::ArrayBuffer::New(env, sink.bytes.size());
	if (!sink.bytes.empty())
		memcpy(buf.Data(), sink.bytes.data(), sink.bytes.size());
	return buf;
}

Napi::Value Http1StatsToArrayBuffer(Napi::Env env, Http1Tracker &tracker)
{
	std::vector<uint64_t> stats = tracker.Stats();
	auto buf = Napi::ArrayBuffer::New(env, stats.size() * sizeof(uint64_t));
	memcpy(buf.Data(), stats.data(), stats.size() * sizeof(uint64_t));
	return buf;
}

uint64_t BigIntNs(Napi::Value v)
{
	bool lossless;
	return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

namespace {

class Http1TrackerWrap : public Napi::ObjectWrap<Http1TrackerWrap> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, "Http1Tracker",
			{InstanceMethod("handle", &Http1TrackerWrap::Handle),
			 InstanceMethod("evictIdle", &Http1TrackerWrap::EvictIdle),
			 InstanceMethod("endAll", &Http1TrackerWrap::EndAll),
			 InstanceMethod("connections", &Http1TrackerWrap::Connections),
			 InstanceMethod("setCaptureBodies", &Http1TrackerWrap::SetCaptureBodies),
			 InstanceMethod("stats", &Http1TrackerWrap::Stats)});
	}

	// new Http1Tracker({maxBodyBytes, maxConnections, idleTimeoutMs}). Main thread.
	explicit Http1TrackerWrap(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<Http1TrackerWrap>(info),
		  tracker_(Http1TrackerOptionsFrom(info[0].As<Napi::Object>()))
	{
	}

	// handle(batch) -> batch: framed tls records in, what the poll thread would hand
	// JavaScript out (the tracker's records and the records it passes on). Main thread.
	Napi::Value Handle(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		auto in = info[0].As<Napi::ArrayBuffer>();
		const uint8_t *b = static_cast<const uint8_t *>(in.Data());
		size_t n = in.ByteLength();
		VectorSink out;
		size_t off = 0;
		while (off + sizeof(struct ring_buffer_frame) <= n) {
			struct ring_buffer_frame frame;
			memcpy(&frame, b + off, sizeof(frame));
			size_t start = off + sizeof(frame);
			if (frame.len > n - start)
				throw Napi::Error::New(env, "record runs past its batch");
			if (!tracker_.Handle(b + start, frame.len, out))
				memcpy(out.Reserve(frame.len), b + start, frame.len);
			off = start + ((frame.len + RING_BUFFER_FRAME_ALIGN - 1) &
				       ~size_t(RING_BUFFER_FRAME_ALIGN - 1));
		}
		return SinkToArrayBuffer(env, out);
	}

	Napi::Value EvictIdle(const Napi::CallbackInfo &info)
	{
		VectorSink out;
		tracker_.EvictIdle(BigIntNs(info[0]), out);
		return SinkToArrayBuffer(info.Env(), out);
	}

	Napi::Value EndAll(const Napi::CallbackInfo &info)
	{
		VectorSink out;
		tracker_.EndAll(BigIntNs(info[0]), out);
		return SinkToArrayBuffer(info.Env(), out);
	}

	Napi::Value Connections(const Napi::CallbackInfo &info)
	{
		VectorSink out;
		tracker_.Connections(out);
		return SinkToArrayBuffer(info.Env(), out);
	}

	Napi::Value SetCaptureBodies(const Napi::CallbackInfo &info)
	{
		tracker_.SetCaptureBodies(info[0].As<Napi::Number>().Uint32Value(),
					  info[1].As<Napi::Boolean>().Value());
		return info.Env().Undefined();
	}

	Napi::Value Stats(const Napi::CallbackInfo &info)
	{
		return Http1StatsToArrayBuffer(info.Env(), tracker_);
	}

private:
	Http1Tracker tracker_;
};

} // namespace

void InitHttp1Tracker(Napi::Env env, Napi::Object exports)
{
	exports.Set("Http1Tracker", Http1TrackerWrap::Define(env));
}

} // namespace firesight

// RingBufferStream: drains a BPF ring buffer on its own thread and hands JavaScript one
// ArrayBuffer per wake-up, never one object per event. Records in a batch are laid out as
// {u32 length, u32 reserved, bytes[length], padding to 8}. The bytes in flight to JavaScript are
// bounded; a batch that would pass the bound is dropped and its records counted.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace firesight {

class RingBufferStream {
public:
	RingBufferStream() = default;
	RingBufferStream(const RingBufferStream &) = delete;
	RingBufferStream &operator=(const RingBufferStream &) = delete;
	~RingBufferStream() { Stop(); }

	// Main thread. Calls `onBatch(ArrayBuffer)` on the main thread for each batch.
	// Returns 0 or a negative errno (from ring_buffer__new).
	int Start(Napi::Env env, int map_fd, Napi::Function on_batch, size_t max_in_flight_bytes);

	// Main thread. Stops polling, joins the thread, releases the callback. Safe to call twice.
	void Stop();

	// Any thread. Records dropped because JavaScript fell behind.
	uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
	static int OnRecord(void *ctx, void *data, size_t len);  // poll thread
	void Run();						  // poll thread

	struct ring_buffer *rb_ = nullptr;
	Napi::ThreadSafeFunction tsfn_;
	std::thread thread_;
	std::atomic<bool> stop_{false};
	std::atomic<uint64_t> dropped_{0};
	std::atomic<size_t> in_flight_{0};
	size_t max_in_flight_ = 0;
	std::vector<uint8_t> batch_;
	uint64_t batch_records_ = 0;
	bool started_ = false;
};

}  // namespace firesight

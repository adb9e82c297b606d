// RingBufferStream: drains a BPF ring buffer on its own thread and hands JavaScript one
// ArrayBuffer per wake-up, never one object per event. Records in a batch are framed as
// ring-buffer-frame.h lays out. The bytes in flight to JavaScript are
// bounded; a batch that would pass the bound is dropped and its records counted.
//
// The buffer is also drained after every poll timeout, so BPF programs may submit records with
// BPF_RB_NO_WAKEUP (sparing the traced thread a wake-up per record) and still have them read
// within the timeout, without a flush program.
#pragma once

#include <bpf/libbpf.h>
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace firesight {

class RingBufferStream {
public:
	RingBufferStream() = default;
	RingBufferStream(const RingBufferStream &) = delete;
	RingBufferStream &operator=(const RingBufferStream &) = delete;
	~RingBufferStream();

	// Poll thread. Sees each record before it is framed into the batch; returns true when it
	// took the record (it may have added others with Reserve()).
	using RecordHook = std::function<bool(const uint8_t *data, size_t len)>;
	// Poll thread, after each drain, before the batch goes to JavaScript.
	using DrainHook = std::function<void()>;
	// Main thread, before Start().
	void SetHooks(RecordHook on_record, DrainHook on_drain)
	{
		on_record_ = std::move(on_record);
		on_drain_ = std::move(on_drain);
	}
	// Poll thread (from a hook): a zeroed record of `len` bytes framed into the batch being
	// built, valid until the next Reserve.
	uint8_t *Reserve(size_t len);

	// Main thread. Calls `onBatch(ArrayBuffer)` on the main thread for each batch. Records
	// submitted without a wake-up wait at most `poll_timeout_ms`; Stop() takes as long.
	// Returns 0 or a negative errno (from ring_buffer__new).
	int Start(Napi::Env env, int map_fd, Napi::Function on_batch, size_t max_in_flight_bytes,
		  int poll_timeout_ms = 100);

	// Main thread. Stops polling, joins the thread, releases the callback. Safe to call twice.
	void Stop();

	// Any thread. Records dropped because JavaScript fell behind.
	uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
	static int OnRecord(void *ctx, void *data, size_t len); // poll thread
	void Run();						// poll thread
	void Ship();				  // poll thread: the batch goes to JavaScript
	std::vector<uint8_t> *TakeBuffer();	  // poll thread
	void GiveBack(std::vector<uint8_t> *buf); // main thread

	struct ring_buffer *rb_ = nullptr;
	Napi::ThreadSafeFunction tsfn_;
	std::thread thread_;
	std::atomic<bool> stop_{false};
	std::atomic<uint64_t> dropped_{0};
	std::atomic<size_t> in_flight_{0};
	size_t max_in_flight_ = 0;
	int poll_timeout_ms_ = 100;
	std::vector<uint8_t> batch_;
	uint64_t batch_records_ = 0;
	// Batches' buffers once JavaScript has copied them, for the next batches: a buffer that keeps
	// its capacity is written without growing (copies) or touching fresh pages (page faults).
	std::mutex free_mu_;
	std::vector<std::vector<uint8_t> *> free_;
	RecordHook on_record_;
	DrainHook on_drain_;
	bool started_ = false;
};

} // namespace firesight

#include "ring-buffer-stream.h"

#include <cstring>

#include "ring-buffer-frame.h"

namespace firesight {

namespace {

// A batch goes to JavaScript once it holds this much, even mid-drain: under glibc's mmap
// threshold (fixed at 128 KiB by the addon), so its buffer and the ArrayBuffer it is copied into
// come from the malloc arenas and are reused, where larger ones were mapped, faulted in page by
// page and unmapped every time.
constexpr size_t kBatchBytes = 64 * 1024;
// Buffers kept for reuse.
constexpr size_t kFreeBuffers = 8;

} // namespace

RingBufferStream::~RingBufferStream()
{
	Stop();
	for (auto *b : free_)
		delete b;
}

std::vector<uint8_t> *RingBufferStream::TakeBuffer()
{
	{
		std::lock_guard<std::mutex> lock(free_mu_);
		if (!free_.empty()) {
			auto *b = free_.back();
			free_.pop_back();
			return b;
		}
	}
	auto *b = new std::vector<uint8_t>();
	b->reserve(kBatchBytes + 4096);
	return b;
}

void RingBufferStream::GiveBack(std::vector<uint8_t> *buf)
{
	buf->clear();
	{
		std::lock_guard<std::mutex> lock(free_mu_);
		if (free_.size() < kFreeBuffers && buf->capacity() <= 4 * kBatchBytes) {
			free_.push_back(buf);
			return;
		}
	}
	delete buf;
}

int RingBufferStream::Start(Napi::Env env, int map_fd, Napi::Function on_batch,
			    size_t max_in_flight_bytes, int poll_timeout_ms)
{
	rb_ = ring_buffer__new(map_fd, OnRecord, this, nullptr);
	if (!rb_)
		return -errno;
	max_in_flight_ = max_in_flight_bytes;
	poll_timeout_ms_ = poll_timeout_ms > 0 ? poll_timeout_ms : 100;
	tsfn_ = Napi::ThreadSafeFunction::New(env, on_batch, "firesight-ringbuf", 0, 1);
	started_ = true;
	thread_ = std::thread([this] { Run(); });
	return 0;
}

void RingBufferStream::Stop()
{
	if (!started_)
		return;
	started_ = false;
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
	tsfn_.Release();
	ring_buffer__free(rb_);
	rb_ = nullptr;
}

uint8_t *RingBufferStream::Reserve(size_t len)
{
	struct ring_buffer_frame frame = {static_cast<__u32>(len), 0};
	size_t padded = (len + RING_BUFFER_FRAME_ALIGN - 1) & ~size_t(RING_BUFFER_FRAME_ALIGN - 1);
	if (!batch_.empty() && batch_.size() + sizeof(frame) + padded > kBatchBytes)
		Ship();
	if (batch_.capacity() == 0) {
		auto *fresh = TakeBuffer();
		batch_.swap(*fresh);
		delete fresh;
	}
	auto &b = batch_;
	size_t at = b.size();
	b.resize(at + sizeof(frame) + padded, 0);
	memcpy(b.data() + at, &frame, sizeof(frame));
	batch_records_++;
	return b.data() + at + sizeof(frame);
}

int RingBufferStream::OnRecord(void *ctx, void *data, size_t len)
{
	auto *self = static_cast<RingBufferStream *>(ctx);
	if (self->on_record_ && self->on_record_(static_cast<const uint8_t *>(data), len))
		return 0;
	memcpy(self->Reserve(len), data, len);
	return 0;
}

void RingBufferStream::Run()
{
	while (!stop_.load()) {
		// The timeout bounds how quickly Stop() is noticed and how long a record submitted
		// without a wake-up waits: those are only read by the consume that follows.
		ring_buffer__poll(rb_, poll_timeout_ms_);
		ring_buffer__consume(rb_);
		if (on_drain_)
			on_drain_();
		Ship();
	}
}

void RingBufferStream::Ship()
{
	if (batch_.empty())
		return;
	size_t bytes = batch_.size();
	if (in_flight_.load() + bytes > max_in_flight_) {
		dropped_ += batch_records_;
		batch_.clear(); // kept, capacity and all, for the next batch
	} else {
		in_flight_ += bytes;
		auto *batch = new std::vector<uint8_t>(std::move(batch_));
		batch_ = std::vector<uint8_t>(); // Reserve takes a kept buffer
		napi_status st =
			tsfn_.NonBlockingCall(batch, [this](Napi::Env env, Napi::Function fn,
							    std::vector<uint8_t> *data) {
				in_flight_ -= data->size();
				if (env != nullptr && fn != nullptr) {
					auto buf = Napi::ArrayBuffer::New(env, data->size());
					memcpy(buf.Data(), data->data(), data->size());
					GiveBack(data);
					fn.Call({buf});
				} else {
					delete data;
				}
			});
		if (st != napi_ok) {
			in_flight_ -= bytes;
			dropped_ += batch_records_;
			delete batch;
		}
	}
	batch_records_ = 0;
}

} // namespace firesight

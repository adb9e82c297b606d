// Byte buffers filled off the main thread and handed to JavaScript as ArrayBuffers: the plumbing
// the tools' drain and read calls share.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace firesight {

// Appends len bytes at data to out. Any thread.
void AppendBytes(std::vector<uint8_t> &out, const void *data, size_t len);

// A copy of len bytes at data. Main thread.
Napi::ArrayBuffer ToArrayBuffer(Napi::Env env, const void *data, size_t len);

// u64 values of a per-CPU array map, summed over the possible CPUs. Any thread.
class PerCpuSums {
public:
	explicit PerCpuSums(int fd);
	// 0 when the lookup fails.
	uint64_t Read(uint32_t key);
	void Zero(uint32_t key);

private:
	int fd_;
	std::vector<uint64_t> percpu_;
};

// Named buffers a job fills; the promise resolves with {name: ArrayBuffer, ...}.
using NamedBuffers = std::vector<std::pair<std::string, std::vector<uint8_t>>>;

// Runs a job on the worker pool and settles a promise with what it filled in.
// Start() is called on the main thread; `done` runs there before the promise settles, whatever
// the outcome.
class BufferWorker : public Napi::AsyncWorker {
public:
	// Worker thread: returns 0, or a negative errno that rejects with NativeError(op, errno).
	using Job = std::function<int(NamedBuffers &out)>;

	static Napi::Promise Start(Napi::Env env, std::string op, Job job,
				   std::function<void()> done);

	void Execute() override;		     // worker thread
	void OnOK() override;			     // main thread
	void OnError(const Napi::Error &e) override; // main thread

private:
	BufferWorker(Napi::Env env, std::string op, Job job, std::function<void()> done);

	Napi::Promise::Deferred deferred_;
	std::string op_;
	Job job_;
	std::function<void()> done_;
	NamedBuffers result_;
	int err_ = 0;
};

} // namespace firesight

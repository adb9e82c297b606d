#include "buffer-worker.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstring>

#include "native-error.h"

namespace firesight {

void AppendBytes(std::vector<uint8_t> &out, const void *data, size_t len)
{
	const auto *p = static_cast<const uint8_t *>(data);
	out.insert(out.end(), p, p + len);
}

Napi::ArrayBuffer ToArrayBuffer(Napi::Env env, const void *data, size_t len)
{
	auto buf = Napi::ArrayBuffer::New(env, len);
	if (len)
		memcpy(buf.Data(), data, len);
	return buf;
}

PerCpuSums::PerCpuSums(int fd) : fd_(fd)
{
	int ncpus = libbpf_num_possible_cpus();
	percpu_.resize(ncpus > 0 ? ncpus : 1);
}

uint64_t PerCpuSums::Read(uint32_t key)
{
	uint64_t sum = 0;
	if (bpf_map_lookup_elem(fd_, &key, percpu_.data()) == 0)
		for (auto v : percpu_)
			sum += v;
	return sum;
}

void PerCpuSums::Zero(uint32_t key)
{
	const std::vector<uint64_t> zeros(percpu_.size(), 0);
	bpf_map_update_elem(fd_, &key, zeros.data(), BPF_ANY);
}

BufferWorker::BufferWorker(Napi::Env env, std::string op, Job job, std::function<void()> done)
	: Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), op_(std::move(op)),
	  job_(std::move(job)), done_(std::move(done))
{
}

Napi::Promise BufferWorker::Start(Napi::Env env, std::string op, Job job,
				  std::function<void()> done)
{
	auto *worker = new BufferWorker(env, std::move(op), std::move(job), std::move(done));
	Napi::Promise promise = worker->deferred_.Promise();
	worker->Napi::AsyncWorker::Queue(); // deletes itself after OnOK/OnError
	return promise;
}

void BufferWorker::Execute()
{
	err_ = job_(result_);
	if (err_)
		SetError(op_);
}

void BufferWorker::OnOK()
{
	Napi::Env env = Env();
	Napi::Object out = Napi::Object::New(env);
	for (const auto &[name, bytes] : result_)
		out.Set(name, ToArrayBuffer(env, bytes.data(), bytes.size()));
	done_();
	deferred_.Resolve(out);
}

void BufferWorker::OnError(const Napi::Error &e)
{
	done_();
	deferred_.Reject(NativeError(Env(), e.Message(), err_).Value());
}

} // namespace firesight

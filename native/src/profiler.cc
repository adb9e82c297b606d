// Profiler: the profile BPF tool (bpf/profile.bpf.c) behind a JS class.
//   open (constructor) -> configure rodata and map sizes -> load -> attach perf events
//   drain() on a worker thread, resolving with ArrayBuffers of records -> close()
#include <napi.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "buffer-worker.h"
#include "native-error.h"
#include "pid-filter.h"
#include "perf-events.h"
#include "profile.h"
#include "profile.skel.h"

namespace firesight {
namespace {

// How long the drain waits after flipping buffers so that programs which already read the old
// buffer index finish their update. They run for microseconds; this is generous on purpose.
constexpr auto kFlipGrace = std::chrono::milliseconds(10);

struct SkeletonDeleter {
	void operator()(struct profile_bpf *skel) const { profile_bpf__destroy(skel); }
};

// Reads and clears the idle buffer. Worker thread; the maps are not touched by JS meanwhile.
int DrainBuffer(struct profile_bpf *skel, NamedBuffers &out)
{
	std::vector<uint8_t> counts;   // struct profile_count records
	std::vector<uint8_t> stacks;   // struct profile_stack_head + nr u64 each
	std::vector<uint8_t> counters; // this window's PROFILE_COUNTER_MAX u64, summed over CPUs
	__u32 old = skel->bss->active_buf;
	__atomic_store_n(&skel->bss->active_buf, old ? 0 : 1, __ATOMIC_SEQ_CST);
	std::this_thread::sleep_for(kFlipGrace);

	int counts_fd = bpf_map__fd(old ? skel->maps.counts1 : skel->maps.counts0);
	int stacks_fd = bpf_map__fd(old ? skel->maps.stacks1 : skel->maps.stacks0);

	// Lookup-and-delete in batches: each entry is read and removed in one step.
	const __u32 batch_size = 1024;
	std::vector<struct profile_key> keys(batch_size);
	std::vector<__u64> values(batch_size);
	std::set<__s32> stack_ids;
	__u32 out_batch = 0;
	bool first = true;
	for (;;) {
		__u32 n = batch_size;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_and_delete_batch(counts_fd, first ? nullptr : &out_batch,
							  &out_batch, keys.data(), values.data(),
							  &n, &opts);
		first = false;
		int saved = errno;
		for (__u32 i = 0; i < n; i++) {
			struct profile_count rec;
			memset(&rec, 0, sizeof(rec));
			rec.key = keys[i];
			rec.count = values[i];
			AppendBytes(counts, &rec, sizeof(rec));
			if (rec.key.user_stack_id >= 0)
				stack_ids.insert(rec.key.user_stack_id);
			if (rec.key.kern_stack_id >= 0)
				stack_ids.insert(rec.key.kern_stack_id);
		}
		if (err) {
			if (saved == ENOENT)
				break;
			return -saved;
		}
	}

	__u64 ips[PROFILE_MAX_STACK_DEPTH];
	for (__s32 id : stack_ids) {
		if (bpf_map_lookup_elem(stacks_fd, &id, ips))
			continue; /* counted as a missing stack by the reader */
		struct profile_stack_head head = {id, 0};
		while (head.nr < PROFILE_MAX_STACK_DEPTH && ips[head.nr])
			head.nr++;
		AppendBytes(stacks, &head, sizeof(head));
		AppendBytes(stacks, ips, head.nr * sizeof(__u64));
	}
	// Empty the stack map for its next turn, including stacks whose count could not be stored.
	__u32 key, next;
	while (bpf_map_get_next_key(stacks_fd, nullptr, &next) == 0) {
		key = next;
		if (bpf_map_delete_elem(stacks_fd, &key))
			break;
	}

	// This buffer's counters, read and then zeroed for its next turn.
	PerCpuSums sums(bpf_map__fd(skel->maps.counters));
	for (__u32 c = 0; c < PROFILE_COUNTER_MAX; c++) {
		__u32 idx = old * PROFILE_COUNTER_MAX + c;
		uint64_t sum = sums.Read(idx);
		sums.Zero(idx);
		AppendBytes(counters, &sum, sizeof(sum));
	}
	out = {{"counts", std::move(counts)},
	       {"stacks", std::move(stacks)},
	       {"counters", std::move(counters)}};
	return 0;
}

class Profiler : public Napi::ObjectWrap<Profiler> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(env, "Profiler",
				   {InstanceMethod("drain", &Profiler::Drain),
				    InstanceMethod("close", &Profiler::Close)});
	}

	// new Profiler({frequency, includeIdle, pids, stackEntries, countEntries}). Main thread.
	explicit Profiler(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Profiler>(info)
	{
		Napi::Env env = info.Env();
		Napi::Object cfg = info[0].As<Napi::Object>();
		unsigned frequency = cfg.Get("frequency").As<Napi::Number>().Uint32Value();
		bool include_idle = cfg.Get("includeIdle").As<Napi::Boolean>().Value();
		Napi::Array pids = cfg.Get("pids").As<Napi::Array>();
		unsigned stack_entries = cfg.Get("stackEntries").As<Napi::Number>().Uint32Value();
		unsigned count_entries = cfg.Get("countEntries").As<Napi::Number>().Uint32Value();

		InstallLibbpfLogger();
		skel_.reset(profile_bpf__open());
		if (!skel_)
			throw NativeError(env, "bpf_object__open", errno);
		skel_->rodata->include_idle = include_idle;
		skel_->rodata->filter_pids = pids.Length() > 0;
		for (auto *m : {skel_->maps.stacks0, skel_->maps.stacks1})
			bpf_map__set_max_entries(m, stack_entries);
		for (auto *m : {skel_->maps.counts0, skel_->maps.counts1})
			bpf_map__set_max_entries(m, count_entries);
		int err = profile_bpf__load(skel_.get());
		if (err)
			throw NativeError(env, "bpf_object__load", err);
		FillPidFilter(env, skel_->maps.pids, pids);
		const char *op = "";
		err = links_.Attach(skel_->progs.do_sample, frequency, &op);
		if (err)
			throw NativeError(env, op, err);
	}

	// Resolves with {counts, stacks, counters} ArrayBuffers. One drain at a time. Main thread.
	Napi::Value Drain(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "profiler is closed");
		if (draining_)
			throw Napi::Error::New(env, "a drain is already running");
		draining_ = true;
		Ref(); // keep this object alive until the worker is done
		struct profile_bpf *skel = skel_.get();
		return BufferWorker::Start(
			env, "bpf_map_lookup_and_delete_batch",
			[skel](NamedBuffers &out) { return DrainBuffer(skel, out); },
			[this] { DrainDone(); });
	}

	// Detaches and frees everything; deferred until a running drain finishes. Main thread.
	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		links_.Close();
		if (draining_)
			close_pending_ = true;
		else
			skel_.reset();
		return info.Env().Undefined();
	}

	void DrainDone()
	{
		draining_ = false;
		if (close_pending_)
			skel_.reset();
		Unref();
	}

private:
	std::unique_ptr<struct profile_bpf, SkeletonDeleter> skel_;
	PerfEventLinks links_;
	bool draining_ = false;
	bool close_pending_ = false;
};

} // namespace

void InitProfiler(Napi::Env env, Napi::Object exports)
{
	exports.Set("Profiler", Profiler::Define(env));
}

} // namespace firesight

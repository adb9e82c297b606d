// Profiler: the profile BPF tool (bpf/profile.bpf.c) behind a JS class.
//   open (constructor) -> configure rodata and map sizes -> load -> attach perf events
//   drain() on a worker thread, resolving with ArrayBuffers of records -> close()
#include <napi.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bpf-load.h"
#include "buffer-worker.h"
#include "native-error.h"
#include "pid-filter.h"
#include "perf-events.h"
#include "profile.h"
#include "profile.skel.h"
#include "range-allocator.h"
#include "request-context.h"
#include "shared-map.h"
#include "unwind.h"

namespace firesight {
namespace {

// How long the drain waits after flipping buffers so that programs which already read the old
// buffer index finish their update. They run for microseconds; this is generous on purpose.
constexpr auto kFlipGrace = std::chrono::milliseconds(10);

// Files with a loaded table, and processes seen unmapped in one window: sizes of their maps.
constexpr __u32 kUnwindFiles = 16384;
constexpr __u32 kUnmappedPids = 4096;
// Rows and rules are written in batches of this many, so a big table needs no big key array.
constexpr __u32 kUnwindBatch = 65536;
// The deferred ring: 8 MiB holds at least 120 copies of a sample's stack (each is cut after the
// bytes it read, so many more of shallow ones), more than half a second of every sample of a 2-CPU
// host at 97 Hz; it is read every 50 ms and at each drain. Past it a copy is counted
// (unwindDeferRingFull) and the sample kept as walked.
constexpr __u32 kDeferredRingBytes = 8u << 20;
// A deferred record's bytes before its stack copy: what the collector keeps of the rest.
constexpr size_t kDeferredHead = offsetof(struct profile_deferred, stack);

// The serialized table of packages/unwind (see unwind-table.ts): header, then u32 pcs, u16 rule
// indexes, padding to 4, then 16-byte rules. TypeScript checked its structure before.
constexpr size_t kTableHeader = 32;

struct SkeletonDeleter {
	void operator()(struct profile_bpf *skel) const { profile_bpf__destroy(skel); }
};

// Reads and deletes every entry of a hash map in batches, handing each key and value to fn.
// Worker thread.
template <typename K, typename V, typename Fn> int DrainHash(int fd, Fn fn)
{
	const __u32 batch_size = 256;
	std::vector<K> keys(batch_size);
	std::vector<V> values(batch_size);
	__u32 out_batch = 0;
	bool first = true;
	for (;;) {
		__u32 n = batch_size;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : &out_batch,
							  &out_batch, keys.data(), values.data(),
							  &n, &opts);
		first = false;
		int saved = errno;
		for (__u32 i = 0; i < n; i++)
			fn(keys[i], values[i]);
		if (err)
			return saved == ENOENT ? 0 : -saved;
	}
}

// The hashed stacks the window's counts refer to, as profile_stack_head records; the map is
// emptied for its next turn. Worker thread.
int DrainHashedStacks(struct profile_bpf *skel, __u32 buf, const std::set<__s32> &ids,
		      std::vector<uint8_t> &out)
{
	int fd = bpf_map__fd(buf ? skel->maps.hashed_stacks1 : skel->maps.hashed_stacks0);
	return DrainHash<__u32, struct unwind_stack>(fd, [&](__u32 id,
							     const struct unwind_stack &s) {
		if (!ids.count((__s32)id))
			return; /* its count was lost (counts map full) */
		struct profile_stack_head head = {(__s32)id,
						  std::min<__u32>(s.nr, UNWIND_MAX_DEPTH)};
		AppendBytes(out, &head, sizeof(head));
		AppendBytes(out, s.ips, head.nr * sizeof(__u64));
	});
}

// The processes whose samples met an unknown user address, as u32 tgids. Worker thread.
int DrainUnmapped(struct profile_bpf *skel, __u32 buf, std::vector<uint8_t> &out)
{
	int fd = bpf_map__fd(buf ? skel->maps.unmapped1 : skel->maps.unmapped0);
	return DrainHash<__u32, __u32>(fd, [&](__u32 tgid, __u32) {
		AppendBytes(out, &tgid, sizeof(tgid));
	});
}

// Appends one deferred record, its stack copy cut to the bytes read. Worker thread.
int AppendDeferred(void *ctx, void *data, size_t size)
{
	auto *out = static_cast<std::vector<uint8_t> *>(ctx);
	const auto *rec = static_cast<const struct profile_deferred *>(data);
	// The ring holds each record cut after the stack bytes it read.
	if (size < kDeferredHead || rec->stack_len > PROFILE_DEFER_STACK_BYTES ||
	    size < kDeferredHead + rec->stack_len)
		return 0;
	AppendBytes(*out, rec, kDeferredHead + rec->stack_len);
	return 0;
}

// Reads and clears the idle buffer, and takes the deferred samples. Worker thread; the maps
// are not touched by JS meanwhile.
// deferred_rb appends to *deferred_sink (AppendDeferred).
int DrainBuffer(struct profile_bpf *skel, struct ring_buffer *deferred_rb,
		std::vector<uint8_t> *deferred_sink, NamedBuffers &out)
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
		if ((__u32)id & UNWIND_STACK_ID_BIT)
			continue; /* a stack stored by its hash: from the hashed stacks below */
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

	// Stacks stored by hash: every entry is read and removed, and the ones counted are kept.
	int err = DrainHashedStacks(skel, old, stack_ids, stacks);
	if (err)
		return err;
	std::vector<uint8_t> unmapped; // u32 tgids
	err = DrainUnmapped(skel, old, unmapped);
	if (err)
		return err;
	// Deferred samples: every one submitted before the flip, and some after.
	std::vector<uint8_t> deferred; // struct profile_deferred records, each cut after its stack
	if (deferred_rb) {
		deferred_sink->clear();
		int n = ring_buffer__consume(deferred_rb);
		if (n < 0)
			return n;
		deferred.swap(*deferred_sink);
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
	       {"counters", std::move(counters)},
	       {"unmapped", std::move(unmapped)},
	       {"deferred", std::move(deferred)}};
	return 0;
}

class Profiler : public Napi::ObjectWrap<Profiler> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, "Profiler",
			{InstanceMethod("drain", &Profiler::Drain),
			 InstanceMethod("loadUnwindTable", &Profiler::LoadUnwindTable),
			 InstanceMethod("unloadUnwindTable", &Profiler::UnloadUnwindTable),
			 InstanceMethod("setProcessMappings", &Profiler::SetProcessMappings),
			 InstanceMethod("removeProcess", &Profiler::RemoveProcess),
			 InstanceMethod("takeUnmapped", &Profiler::TakeUnmapped),
			 InstanceMethod("replayDeferred", &Profiler::ReplayDeferred),
			 InstanceMethod("takeDeferred", &Profiler::TakeDeferred),
			 InstanceMethod("close", &Profiler::Close)});
	}

	// new Profiler({frequency, includeIdle, pids, stackEntries, countEntries, unwindMode,
	// unwindRows, unwindProcesses, deferPending}). Main thread.
	explicit Profiler(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Profiler>(info)
	{
		Napi::Env env = info.Env();
		Napi::Object cfg = info[0].As<Napi::Object>();
		unsigned frequency = cfg.Get("frequency").As<Napi::Number>().Uint32Value();
		bool include_idle = cfg.Get("includeIdle").As<Napi::Boolean>().Value();
		Napi::Array pids = cfg.Get("pids").As<Napi::Array>();
		unsigned stack_entries = cfg.Get("stackEntries").As<Napi::Number>().Uint32Value();
		unsigned count_entries = cfg.Get("countEntries").As<Napi::Number>().Uint32Value();
		std::string mode = cfg.Get("unwindMode").As<Napi::String>().Utf8Value();
		unsigned unwind_rows = cfg.Get("unwindRows").As<Napi::Number>().Uint32Value();
		unsigned unwind_procs = cfg.Get("unwindProcesses").As<Napi::Number>().Uint32Value();
		bool defer_pending = cfg.Get("deferPending").As<Napi::Boolean>().Value();
		unsigned unwind_mode = mode == "dwarf" ? UNWIND_MODE_DWARF :
				       mode == "auto"  ? UNWIND_MODE_AUTO :
							 UNWIND_MODE_FP;
		// Rules are shared by many rows (node: 370,000 rows, 72 rules); room for one file with
		// the most rules a table can index, or a sixteenth of the rows.
		unsigned unwind_rules = std::max(65536u, unwind_rows / 16);

		InstallLibbpfLogger();
		// The tls tool's per-thread requests, so that samples are stamped with theirs; and
		// the return addresses its probes note at SSL calls (bpf/probed-return.h).
		request_contexts_ =
			SharedMap::Acquire(env, kRequestContexts, REQUEST_CONTEXT_ENTRIES);
		probed_return_ = SharedMap::Acquire(env, kProbedReturn, 1);
		// One sampling program is loaded: the walker's helpers need a newer kernel than 'fp'.
		bool fp = unwind_mode == UNWIND_MODE_FP;
		// libbpf loads an object once, failed or not: each attempt starts from a fresh one.
		for (int attempt = 1;; attempt++) {
			skel_.reset(profile_bpf__open());
			if (!skel_)
				throw NativeError(env, "bpf_object__open", errno);
			Configure(include_idle, pids.Length() > 0, unwind_mode, stack_entries,
				  count_entries, unwind_rows, unwind_rules, unwind_procs);
			skel_->rodata->defer_pending = defer_pending && !fp;
			request_contexts_->ReuseIn(env, skel_->maps.request_contexts);
			probed_return_->ReuseIn(env, skel_->maps.probed_return);
			int err = LoadWithSignalsHeld(
				[this] { return profile_bpf__load(skel_.get()); });
			if (!err)
				break;
			if (err != -EAGAIN || attempt == kBpfLoadAttempts)
				throw NativeError(env, "bpf_object__load", err);
			NoteBpfLoadRetry("the profile program", attempt);
		}
		if (!fp) {
			rows_ = std::make_unique<RangeAllocator>(unwind_rows);
			rules_ = std::make_unique<RangeAllocator>(unwind_rules);
			deferred_rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.deferred),
							AppendDeferred, &deferred_sink_, nullptr);
			if (!deferred_rb_)
				throw NativeError(env, "ring_buffer__new(deferred)", errno);
			replay_ = std::make_unique<struct profile_replay>();
			// Exec generations, for replays to know a sample's address space is gone. Owned
			// by the skeleton: destroyed with it.
			skel_->links.profile_exec = bpf_program__attach(skel_->progs.profile_exec);
			if (!skel_->links.profile_exec)
				throw NativeError(env, "bpf_program__attach(profile_exec)", errno);
		}
		struct bpf_program *prog = fp ? skel_->progs.do_sample :
						skel_->progs.do_sample_walk;
		FillPidFilter(env, skel_->maps.pids, pids);
		const char *op = "";
		int err = links_.Attach(prog, frequency, &op);
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
		struct ring_buffer *rb = deferred_rb_;
		std::vector<uint8_t> *sink = &deferred_sink_;
		return BufferWorker::Start(
			env, "bpf_map_lookup_and_delete_batch",
			[skel, rb, sink](NamedBuffers &out) {
				return DrainBuffer(skel, rb, sink, out);
			},
			[this] { DrainDone(); });
	}

	// loadUnwindTable(fileId, table: Uint8Array) -> false when its rows or rules do not fit.
	// Main thread.
	Napi::Value LoadUnwindTable(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		__u32 file_id = info[0].As<Napi::Number>().Uint32Value();
		Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
		const uint8_t *p = bytes.Data();
		size_t len = bytes.ByteLength();
		__u32 n, r;
		struct unwind_file file = {};
		if (len < kTableHeader)
			throw NativeError(env, "unwind table", EINVAL);
		memcpy(&n, p + 8, 4);
		memcpy(&r, p + 12, 4);
		memcpy(&file.base, p + 16, 8);
		size_t idx_at = kTableHeader + 4 * (size_t)n;
		size_t rules_at = idx_at + ((2 * (size_t)n + 3) & ~(size_t)3);
		if (len != rules_at + sizeof(struct unwind_rule) * (size_t)r)
			throw NativeError(env, "unwind table", EINVAL);
		if (!AllocFile(n, r, &file))
			return Napi::Boolean::New(env, false);
		file.row_count = n;
		file.rule_count = r;

		int err = WriteRules(p + rules_at, file);
		if (!err)
			err = WriteRows(p + kTableHeader, p + idx_at, file);
		if (!err && bpf_map_update_elem(bpf_map__fd(skel_->maps.unwind_files), &file_id,
						&file, BPF_ANY))
			err = -errno;
		if (err) {
			rows_->Free(file.row_start, n);
			rules_->Free(file.rule_start, r);
			if (err == -E2BIG || err == -ENOMEM)
				return Napi::Boolean::New(env, false);
			throw NativeError(env, "bpf_map_update_elem", err);
		}
		FreeFile(file_id);
		files_[file_id] = file;
		return Napi::Boolean::New(env, true);
	}

	// unloadUnwindTable(fileId). Main thread.
	Napi::Value UnloadUnwindTable(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		__u32 file_id = info[0].As<Napi::Number>().Uint32Value();
		bpf_map_delete_elem(bpf_map__fd(skel_->maps.unwind_files), &file_id);
		FreeFile(file_id);
		return env.Undefined();
	}

	// setProcessMappings(pid, mappings: struct unwind_mapping records sorted by start,
	// truncated) -> false when the processes map is full. Main thread.
	Napi::Value SetProcessMappings(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		__u32 pid = info[0].As<Napi::Number>().Uint32Value();
		Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
		bool truncated = info[2].As<Napi::Boolean>().Value();
		size_t nr = bytes.ByteLength() / sizeof(struct unwind_mapping);
		if (nr > UNWIND_MAX_MAPPINGS || bytes.ByteLength() % sizeof(struct unwind_mapping))
			throw NativeError(env, "unwind mappings", EINVAL);
		auto proc = std::make_unique<struct unwind_process>();
		memset(proc.get(), 0, sizeof(*proc));
		proc->nr = nr;
		proc->flags = truncated ? UNWIND_PROCESS_TRUNCATED : 0;
		memcpy(proc->mappings, bytes.Data(), bytes.ByteLength());
		if (bpf_map_update_elem(bpf_map__fd(skel_->maps.unwind_procs), &pid, proc.get(),
					BPF_ANY)) {
			int err = errno;
			if (err == E2BIG || err == ENOMEM)
				return Napi::Boolean::New(env, false);
			throw NativeError(env, "bpf_map_update_elem", -err);
		}
		return Napi::Boolean::New(env, true);
	}

	// takeUnmapped() -> ArrayBuffer of u32 tgids: the processes the sampling buffer has marked
	// unmapped so far, taken out of it, so that a new process is described without waiting for
	// the next drain. Empty while a drain runs (it reports them itself). Main thread.
	Napi::Value TakeUnmapped(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		std::vector<uint8_t> pids;
		if (!draining_) {
			int err = DrainUnmapped(
				skel_.get(),
				__atomic_load_n(&skel_->bss->active_buf, __ATOMIC_SEQ_CST), pids);
			if (err)
				throw NativeError(env, "bpf_map_lookup_and_delete_batch", err);
		}
		Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, pids.size());
		if (!pids.empty())
			memcpy(out.Data(), pids.data(), pids.size());
		return out;
	}

	// takeDeferred() -> ArrayBuffer of deferred records, taken out of the ring now. Empty while a
	// drain runs: the drain worker is the ring's other reader, and takes them itself. Main thread.
	Napi::Value TakeDeferred(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		if (draining_)
			return Napi::ArrayBuffer::New(env, 0); // the worker owns the sink meanwhile
		deferred_sink_.clear();
		int n = ring_buffer__consume(deferred_rb_);
		if (n < 0)
			throw NativeError(env, "ring_buffer__consume(deferred)", n);
		Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, deferred_sink_.size());
		if (!deferred_sink_.empty())
			memcpy(out.Data(), deferred_sink_.data(), deferred_sink_.size());
		deferred_sink_.clear();
		return out;
	}

	// replayDeferred(record: a drained deferred record, lastTry, exited) -> {user: ArrayBuffer of
	// the walked user ips (u64, leaf first), execed}, or null while its tables are still not in
	// (never on the last try, nor once the process exec'd: execed). exited: the process is gone,
	// so a pending end is counted as unwindProcessExited. Runs the walker on the record's stack
	// copy (replay_deferred). Main thread.
	Napi::Value ReplayDeferred(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
		bool last_try = info[1].As<Napi::Boolean>().Value();
		bool exited = info[2].As<Napi::Boolean>().Value();
		struct profile_replay *rp = replay_.get();
		if (bytes.ByteLength() < kDeferredHead ||
		    bytes.ByteLength() > sizeof(struct profile_deferred))
			throw NativeError(env, "deferred record", EINVAL);
		memset(rp, 0, sizeof(*rp));
		memcpy(&rp->rec, bytes.Data(), bytes.ByteLength());
		if (rp->rec.stack_len != bytes.ByteLength() - kDeferredHead)
			throw NativeError(env, "deferred record", EINVAL);
		rp->last_try = last_try;
		rp->exited = last_try && exited;
		int fd = bpf_map__fd(skel_->maps.replay);
		__u32 zero = 0;
		if (bpf_map_update_elem(fd, &zero, rp, BPF_ANY))
			throw NativeError(env, "bpf_map_update_elem(replay)", -errno);
		LIBBPF_OPTS(bpf_test_run_opts, opts);
		int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.replay_deferred),
						 &opts);
		if (err)
			throw NativeError(env, "bpf_prog_test_run_opts(replay_deferred)", -errno);
		if (opts.retval)
			throw NativeError(env, "replay_deferred", EINVAL);
		if (bpf_map_lookup_elem(fd, &zero, rp))
			throw NativeError(env, "bpf_map_lookup_elem(replay)", -errno);
		if (rp->status == PROFILE_REPLAY_PENDING)
			return env.Null();
		__u32 nr = std::min<__u32>(rp->nr, PROFILE_MAX_STACK_DEPTH);
		Napi::ArrayBuffer user = Napi::ArrayBuffer::New(env, nr * sizeof(__u64));
		memcpy(user.Data(), rp->ips, nr * sizeof(__u64));
		Napi::Object out = Napi::Object::New(env);
		out.Set("user", user);
		out.Set("execed", Napi::Boolean::New(env, rp->execed != 0));
		return out;
	}

	// removeProcess(pid). Main thread.
	Napi::Value RemoveProcess(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		RequireUnwind(env);
		__u32 pid = info[0].As<Napi::Number>().Uint32Value();
		bpf_map_delete_elem(bpf_map__fd(skel_->maps.unwind_procs), &pid);
		return env.Undefined();
	}

	// Detaches and frees everything; deferred until a running drain finishes. Main thread.
	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		links_.Close();
		if (!draining_) {
			ring_buffer__free(deferred_rb_);
			deferred_rb_ = nullptr;
		}
		// The loaded object holds its own references.
		request_contexts_.reset();
		probed_return_.reset();
		if (draining_)
			close_pending_ = true;
		else
			skel_.reset();
		return info.Env().Undefined();
	}

	~Profiler() { ring_buffer__free(deferred_rb_); }

	void DrainDone()
	{
		draining_ = false;
		if (close_pending_) {
			ring_buffer__free(deferred_rb_);
			deferred_rb_ = nullptr;
			skel_.reset();
		}
		// The drain's buffers, and the table copies of loads since the last drain, were freed
		// on the worker thread's and this thread's malloc arenas, which keep freed memory
		// without giving it back: once a drain, hand the unused pages of all arenas back.
		malloc_trim(0);
		Unref();
	}

private:
	// Rodata, map sizes and the program to load, on a freshly opened skeleton. Main thread.
	void Configure(bool include_idle, bool filter_pids, unsigned unwind_mode,
		       unsigned stack_entries, unsigned count_entries, unsigned unwind_rows,
		       unsigned unwind_rules, unsigned unwind_procs)
	{
		bool fp = unwind_mode == UNWIND_MODE_FP;
		skel_->rodata->include_idle = include_idle;
		skel_->rodata->filter_pids = filter_pids;
		// Stacks go to the stack-trace maps in the 'fp' mode, to the hashed stacks otherwise;
		// the maps of the other kind keep their one entry.
		for (auto *m : {skel_->maps.stacks0, skel_->maps.stacks1})
			bpf_map__set_max_entries(m, fp ? stack_entries : 1);
		for (auto *m : {skel_->maps.counts0, skel_->maps.counts1})
			bpf_map__set_max_entries(m, count_entries);
		skel_->rodata->unwind_mode = unwind_mode;
		bpf_program__set_autoload(fp ? skel_->progs.do_sample_walk : skel_->progs.do_sample,
					  false);
		// The 'fp' mode keeps the unwind maps at their one entry, and the deferred ring at a page.
		bpf_program__set_autoload(skel_->progs.replay_deferred, !fp);
		bpf_program__set_autoload(skel_->progs.profile_exec, !fp);
		if (fp) {
			bpf_map__set_max_entries(skel_->maps.exec_seqs, 1);
			return;
		}
		bpf_map__set_max_entries(skel_->maps.deferred, kDeferredRingBytes);
		if (int cpus = libbpf_num_possible_cpus(); cpus > 0)
			bpf_map__set_max_entries(skel_->maps.defer_scratch, cpus);
		bpf_map__set_max_entries(skel_->maps.unwind_rows, unwind_rows);
		bpf_map__set_max_entries(skel_->maps.unwind_rules, unwind_rules);
		bpf_map__set_max_entries(skel_->maps.unwind_files, kUnwindFiles);
		bpf_map__set_max_entries(skel_->maps.unwind_procs, unwind_procs);
		for (auto *m : {skel_->maps.hashed_stacks0, skel_->maps.hashed_stacks1})
			bpf_map__set_max_entries(m, stack_entries);
		for (auto *m : {skel_->maps.unmapped0, skel_->maps.unmapped1})
			bpf_map__set_max_entries(m, kUnmappedPids);
	}

	// The unwind maps exist in the 'dwarf' and 'auto' modes, while the profiler is open.
	void RequireUnwind(Napi::Env env)
	{
		if (!skel_)
			throw Napi::Error::New(env, "profiler is closed");
		if (!rows_)
			throw Napi::Error::New(
				env, "the profiler walks frame pointers only (unwind 'fp')");
	}

	// The rules at their range: each record as it is (struct unwind_rule). Main thread.
	int WriteRules(const uint8_t *src, const struct unwind_file &file)
	{
		int fd = bpf_map__fd(skel_->maps.unwind_rules);
		std::vector<__u32> keys;
		std::vector<struct unwind_rule> values;
		for (__u32 i = 0; i < file.rule_count; i += kUnwindBatch) {
			__u32 count = std::min(kUnwindBatch, file.rule_count - i);
			keys.resize(count);
			values.resize(count);
			for (__u32 j = 0; j < count; j++) {
				keys[j] = file.rule_start + i + j;
				memcpy(&values[j], src + sizeof(values[j]) * (size_t)(i + j),
				       sizeof(values[j]));
			}
			LIBBPF_OPTS(bpf_map_batch_opts, opts);
			if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, &opts))
				return -errno;
		}
		return 0;
	}

	// The rows at their range, each rule index moved into the file's rule range. Main thread.
	int WriteRows(const uint8_t *pcs, const uint8_t *idx, const struct unwind_file &file)
	{
		int fd = bpf_map__fd(skel_->maps.unwind_rows);
		std::vector<__u32> keys;
		std::vector<struct unwind_row> values;
		for (__u32 i = 0; i < file.row_count; i += kUnwindBatch) {
			__u32 count = std::min(kUnwindBatch, file.row_count - i);
			keys.resize(count);
			values.resize(count);
			for (__u32 j = 0; j < count; j++) {
				__u16 rule;
				keys[j] = file.row_start + i + j;
				memcpy(&values[j].pc, pcs + 4 * (size_t)(i + j), 4);
				memcpy(&rule, idx + 2 * (size_t)(i + j), 2);
				values[j].rule = file.rule_start + rule;
			}
			LIBBPF_OPTS(bpf_map_batch_opts, opts);
			if (bpf_map_update_batch(fd, keys.data(), values.data(), &count, &opts))
				return -errno;
		}
		return 0;
	}

	// Rows and rules for a table, from ranges freed long enough ago that no walk still reads
	// them; waits out the youngest freed ranges (at most kFlipGrace) when nothing else fits.
	bool AllocFile(__u32 rows, __u32 rules, struct unwind_file *file)
	{
		for (int attempt = 0; attempt < 2; attempt++) {
			ReleaseFreed(attempt > 0);
			if (rows_->Alloc(rows, &file->row_start)) {
				if (rules_->Alloc(rules, &file->rule_start))
					return true;
				rows_->Free(file->row_start, rows);
			}
			if (freed_.empty())
				return false;
			std::this_thread::sleep_until(freed_.back().at + kFlipGrace);
		}
		return false;
	}

	// A table's ranges stay taken until walks that found it before it was replaced or
	// unloaded have ended: they run for microseconds, kFlipGrace is plenty.
	void FreeFile(__u32 file_id)
	{
		auto it = files_.find(file_id);
		if (it == files_.end())
			return;
		freed_.push_back({it->second, std::chrono::steady_clock::now()});
		files_.erase(it);
	}

	void ReleaseFreed(bool all)
	{
		auto now = std::chrono::steady_clock::now();
		while (!freed_.empty() && (all || now - freed_.front().at >= kFlipGrace)) {
			const struct unwind_file &f = freed_.front().file;
			rows_->Free(f.row_start, f.row_count);
			rules_->Free(f.rule_start, f.rule_count);
			freed_.pop_front();
		}
	}

	struct FreedFile {
		struct unwind_file file;
		std::chrono::steady_clock::time_point at;
	};
	std::deque<FreedFile> freed_; // oldest first

	// The deferred ring's reader (drain worker only) and what it appends to; the replay slot's copy.
	struct ring_buffer *deferred_rb_ = nullptr;
	std::vector<uint8_t> deferred_sink_;
	std::unique_ptr<struct profile_replay> replay_;

	std::unique_ptr<RangeAllocator> rows_;
	std::unique_ptr<RangeAllocator> rules_;
	std::map<__u32, struct unwind_file> files_; // loaded tables, by file id
	std::shared_ptr<SharedMap> request_contexts_;
	std::shared_ptr<SharedMap> probed_return_;
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

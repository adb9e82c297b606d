// TlsTracer: the tls BPF tool (bpf/tls.bpf.c) behind a JS class.
//   open (constructor) -> configure rodata and map sizes -> load -> attach tracepoints ->
//   stream the ring buffer -> attachFile(path) per OpenSSL-carrying file -> close()
// The stream's poll thread feeds the data and close records to an Http1Tracker, which hands
// JavaScript one compact record per HTTP exchange instead of every SSL call's bytes.
// Which files to attach and what the records mean is decided in TypeScript (tls-tracer.ts).
#include <napi.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <time.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bpf-load.h"
#include "buffer-worker.h"
#include "http1-tracker-addon.h"
#include "native-error.h"
#include "pid-filter.h"
#include "shared-map.h"
#include "ring-buffer-stream.h"
#include "tls.h"
#include "tls.skel.h"

namespace firesight {
namespace {

struct SkeletonDeleter {
	void operator()(struct tls_bpf *skel) const { tls_bpf__destroy(skel); }
};

struct LinkDeleter {
	void operator()(struct bpf_link *link) const { bpf_link__destroy(link); }
};
using LinkPtr = std::unique_ptr<struct bpf_link, LinkDeleter>;

struct Probe {
	const char *func;
	struct bpf_program *entry;
	struct bpf_program *ret;
};

// Functions a file may lack (the _ex forms came with OpenSSL 1.1.1) are skipped, not errors.
std::vector<Probe> Probes(struct tls_bpf *skel)
{
	return {
		{"SSL_read", skel->progs.ssl_read_enter, skel->progs.ssl_read_return},
		{"SSL_write", skel->progs.ssl_write_enter, skel->progs.ssl_write_return},
		{"SSL_read_ex", skel->progs.ssl_read_ex_enter, skel->progs.ssl_read_ex_return},
		{"SSL_write_ex", skel->progs.ssl_write_ex_enter, skel->progs.ssl_write_ex_return},
	};
}

class TlsTracer : public Napi::ObjectWrap<TlsTracer> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, "TlsTracer",
			{InstanceMethod("attachFile", &TlsTracer::AttachFile),
			 InstanceMethod("detachFile", &TlsTracer::DetachFile),
			 InstanceMethod("addProcess", &TlsTracer::AddProcess),
			 InstanceMethod("counters", &TlsTracer::Counters),
			 InstanceMethod("syscallHook", &TlsTracer::SyscallHook),
			 InstanceMethod("setCaptureBodies", &TlsTracer::SetCaptureBodies),
			 InstanceMethod("connections", &TlsTracer::Connections),
			 InstanceMethod("http1Stats", &TlsTracer::Http1Stats),
			 InstanceMethod("close", &TlsTracer::Close)});
	}

	// new TlsTracer({selfTgid, pids, ringBytes, maxInFlightBytes, pollTimeoutMs, syscallHook,
	// requestContext, onBatch, http1: {maxBodyBytes, maxConnections, idleTimeoutMs}, bodyPids,
	// activeSlots, threadSlots, connectionEntries, requestContextEntries, processEntries}). Main
	// thread.
	explicit TlsTracer(const Napi::CallbackInfo &info)
		: Napi::ObjectWrap<TlsTracer>(info),
		  http1_(Http1TrackerOptionsFrom(
			  info[0].As<Napi::Object>().Get("http1").As<Napi::Object>()))
	{
		Napi::Env env = info.Env();
		Napi::Object cfg = info[0].As<Napi::Object>();
		uint32_t self_tgid = cfg.Get("selfTgid").As<Napi::Number>().Uint32Value();
		Napi::Array pids = cfg.Get("pids").As<Napi::Array>();
		uint32_t ring_bytes = cfg.Get("ringBytes").As<Napi::Number>().Uint32Value();
		double max_in_flight = cfg.Get("maxInFlightBytes").As<Napi::Number>().DoubleValue();
		Napi::Function on_batch = cfg.Get("onBatch").As<Napi::Function>();
		int poll_timeout_ms = cfg.Get("pollTimeoutMs").As<Napi::Number>().Int32Value();
		std::string hook = cfg.Get("syscallHook").As<Napi::String>().Utf8Value();
		bool request_context = cfg.Get("requestContext").As<Napi::Boolean>().Value();
		uint32_t active_slots = cfg.Get("activeSlots").As<Napi::Number>().Uint32Value();
		uint32_t thread_slots = cfg.Get("threadSlots").As<Napi::Number>().Uint32Value();
		uint32_t conn_entries =
			cfg.Get("connectionEntries").As<Napi::Number>().Uint32Value();
		uint32_t request_entries =
			cfg.Get("requestContextEntries").As<Napi::Number>().Uint32Value();
		uint32_t process_entries =
			cfg.Get("processEntries").As<Napi::Number>().Uint32Value();
		Napi::Array body_pids = cfg.Get("bodyPids").As<Napi::Array>();
		for (uint32_t i = 0; i < body_pids.Length(); i++)
			http1_.SetCaptureBodies(body_pids.Get(i).As<Napi::Number>().Uint32Value(),
						true);

		InstallLibbpfLogger();
		skel_.reset(tls_bpf__open());
		if (!skel_)
			throw NativeError(env, "bpf_object__open", errno);
		skel_->rodata->self_tgid = self_tgid;
		skel_->rodata->filter_pids = pids.Length() > 0;
		skel_->rodata->request_context = request_context;
		// Programs for hooks this kernel lacks would fail the whole load: left out before it.
		bool socket_layer = hook == "auto" && SocketLayerHooksExist();
		bpf_program__set_autoload(skel_->progs.tls_sock_recv, socket_layer);
		bpf_program__set_autoload(skel_->progs.tls_sock_send, socket_layer);
		bpf_program__set_autoload(skel_->progs.tls_sock_state, socket_layer);
		bpf_map__set_max_entries(skel_->maps.events, ring_bytes);
		skel_->rodata->wakeup_bytes = ring_bytes / 8;
		skel_->rodata->active_mask = active_slots - 1;
		bpf_map__set_max_entries(skel_->maps.active, active_slots);
		skel_->rodata->threads_mask = thread_slots - 1;
		bpf_map__set_max_entries(skel_->maps.threads, thread_slots);
		bpf_map__set_max_entries(skel_->maps.ssl_conns, conn_entries);
		bpf_map__set_max_entries(skel_->maps.fd_gens, conn_entries);
		bpf_map__set_max_entries(skel_->maps.fd_socks, conn_entries);
		bpf_map__set_max_entries(skel_->maps.sock_fds, conn_entries);
		bpf_map__set_max_entries(skel_->maps.tls_tgids, process_entries);
		// The slots in front of tls_tgids: a power of two, at most as many.
		uint32_t process_slots = 1;
		while (process_slots <= process_entries / 2)
			process_slots *= 2;
		skel_->rodata->process_mask = process_slots - 1;
		bpf_map__set_max_entries(skel_->maps.tls_procs, process_slots);
		request_contexts_ = SharedMap::Acquire(env, kRequestContexts, request_entries);
		request_contexts_->ReuseIn(env, skel_->maps.request_contexts);
		probed_return_ = SharedMap::Acquire(env, kProbedReturn, 1);
		probed_return_->ReuseIn(env, skel_->maps.probed_return);
		int err = LoadWithSignalsHeld([this] { return tls_bpf__load(skel_.get()); });
		if (err)
			throw NativeError(env, "bpf_object__load", err);
		FillPidFilter(env, skel_->maps.pids, pids);
		if (socket_layer)
			AttachSocketLayer();
		if (syscall_hook_.empty() && hook != "raw")
			AttachSyscallTracepoints();
		if (syscall_hook_.empty()) {
			LinkPtr link(bpf_program__attach(skel_->progs.tls_sys_enter));
			if (!link)
				throw NativeError(env, "bpf_program__attach(sys_enter)", errno);
			fixed_links_.push_back(std::move(link));
			syscall_hook_ = "raw";
		}
		for (auto *prog : {skel_->progs.tls_exec, skel_->progs.tls_exit}) {
			LinkPtr link(bpf_program__attach(prog));
			if (!link)
				throw NativeError(env, "bpf_program__attach", errno);
			fixed_links_.push_back(std::move(link));
		}
		stream_.SetHooks(
			[this](const uint8_t *data, size_t len) {
				StreamSink out{stream_};
				return http1_.Handle(data, len, out);
			},
			[this] {
				StreamSink out{stream_};
				http1_.Sweep(MonotonicNs(), out);
			});
		err = stream_.Start(env, bpf_map__fd(skel_->maps.events), on_batch,
				    static_cast<size_t>(max_in_flight), poll_timeout_ms);
		if (err)
			throw NativeError(env, "ring_buffer__new", -err);
	}

	// attachFile(key, path) -> names of the functions attached (entry and return each). Main
	// thread; libbpf reads the file's symbol tables to find the offsets.
	Napi::Value AttachFile(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "tracer is closed");
		std::string key = info[0].As<Napi::String>().Utf8Value();
		std::string path = info[1].As<Napi::String>().Utf8Value();
		if (files_.count(key))
			throw Napi::Error::New(env, "file is already attached: " + key);
		std::vector<LinkPtr> links;
		Napi::Array names = Napi::Array::New(env);
		int last_err = 0;
		for (const auto &p : Probes(skel_.get())) {
			LinkPtr entry, ret;
			for (bool retprobe : {false, true}) {
				LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe,
					    .func_name = p.func);
				struct bpf_program *prog = retprobe ? p.ret : p.entry;
				struct bpf_link *l = bpf_program__attach_uprobe_opts(
					prog, -1, path.c_str(), 0, &opts);
				if (!l) {
					last_err = errno;
					break;
				}
				(retprobe ? ret : entry).reset(l);
			}
			if (!entry || !ret)
				continue; // the file lacks this function
			links.push_back(std::move(entry));
			links.push_back(std::move(ret));
			names.Set(names.Length(), p.func);
		}
		if (links.empty())
			throw NativeError(env, "bpf_program__attach_uprobe_opts",
					  last_err ? last_err : ENOENT);
		files_[key] = std::move(links);
		return names;
	}

	// detachFile(key) -> whether it was attached. Main thread.
	Napi::Value DetachFile(const Napi::CallbackInfo &info)
	{
		std::string key = info[0].As<Napi::String>().Utf8Value();
		return Napi::Boolean::New(info.Env(), files_.erase(key) > 0);
	}

	// addProcess(tgid): marks a process as doing TLS before its first SSL call, so the socket
	// reads that precede it (memory BIOs) are seen. Main thread.
	Napi::Value AddProcess(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "tracer is closed");
		__u32 tgid = info[0].As<Napi::Number>().Uint32Value();
		__u32 closes = 0;
		// BPF_NOEXIST: a process the uprobes marked first keeps its count of closes.
		int err = bpf_map_update_elem(bpf_map__fd(skel_->maps.tls_tgids), &tgid, &closes,
					      BPF_NOEXIST);
		if (err && errno != EEXIST)
			throw NativeError(env, "bpf_map_update_elem(tls_tgids)", errno);
		return env.Undefined();
	}

	// syscallHook() -> "sockets" (the socket layer's send and receive tracepoints, and the TCP
	// state one for closes), "tracepoints" (one tracepoint per socket syscall) or "raw" (sys_enter,
	// every syscall on the host). Main thread.
	Napi::Value SyscallHook(const Napi::CallbackInfo &info)
	{
		return Napi::String::New(info.Env(), syscall_hook_);
	}

	// counters() -> ArrayBuffer of TLS_COUNTER_MAX u64 totals summed over CPUs, then one u64:
	// records the ring-buffer stream dropped because JavaScript fell behind. Main thread.
	Napi::Value Counters(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "tracer is closed");
		PerCpuSums sums(bpf_map__fd(skel_->maps.counters));
		std::vector<uint8_t> out;
		for (__u32 c = 0; c < TLS_COUNTER_MAX; c++) {
			uint64_t sum = sums.Read(c);
			AppendBytes(out, &sum, sizeof(sum));
		}
		uint64_t dropped = stream_.dropped();
		AppendBytes(out, &dropped, sizeof(dropped));
		return ToArrayBuffer(env, out.data(), out.size());
	}

	// setCaptureBodies(tgid, on): keep bodies of that process's new connections. Main thread.
	Napi::Value SetCaptureBodies(const Napi::CallbackInfo &info)
	{
		http1_.SetCaptureBodies(info[0].As<Napi::Number>().Uint32Value(),
					info[1].As<Napi::Boolean>().Value());
		return info.Env().Undefined();
	}

	// connections() -> batch of HTTP1_EV_CONN_OPEN records. Main thread.
	Napi::Value Connections(const Napi::CallbackInfo &info)
	{
		VectorSink out;
		http1_.Connections(out);
		return SinkToArrayBuffer(info.Env(), out);
	}

	// http1Stats() -> ArrayBuffer of HTTP1_STAT_MAX u64 totals. Main thread.
	Napi::Value Http1Stats(const Napi::CallbackInfo &info)
	{
		return Http1StatsToArrayBuffer(info.Env(), http1_);
	}

	// Detaches everything and stops the stream (joins its thread). Returns the batch of records
	// that ending the open connections produced (the first call; an empty one after). Main
	// thread.
	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		files_.clear();
		fixed_links_.clear();
		stream_.Stop();
		skel_.reset();
		request_contexts_.reset();
		probed_return_.reset();
		VectorSink out;
		http1_.EndAll(MonotonicNs(), out);
		return SinkToArrayBuffer(info.Env(), out);
	}

private:
	struct StreamSink : RecordSink {
		explicit StreamSink(RingBufferStream &s) : stream(s) {}
		uint8_t *Reserve(size_t len) override { return stream.Reserve(len); }
		RingBufferStream &stream;
	};

	static uint64_t MonotonicNs()
	{
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return uint64_t(ts.tv_sec) * 1'000'000'000ull + ts.tv_nsec;
	}

	// Whether the kernel has the socket layer's send and receive tracepoints (6.3+) and the
	// helper that reads a task's syscall registers (5.15+). libbpf cannot probe a helper for
	// tracing programs; the kprobe type (uprobes are kprobe programs) shares their helpers.
	// Main thread.
	static bool SocketLayerHooksExist()
	{
		return libbpf_find_vmlinux_btf_id("sock_recv_length", BPF_TRACE_RAW_TP) > 0 &&
		       libbpf_find_vmlinux_btf_id("sock_send_length", BPF_TRACE_RAW_TP) > 0 &&
		       libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_task_pt_regs,
					       nullptr) == 1;
	}

	// The socket layer's send and receive tracepoints, which only socket I/O passes, and the TCP
	// state one, for closes (no syscall tracepoint: see fd_socks in tls.bpf.c). Nothing is kept
	// attached when one of them fails. Main thread.
	void AttachSocketLayer()
	{
		std::vector<LinkPtr> links;
		for (auto *prog : {skel_->progs.tls_sock_recv, skel_->progs.tls_sock_send,
				   skel_->progs.tls_sock_state})
			links.emplace_back(bpf_program__attach(prog));

		for (auto &l : links)
			if (!l)
				return;
		for (auto &l : links)
			fixed_links_.push_back(std::move(l));
		syscall_hook_ = "sockets";
	}

	// The per-syscall tracepoints of the socket I/O that can carry TLS records, so that no
	// other syscall on the host runs BPF. They are found through tracefs; nothing is kept
	// attached when one of them cannot be attached, e.g. tracefs is not mounted. Main thread.
	void AttachSyscallTracepoints()
	{
		struct Tp {
			struct bpf_program *prog;
			const char *name;
		};
		const Tp tps[] = {
			{skel_->progs.tls_sc_read, "sys_enter_read"},
			{skel_->progs.tls_sc_read, "sys_enter_readv"},
			{skel_->progs.tls_sc_read, "sys_enter_recvfrom"},
			{skel_->progs.tls_sc_read, "sys_enter_recvmsg"},
			{skel_->progs.tls_sc_write, "sys_enter_write"},
			{skel_->progs.tls_sc_write, "sys_enter_writev"},
			{skel_->progs.tls_sc_write, "sys_enter_sendto"},
			{skel_->progs.tls_sc_write, "sys_enter_sendmsg"},
			{skel_->progs.tls_sc_close, "sys_enter_close"},
		};
		std::vector<LinkPtr> links;
		for (const auto &tp : tps) {
			LinkPtr link(bpf_program__attach_tracepoint(tp.prog, "syscalls", tp.name));
			if (!link)
				return;
			links.push_back(std::move(link));
		}
		for (auto &l : links)
			fixed_links_.push_back(std::move(l));
		syscall_hook_ = "tracepoints";
	}

	// Before the stream, which calls into it until it stops.
	Http1Tracker http1_;
	std::string syscall_hook_;
	std::shared_ptr<SharedMap> request_contexts_;
	std::shared_ptr<SharedMap> probed_return_;
	std::unique_ptr<struct tls_bpf, SkeletonDeleter> skel_;
	std::vector<LinkPtr> fixed_links_;
	std::map<std::string, std::vector<LinkPtr>> files_;
	RingBufferStream stream_;
};

} // namespace

void InitTlsTracer(Napi::Env env, Napi::Object exports)
{
	exports.Set("TlsTracer", TlsTracer::Define(env));
	InitHttp1Tracker(env, exports);
}

} // namespace firesight

// TcpTracer: the tcp BPF tool (bpf/tcp.bpf.c) behind a JS class.
//   open (constructor) -> configure rodata and map sizes -> pick the tracepoint variant -> load
//   -> attach -> stream ring-buffer events (RingBufferStream) -> readConnections() on a worker
//   thread -> close()
#include <napi.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bpf-load.h"
#include "buffer-worker.h"
#include "native-error.h"
#include "ring-buffer-stream.h"
#include "tcp.h"
#include "tcp.skel.h"

namespace firesight {
namespace {

constexpr __u8 kTcpClose = 7; // TCP_CLOSE in include/net/tcp_states.h

struct SkeletonDeleter {
	void operator()(struct tcp_bpf *skel) const { tcp_bpf__destroy(skel); }
};

// Whether this kernel's tcp_retransmit_skb tracepoint passes the result (6.18+: sk, skb, err).
// Read from the kernel's BTF so that the program which matches its arguments is the one loaded.
// Main thread.
bool RetransmitHasErr()
{
	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return false;
	bool has_err = false;
	int id = btf__find_by_name_kind(btf, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF);
	if (id > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		t = t ? btf__type_by_id(btf, t->type) : nullptr; // typedef -> pointer
		t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : nullptr; // -> func proto
		// (void *__data, sk, skb[, err])
		has_err = t && btf_is_func_proto(t) && btf_vlen(t) >= 4;
	}
	btf__free(btf);
	return has_err;
}

// TCP_COUNTER_MAX u64 totals since load, summed over CPUs. Any thread.
std::vector<uint8_t> ReadCounters(struct tcp_bpf *skel)
{
	PerCpuSums sums(bpf_map__fd(skel->maps.counters));
	std::vector<uint8_t> out;
	for (__u32 c = 0; c < TCP_COUNTER_MAX; c++) {
		uint64_t sum = sums.Read(c);
		AppendBytes(out, &sum, sizeof(sum));
	}
	return out;
}

// Copies the connection map; with delete_closed, closed connections leave it as they are read
// (lookup-and-delete, so a count added between the copy and the delete is not lost).
// Worker thread; the BPF programs keep writing meanwhile.
int ReadConnections(struct tcp_bpf *skel, bool delete_closed, NamedBuffers &out)
{
	std::vector<uint8_t> records; // struct tcp_conn_record
	int fd = bpf_map__fd(skel->maps.conns);
	const __u32 batch_size = 1024;
	std::vector<__u64> keys(batch_size);
	std::vector<struct tcp_conn> values(batch_size);
	std::vector<__u64> closed;
	__u64 out_batch = 0;
	bool first = true;
	for (;;) {
		__u32 n = batch_size;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_batch(fd, first ? nullptr : &out_batch, &out_batch,
					       keys.data(), values.data(), &n, &opts);
		int saved = errno;
		first = false;
		for (__u32 i = 0; i < n; i++) {
			if (delete_closed && values[i].state == kTcpClose) {
				closed.push_back(keys[i]);
				continue;
			}
			struct tcp_conn_record rec;
			memset(&rec, 0, sizeof(rec));
			rec.cookie = keys[i];
			rec.conn = values[i];
			AppendBytes(records, &rec, sizeof(rec));
		}
		if (err) {
			if (saved == ENOENT)
				break;
			return -saved;
		}
	}
	for (__u64 key : closed) {
		struct tcp_conn_record rec;
		memset(&rec, 0, sizeof(rec));
		rec.cookie = key;
		if (bpf_map_lookup_and_delete_elem(fd, &key, &rec.conn))
			continue;
		// connect() again on the same socket after a failure reopens it: keep it.
		if (rec.conn.state != kTcpClose)
			bpf_map_update_elem(fd, &key, &rec.conn, BPF_NOEXIST);
		AppendBytes(records, &rec, sizeof(rec));
	}
	out = {{"records", std::move(records)}, {"counters", ReadCounters(skel)}};
	return 0;
}

class TcpTracer : public Napi::ObjectWrap<TcpTracer> {
public:
	static Napi::Function Define(Napi::Env env)
	{
		return DefineClass(
			env, "TcpTracer",
			{InstanceMethod("readConnections", &TcpTracer::ReadConnectionsJs),
			 InstanceMethod("counters", &TcpTracer::Counters),
			 InstanceMethod("eventDrops", &TcpTracer::EventDrops),
			 InstanceMethod("acceptOwners", &TcpTracer::AcceptOwners),
			 InstanceMethod("close", &TcpTracer::Close)});
	}

	// new TcpTracer({connEntries, ringBytes, emitRetransmits, maxInFlightBytes, onEvents}).
	// Main thread.
	explicit TcpTracer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TcpTracer>(info)
	{
		Napi::Env env = info.Env();
		Napi::Object cfg = info[0].As<Napi::Object>();
		unsigned conn_entries = cfg.Get("connEntries").As<Napi::Number>().Uint32Value();
		unsigned ring_bytes = cfg.Get("ringBytes").As<Napi::Number>().Uint32Value();
		bool emit_retransmits = cfg.Get("emitRetransmits").As<Napi::Boolean>().Value();
		double max_in_flight = cfg.Get("maxInFlightBytes").As<Napi::Number>().DoubleValue();
		Napi::Function on_events = cfg.Get("onEvents").As<Napi::Function>();

		InstallLibbpfLogger();
		skel_.reset(tcp_bpf__open());
		if (!skel_)
			throw NativeError(env, "bpf_object__open", errno);
		skel_->rodata->emit_retransmits = emit_retransmits;
		bpf_map__set_max_entries(skel_->maps.conns, conn_entries);
		bpf_map__set_max_entries(skel_->maps.events, ring_bytes);
		bool has_err = RetransmitHasErr();
		bpf_program__set_autoload(skel_->progs.tcp_retransmit_skb, has_err);
		bpf_program__set_autoload(skel_->progs.tcp_retransmit_skb_v1, !has_err);
		int err = LoadWithSignalsHeld([this] { return tcp_bpf__load(skel_.get()); });
		if (err)
			throw NativeError(env, "bpf_object__load", err);
		// The tp_btf programs are required. The accept() syscall tracepoints are looked up
		// through tracefs, which may not be mounted: without them the tracer still counts
		// everything, and only the owners of accepted connections stay unknown.
		struct bpf_program *required[] = {has_err ? skel_->progs.tcp_retransmit_skb :
							    skel_->progs.tcp_retransmit_skb_v1,
						  skel_->progs.tcp_retransmit_synack,
						  skel_->progs.inet_sock_set_state};
		for (auto *prog : required) {
			struct bpf_link *link = bpf_program__attach(prog);
			int saved = errno;
			if (!link) {
				DestroyLinks(); // a throwing constructor runs no destructor
				throw NativeError(env,
						  std::string("bpf_program__attach(") +
							  bpf_program__name(prog) + ")",
						  saved);
			}
			links_.push_back(link);
		}
		accept_owners_ = true;
		for (auto *prog : {skel_->progs.accept4_exit, skel_->progs.accept_exit}) {
			struct bpf_link *link = bpf_program__attach(prog);
			if (link)
				links_.push_back(link);
			else
				accept_owners_ = false;
		}
		err = stream_.Start(env, bpf_map__fd(skel_->maps.events), on_events,
				    static_cast<size_t>(max_in_flight));
		if (err) {
			DestroyLinks();
			throw NativeError(env, "ring_buffer__new", err);
		}
	}

	// readConnections(deleteClosed) resolves with {records, counters} ArrayBuffers. One read
	// at a time. Main thread.
	Napi::Value ReadConnectionsJs(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "tcp tracer is closed");
		if (reading_)
			throw Napi::Error::New(env, "a connection read is already running");
		reading_ = true;
		Ref(); // keep this object alive until the worker is done
		struct tcp_bpf *skel = skel_.get();
		bool delete_closed = info[0].ToBoolean().Value();
		return BufferWorker::Start(
			env, "bpf_map_lookup_batch",
			[skel, delete_closed](NamedBuffers &out) {
				return ReadConnections(skel, delete_closed, out);
			},
			[this] { ReadDone(); });
	}

	// The counters (u64 per enum tcp_counter) as an ArrayBuffer. Main thread.
	Napi::Value Counters(const Napi::CallbackInfo &info)
	{
		Napi::Env env = info.Env();
		if (!skel_)
			throw Napi::Error::New(env, "tcp tracer is closed");
		std::vector<uint8_t> counters = ReadCounters(skel_.get());
		return ToArrayBuffer(env, counters.data(), counters.size());
	}

	// Events dropped between the ring buffer and JavaScript. Main thread.
	Napi::Value EventDrops(const Napi::CallbackInfo &info)
	{
		return Napi::Number::New(info.Env(), static_cast<double>(stream_.dropped()));
	}

	// Whether accept() is traced, so that accepted connections get their owner. Main thread.
	Napi::Value AcceptOwners(const Napi::CallbackInfo &info)
	{
		return Napi::Boolean::New(info.Env(), accept_owners_);
	}

	// Stops the stream, detaches and frees everything; the free waits for a running read.
	// Main thread.
	Napi::Value Close(const Napi::CallbackInfo &info)
	{
		stream_.Stop();
		DestroyLinks();
		if (reading_)
			close_pending_ = true;
		else
			skel_.reset();
		return info.Env().Undefined();
	}

	void ReadDone()
	{
		reading_ = false;
		if (close_pending_)
			skel_.reset();
		Unref();
	}

	~TcpTracer() { DestroyLinks(); }

private:
	void DestroyLinks()
	{
		for (auto *link : links_)
			bpf_link__destroy(link);
		links_.clear();
	}

	std::unique_ptr<struct tcp_bpf, SkeletonDeleter> skel_;
	std::vector<struct bpf_link *> links_;
	bool accept_owners_ = false;
	RingBufferStream stream_;
	bool reading_ = false;
	bool close_pending_ = false;
};

} // namespace

void InitTcpTracer(Napi::Env env, Napi::Object exports)
{
	exports.Set("TcpTracer", TcpTracer::Define(env));
}

} // namespace firesight

// Http1Tracker: the collector's TLS connections, keyed by (tgid, SSL object) and bound to
// (tgid, fd, generation) once the kernel ties them to a socket, each one reassembling its two
// directions into HTTP/1.x exchanges (http1-parser.h). It eats the tls tool's data and close
// records and hands JavaScript compact records instead (http1-records.h). A close of the socket,
// the process's exit, the same SSL address on another socket, idleness or the connection cap
// ends a connection.
//
// Runs on the ring buffer's poll thread (Handle, Sweep) and is read from the main thread
// (stats, connections, capture settings): every public method takes the tracker's lock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "http1-parser.h"
#include "http1-records.h"

namespace firesight {

// Where records go: a framed batch (ring-buffer-frame.h).
class RecordSink {
public:
	virtual ~RecordSink() = default;
	// A zeroed record of `len` bytes in the batch, valid until the next Reserve.
	virtual uint8_t *Reserve(size_t len) = 0;
};

// A batch built in memory, for calls from the main thread.
class VectorSink : public RecordSink {
public:
	uint8_t *Reserve(size_t len) override;
	std::vector<uint8_t> bytes;
};

// Header names, and header lines (name and value), as numbers (http1-records.h): the same bytes
// get the same key while they are in their table, and a key is never given to other bytes, so
// JavaScript keeps what it made of a key (strings, whether the name is a secret) and does not
// make it again.
class HeaderKeys {
public:
	// 0 for a name too long to key.
	uint32_t NameKey(const std::string &name);
	// 0 for a line too long to key (a cookie, a token: values that seldom repeat).
	uint32_t PairKey(const std::string &name, const std::string &value);

private:
	static constexpr size_t kMaxKeyedName = 256;
	static constexpr size_t kMaxKeyedPair = 256;
	struct Pair {
		uint32_t key;
		std::string name, value;
	};
	std::unordered_map<std::string, uint32_t> names_;
	// By a hash of the two: no key string is built to look a line up.
	std::unordered_map<uint64_t, Pair> pairs_;
	uint32_t next_name_ = 0, next_pair_ = 0;
};

struct Http1TrackerOptions {
	uint32_t max_body_bytes = 4096;
	uint32_t max_connections = 16384;
	uint64_t idle_timeout_ns = 300'000'000'000ull;
};

class Http1Tracker {
public:
	explicit Http1Tracker(const Http1TrackerOptions &opts);
	~Http1Tracker();

	// One tls tool record (bpf/tls.h). True when the tracker took it; false when it must go on
	// to JavaScript as it is (conn, exec, exit, anything it does not know), after what the
	// tracker wrote to `out`.
	bool Handle(const uint8_t *rec, size_t len, RecordSink &out);
	// Ends connections idle since before now - idle timeout, at most every few seconds.
	void Sweep(uint64_t now_ns, RecordSink &out);
	void EvictIdle(uint64_t before_ns, RecordSink &out);
	void EndAll(uint64_t ns, RecordSink &out);
	// HTTP1_EV_CONN_OPEN records, one per open connection.
	void Connections(RecordSink &out);
	void SetCaptureBodies(uint32_t tgid, bool on);
	std::vector<uint64_t> Stats();

private:
	struct Conn;
	struct SocketKey {
		uint32_t tgid;
		int32_t fd;
		uint32_t gen;
		bool operator==(const SocketKey &o) const
		{
			return tgid == o.tgid && fd == o.fd && gen == o.gen;
		}
	};
	struct SocketKeyHash {
		size_t operator()(const SocketKey &k) const
		{
			return std::hash<uint64_t>()((uint64_t(k.tgid) << 32) ^ uint32_t(k.fd)) ^
			       (size_t(k.gen) * 0x9e3779b97f4a7c15ull);
		}
	};

	Conn *State(uint32_t tgid, uint64_t ssl, int32_t fd, uint32_t gen, RecordSink &out);
	void End(Conn *c, uint64_t ns, RecordSink &out);
	void EvictOldest(RecordSink &out);
	void WriteConn(const Conn &c, uint32_t type, uint64_t ts, RecordSink &out);
	void WriteRequestStart(const uint8_t *rec, RecordSink &out);

	std::mutex mu_;
	Http1TrackerOptions opts_;
	std::unordered_map<uint32_t, std::unordered_map<uint64_t, std::unique_ptr<Conn>>> by_pid_;
	std::unordered_map<SocketKey, Conn *, SocketKeyHash> by_socket_;
	std::unordered_set<uint32_t> bodies_;
	HeaderKeys keys_;
	size_t count_ = 0;
	uint64_t last_sweep_ns_ = 0;
	// Totals of ended connections; open ones are added when asked.
	uint64_t closed_ = 0, evicted_ = 0, unbound_seen_ = 0, other_bytes_ = 0;
	Http1ConnectionStats ended_;
	Http1ParserStats ended_parser_;
};

} // namespace firesight

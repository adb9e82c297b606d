// See http1-tracker.h. The connection rules follow apps/collector's former JavaScript tracker.
#include "http1-tracker.h"

#include <cstdint>
#include <cstring>
#include <deque>
#include <string_view>

#include "http1-records.h"
#include "ring-buffer-frame.h"
#include "tls.h"

namespace firesight {

uint8_t *VectorSink::Reserve(size_t len)
{
	struct ring_buffer_frame frame = {static_cast<__u32>(len), 0};
	size_t padded = (len + RING_BUFFER_FRAME_ALIGN - 1) & ~size_t(RING_BUFFER_FRAME_ALIGN - 1);
	size_t at = bytes.size();
	bytes.resize(at + sizeof(frame) + padded, 0);
	memcpy(bytes.data() + at, &frame, sizeof(frame));
	return bytes.data() + at + sizeof(frame);
}

namespace {

// Longest request line handed on for request attribution (the endpoint's template).
constexpr size_t kMaxRequestLine = 8192;
// Request ids of reads waiting for their exchange, per connection (as many as pipelined requests).
constexpr size_t kMaxRequestIds = 256;

size_t HeadersSize(const Http1Head &h)
{
	size_t n = 0;
	for (const auto &kv : h.headers)
		n += sizeof(struct http1_header) + kv.first.size() + kv.second.size();
	return n;
}

uint8_t *Put(uint8_t *p, const std::string &s)
{
	memcpy(p, s.data(), s.size());
	return p + s.size();
}

uint8_t *PutHeaders(uint8_t *p, const Http1Head &h, HeaderKeys &keys)
{
	for (const auto &kv : h.headers) {
		struct http1_header head = {keys.NameKey(kv.first),
					    keys.PairKey(kv.first, kv.second),
					    static_cast<__u32>(kv.first.size()),
					    static_cast<__u32>(kv.second.size())};
		memcpy(p, &head, sizeof(head));
		p = Put(p + sizeof(head), kv.first);
		p = Put(p, kv.second);
	}
	return p;
}

void WriteExchange(uint32_t tgid, uint64_t ssl, int32_t fd, uint32_t gen, uint32_t request_id,
		   const Http1Exchange &ex, HeaderKeys &names, RecordSink &out)
{
	const Http1Message &req = ex.request;
	const Http1Message &res = ex.response;
	size_t len = sizeof(struct http1_exchange_record) + req.head.method.size() +
		     req.head.url.size() + res.head.status_text.size() + HeadersSize(req.head) +
		     HeadersSize(res.head) + req.body.size() + res.body.size();
	uint8_t *p = out.Reserve(len);
	struct http1_exchange_record r = {};
	r.ts_ns = res.end_ns;
	r.type = HTTP1_EV_EXCHANGE;
	r.tgid = tgid;
	r.ssl = ssl;
	r.req_start_ns = req.start_ns;
	r.req_end_ns = req.end_ns;
	r.res_start_ns = res.start_ns;
	r.req_bytes = req.bytes;
	r.res_bytes = res.bytes;
	r.req_body_bytes = req.body_bytes;
	r.res_body_bytes = res.body_bytes;
	r.fd = fd;
	r.gen = gen;
	r.url_len = req.head.url.size();
	r.status_text_len = res.head.status_text.size();
	r.req_header_count = req.head.headers.size();
	r.res_header_count = res.head.headers.size();
	r.req_body_len = req.body.size();
	r.res_body_len = res.body.size();
	r.status = res.head.status;
	r.method_len = req.head.method.size();
	r.flags = (req.head.keep_alive ? HTTP1_REQ_KEEP_ALIVE : 0) |
		  (req.head.upgrade ? HTTP1_REQ_UPGRADE : 0) |
		  (res.head.keep_alive ? HTTP1_RES_KEEP_ALIVE : 0) |
		  (res.head.upgrade ? HTTP1_RES_UPGRADE : 0) |
		  (req.has_body ? HTTP1_REQ_HAS_BODY : 0) |
		  (res.has_body ? HTTP1_RES_HAS_BODY : 0) |
		  (req.body_truncated ? HTTP1_REQ_BODY_TRUNCATED : 0) |
		  (res.body_truncated ? HTTP1_RES_BODY_TRUNCATED : 0) |
		  (req.ended_by_eof ? HTTP1_REQ_ENDED_BY_EOF : 0) |
		  (res.ended_by_eof ? HTTP1_RES_ENDED_BY_EOF : 0);
	r.role = ex.server ? 2 : 1;
	r.req_version = (req.head.version_major << 4) | req.head.version_minor;
	r.res_version = (res.head.version_major << 4) | res.head.version_minor;
	r.request_id = request_id;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	p = Put(p, req.head.method);
	p = Put(p, req.head.url);
	p = Put(p, res.head.status_text);
	p = PutHeaders(p, req.head, names);
	p = PutHeaders(p, res.head, names);
	p = Put(p, req.body);
	Put(p, res.body);
}

} // namespace

uint32_t HeaderKeys::NameKey(const std::string &name)
{
	if (name.size() > kMaxKeyedName)
		return 0;
	auto it = names_.find(name);
	if (it != names_.end())
		return it->second;
	if (names_.size() >= HTTP1_HEADER_KEYS)
		names_.clear(); // the next keys are new numbers: a key never names two names
	if (++next_name_ == 0)
		next_name_ = 1;
	names_.emplace(name, next_name_);
	return next_name_;
}

uint32_t HeaderKeys::PairKey(const std::string &name, const std::string &value)
{
	if (name.size() + value.size() > kMaxKeyedPair)
		return 0;
	uint64_t n = std::hash<std::string_view>()(name);
	uint64_t h = n ^ (std::hash<std::string_view>()(value) + 0x9e3779b97f4a7c15ull + (n << 6) +
			  (n >> 2));
	auto it = pairs_.find(h);
	if (it != pairs_.end())
		return it->second.name == name && it->second.value == value ? it->second.key : 0;
	if (pairs_.size() >= HTTP1_HEADER_KEYS)
		pairs_.clear();
	if (++next_pair_ == 0)
		next_pair_ = 1;
	pairs_.emplace(h, Pair{next_pair_, name, value});
	return next_pair_;
}

struct Http1Tracker::Conn : public Http1ExchangeSink {
	Conn(uint32_t tgid, uint64_t ssl, uint32_t max_body, HeaderKeys &names)
		: tgid(tgid), ssl(ssl), names(names), http(max_body, this)
	{
	}
	void OnExchange(Http1Exchange &ex) override
	{
		WriteExchange(tgid, ssl, fd, gen, RequestId(ex.request.start_ns), ex, names, *out);
	}
	// The id of the read the request began with: reads come in order, and so do the requests
	// they begin, so ids of reads older than it began no request (and a second request begun
	// in the same read is not the one the id was given for).
	uint32_t RequestId(uint64_t start_ns)
	{
		while (!request_ids.empty() && request_ids.front().first < start_ns)
			request_ids.pop_front();
		if (request_ids.empty() || request_ids.front().first != start_ns)
			return 0;
		uint32_t id = request_ids.front().second;
		request_ids.pop_front();
		return id;
	}

	uint32_t tgid;
	uint64_t ssl;
	HeaderKeys &names;
	int32_t fd = -1;
	uint32_t gen = 0;
	uint64_t last_ns = 0;
	RecordSink *out = nullptr; // where exchanges go while the connection is being fed
	// (read's ts_ns, request id) of the reads the kernel gave a request id, oldest first.
	std::deque<std::pair<uint64_t, uint32_t>> request_ids;
	Http1Connection http;
};

Http1Tracker::Http1Tracker(const Http1TrackerOptions &opts) : opts_(opts) {}

Http1Tracker::~Http1Tracker() = default;

void Http1Tracker::SetCaptureBodies(uint32_t tgid, bool on)
{
	std::lock_guard<std::mutex> lock(mu_);
	if (on)
		bodies_.insert(tgid);
	else
		bodies_.erase(tgid);
}

bool Http1Tracker::Handle(const uint8_t *rec, size_t len, RecordSink &out)
{
	if (len < sizeof(struct tls_event_head))
		return false;
	struct tls_event_head head;
	memcpy(&head, rec, sizeof(head));
	std::lock_guard<std::mutex> lock(mu_);
	switch (head.type) {
	case TLS_EV_DATA: {
		struct tls_data_event ev;
		if (len < sizeof(ev))
			return false;
		memcpy(&ev, rec, sizeof(ev));
		if (sizeof(ev) + size_t(ev.cap_len) > len)
			return false; // JavaScript reports it as a decode error
		const uint8_t *payload = rec + sizeof(ev);
		if (ev.request_id != 0)
			WriteRequestStart(rec, out);
		Conn *c = State(ev.tgid, ev.ssl, ev.fd, ev.gen, out);
		c->last_ns = ev.ts_ns;
		if (ev.request_id != 0) {
			// Bounded: reads with ids that begin no request (a stream out of step) go.
			if (c->request_ids.size() >= kMaxRequestIds)
				c->request_ids.pop_front();
			c->request_ids.emplace_back(ev.ts_ns, ev.request_id);
		}
		bool write = ev.dir == TLS_DIR_WRITE;
		c->out = &out;
		c->http.Push(write, payload, ev.cap_len, ev.len, write ? ev.start_ns : ev.ts_ns,
			     ev.ts_ns);
		c->out = nullptr;
		return true;
	}
	case TLS_EV_CONN: {
		struct tls_conn_event ev;
		if (len < sizeof(ev))
			return false;
		memcpy(&ev, rec, sizeof(ev));
		State(ev.tgid, ev.ssl, ev.fd, ev.gen, out);
		return false; // JavaScript keeps the endpoints
	}
	case TLS_EV_CLOSE: {
		struct tls_close_event ev;
		if (len < sizeof(ev))
			return false;
		memcpy(&ev, rec, sizeof(ev));
		auto it = by_socket_.find(SocketKey{ev.tgid, ev.fd, ev.gen});
		if (it != by_socket_.end())
			End(it->second, ev.ts_ns, out);
		return true;
	}
	case TLS_EV_EXIT: {
		auto it = by_pid_.find(head.tgid);
		if (it != by_pid_.end()) {
			std::vector<Conn *> conns;
			for (auto &kv : it->second)
				conns.push_back(kv.second.get());
			for (Conn *c : conns)
				End(c, head.ts_ns, out);
		}
		return false;
	}
	case TLS_EV_TICK:
		return true;
	default:
		return false;
	}
}

void Http1Tracker::WriteRequestStart(const uint8_t *rec, RecordSink &out)
{
	struct tls_data_event ev;
	memcpy(&ev, rec, sizeof(ev));
	const uint8_t *payload = rec + sizeof(ev);
	// The request line ends at the first CR, else the first LF (as tls-capture.ts cut it).
	const void *cr = memchr(payload, '\r', ev.cap_len);
	const void *end = cr ? cr : memchr(payload, '\n', ev.cap_len);
	size_t line = end ? static_cast<const uint8_t *>(end) - payload : 0;
	if (line > kMaxRequestLine)
		line = kMaxRequestLine;
	uint8_t *p = out.Reserve(sizeof(struct http1_request_start_record) + line);
	struct http1_request_start_record r = {};
	r.ts_ns = ev.ts_ns;
	r.type = HTTP1_EV_REQUEST_START;
	r.tgid = ev.tgid;
	r.request_id = ev.request_id;
	r.tid = ev.tid;
	r.line_len = line;
	r.has_line = end != nullptr;
	memcpy(p, &r, sizeof(r));
	memcpy(p + sizeof(r), payload, line);
}

Http1Tracker::Conn *Http1Tracker::State(uint32_t tgid, uint64_t ssl, int32_t fd, uint32_t gen,
					RecordSink &out)
{
	Conn *c = nullptr;
	auto pit = by_pid_.find(tgid);
	if (pit != by_pid_.end()) {
		auto cit = pit->second.find(ssl);
		if (cit != pit->second.end())
			c = cit->second.get();
	}
	if (c && fd >= 0 && c->fd >= 0 && (c->fd != fd || c->gen != gen)) {
		// The SSL object was freed and its address reused for another connection.
		End(c, c->last_ns, out);
		c = nullptr;
	}
	if (!c) {
		if (count_ >= opts_.max_connections)
			EvictOldest(out);
		uint32_t max_body = bodies_.count(tgid) ? opts_.max_body_bytes : 0;
		auto owned = std::make_unique<Conn>(tgid, ssl, max_body, keys_);
		c = owned.get();
		by_pid_[tgid][ssl] = std::move(owned);
		count_++;
	}
	if (fd >= 0 && c->fd < 0) {
		c->fd = fd;
		c->gen = gen;
		by_socket_[SocketKey{tgid, fd, gen}] = c;
	}
	return c;
}

void Http1Tracker::EvictOldest(RecordSink &out)
{
	Conn *oldest = nullptr;
	for (auto &p : by_pid_)
		for (auto &kv : p.second)
			if (!oldest || kv.second->last_ns < oldest->last_ns)
				oldest = kv.second.get();
	if (oldest) {
		evicted_++;
		End(oldest, oldest->last_ns, out);
	}
}

void Http1Tracker::WriteConn(const Conn &c, uint32_t type, uint64_t ts, RecordSink &out)
{
	uint8_t *p = out.Reserve(sizeof(struct http1_conn_record));
	struct http1_conn_record r = {};
	r.ts_ns = ts;
	r.type = type;
	r.tgid = c.tgid;
	r.ssl = c.ssl;
	r.bytes_out = c.http.stats.outbound_bytes;
	r.bytes_in = c.http.stats.inbound_bytes;
	r.exchanges = c.http.stats.exchanges;
	r.fd = c.fd;
	r.gen = c.gen;
	r.protocol = c.http.stats.protocol;
	r.role = c.http.Role();
	const Http1ConnectionStats &s = c.http.stats;
	const Http1ParserStats ps = c.http.ParserStats();
	const uint64_t losses =
		ps.parse_errors + ps.desyncs + s.unpaired_responses + s.pending_dropped;
	r.losses = losses > UINT32_MAX ? UINT32_MAX : uint32_t(losses);
	memcpy(p, &r, sizeof(r));
}

void Http1Tracker::End(Conn *c, uint64_t ns, RecordSink &out)
{
	c->out = &out;
	c->http.End(ns);
	c->out = nullptr;
	WriteConn(*c, HTTP1_EV_CONN_END, ns, out);
	const Http1ConnectionStats &s = c->http.stats;
	ended_.exchanges += s.exchanges;
	ended_.unpaired_responses += s.unpaired_responses;
	ended_.unanswered_requests += s.unanswered_requests;
	ended_.pending_dropped += s.pending_dropped;
	Http1ParserStats ps = c->http.ParserStats();
	ended_parser_.parse_errors += ps.parse_errors;
	ended_parser_.desyncs += ps.desyncs;
	ended_parser_.skipped_bytes += ps.skipped_bytes;
	ended_parser_.filled_gaps += ps.filled_gaps;
	if (s.protocol == Http1ConnectionStats::kOther)
		other_bytes_ += s.outbound_bytes + s.inbound_bytes;
	if (c->fd >= 0) {
		auto it = by_socket_.find(SocketKey{c->tgid, c->fd, c->gen});
		if (it != by_socket_.end() && it->second == c)
			by_socket_.erase(it);
	} else {
		unbound_seen_++;
	}
	closed_++;
	auto pit = by_pid_.find(c->tgid);
	if (pit != by_pid_.end()) {
		auto cit = pit->second.find(c->ssl);
		if (cit != pit->second.end() && cit->second.get() == c) {
			count_--;
			pit->second.erase(cit); // frees c
			if (pit->second.empty())
				by_pid_.erase(pit);
		}
	}
}

void Http1Tracker::Sweep(uint64_t now_ns, RecordSink &out)
{
	uint64_t every = std::min<uint64_t>(opts_.idle_timeout_ns, 10'000'000'000ull);
	{
		std::lock_guard<std::mutex> lock(mu_);
		if (last_sweep_ns_ == 0)
			last_sweep_ns_ = now_ns;
		if (now_ns - last_sweep_ns_ < every || now_ns < opts_.idle_timeout_ns)
			return;
		last_sweep_ns_ = now_ns;
	}
	EvictIdle(now_ns - opts_.idle_timeout_ns, out);
}

void Http1Tracker::EvictIdle(uint64_t before_ns, RecordSink &out)
{
	std::lock_guard<std::mutex> lock(mu_);
	std::vector<Conn *> idle;
	for (auto &p : by_pid_)
		for (auto &kv : p.second)
			if (kv.second->last_ns < before_ns)
				idle.push_back(kv.second.get());
	for (Conn *c : idle) {
		evicted_++;
		End(c, c->last_ns, out);
	}
}

void Http1Tracker::EndAll(uint64_t ns, RecordSink &out)
{
	std::lock_guard<std::mutex> lock(mu_);
	std::vector<Conn *> all;
	for (auto &p : by_pid_)
		for (auto &kv : p.second)
			all.push_back(kv.second.get());
	for (Conn *c : all)
		End(c, ns, out);
}

void Http1Tracker::Connections(RecordSink &out)
{
	std::lock_guard<std::mutex> lock(mu_);
	for (auto &p : by_pid_)
		for (auto &kv : p.second)
			WriteConn(*kv.second, HTTP1_EV_CONN_OPEN, kv.second->last_ns, out);
}

std::vector<uint64_t> Http1Tracker::Stats()
{
	std::lock_guard<std::mutex> lock(mu_);
	Http1ConnectionStats s = ended_;
	Http1ParserStats ps = ended_parser_;
	for (auto &p : by_pid_) {
		for (auto &kv : p.second) {
			const Http1Connection &h = kv.second->http;
			s.exchanges += h.stats.exchanges;
			s.unpaired_responses += h.stats.unpaired_responses;
			s.unanswered_requests += h.stats.unanswered_requests;
			s.pending_dropped += h.stats.pending_dropped;
			Http1ParserStats q = h.ParserStats();
			ps.parse_errors += q.parse_errors;
			ps.desyncs += q.desyncs;
			ps.skipped_bytes += q.skipped_bytes;
			ps.filled_gaps += q.filled_gaps;
		}
	}
	std::vector<uint64_t> v(HTTP1_STAT_MAX, 0);
	v[HTTP1_STAT_OPEN] = count_;
	v[HTTP1_STAT_CLOSED] = closed_;
	v[HTTP1_STAT_EVICTED] = evicted_;
	v[HTTP1_STAT_UNBOUND_SEEN] = unbound_seen_;
	v[HTTP1_STAT_EXCHANGES] = s.exchanges;
	v[HTTP1_STAT_PARSE_ERRORS] = ps.parse_errors;
	v[HTTP1_STAT_DESYNCS] = ps.desyncs;
	v[HTTP1_STAT_SKIPPED_BYTES] = ps.skipped_bytes;
	v[HTTP1_STAT_FILLED_GAPS] = ps.filled_gaps;
	v[HTTP1_STAT_UNPAIRED_RESPONSES] = s.unpaired_responses;
	v[HTTP1_STAT_UNANSWERED_REQUESTS] = s.unanswered_requests;
	v[HTTP1_STAT_PENDING_DROPPED] = s.pending_dropped;
	v[HTTP1_STAT_OTHER_PROTOCOL_BYTES] = other_bytes_;
	return v;
}

} // namespace firesight

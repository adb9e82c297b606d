// HTTP/1.x reassembly from captured byte streams, in C++ so that the collector does not parse
// every SSL call's bytes in JavaScript. It follows packages/http1 (MessageParser over
// http-parser-js, and Http1Connection) rule for rule, which stays the reference: a differential
// fuzz test feeds both the same streams and requires the same exchanges.
//
// Everything here is single-threaded and bounded: a line is at most one captured chunk past the
// 80 KiB head limit, bodies are kept up to max_body_bytes, and at most max_pending requests wait
// for their responses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace firesight {

struct Http1Head {
	std::string method; // requests
	std::string url;    // requests
	int status = 0;	    // responses
	std::string status_text;
	int version_major = 0;
	int version_minor = 0;
	// In wire order, names as sent (bytes, decoded as latin1 by JavaScript).
	std::vector<std::pair<std::string, std::string>> headers;
	bool keep_alive = false;
	bool upgrade = false;
};

struct Http1Message {
	bool request = false;
	Http1Head head;
	uint64_t bytes = 0;	 // on the wire: start line, headers, body with its framing
	uint64_t body_bytes = 0; // decoded body bytes
	bool has_body = false;	 // body capture was on for this message (body may be empty)
	std::string body;	 // the first max_body_bytes of the body
	bool body_truncated = false;
	uint64_t start_ns = 0;
	uint64_t end_ns = 0;
	bool ended_by_eof = false;
};

struct Http1ParserStats {
	uint64_t messages = 0;
	uint64_t skipped_bytes = 0;
	uint64_t parse_errors = 0;
	uint64_t desyncs = 0;
	uint64_t filled_gaps = 0;
};

// Whether bytes start like an HTTP/1.x request (a whole request line within 2 KiB) or response.
bool Http1LooksLikeStart(const uint8_t *bytes, size_t len, bool request);

class Http1Connection;

// One direction of a connection (message-parser.ts).
class Http1MessageParser {
public:
	Http1MessageParser(bool request, uint32_t max_body_bytes, Http1Connection *owner);

	// `bytes` holds cap_len captured bytes of the `length` that went by.
	void Push(const uint8_t *bytes, size_t cap_len, uint64_t length, uint64_t first_ns,
		  uint64_t last_ns);
	void End(uint64_t ns);

	Http1ParserStats stats;

private:
	enum State {
		kRequestLine,
		kResponseLine,
		kHeader,
		kChunkHead,
		kChunk,
		kChunkEmptyLine,
		kChunkTrailers,
		kBodyRaw,
		kBodySized,
	};
	struct Chunk {
		uint64_t first_ns, last_ns;
	};

	void Initialize();
	// Returns false on a parse error (http-parser-js's execute returning an Error).
	bool Execute(const Chunk &chunk, const uint8_t *data, size_t len);
	// One state step; sets *stop when parsing must pause (upgrade). False on error.
	bool Step(bool *stop);
	bool ConsumeLine(std::string *line);
	bool ParseHeader(const std::string &line, bool trailers);
	bool HeadersDone(bool *stop);
	bool OnBody(size_t offset, double len);
	void NextMessage();
	void Complete();
	void Desync(uint64_t skipped);
	void Reset();

	const bool request_;
	const uint32_t max_body_;
	Http1Connection *owner_;
	bool resync_ = false;

	// http-parser-js's state.
	State state_;
	Http1Head info_;
	std::string line_;
	std::string scratch_; // the line Step() works on
	bool is_chunked_ = false;
	std::string connection_;
	uint64_t header_size_ = 0;
	bool body_null_ = true; // body_bytes === null
	double body_bytes_ = 0; // a JavaScript number: NaN and negative values are kept as such

	// The message in progress (MessageParser's fields).
	Http1Head head_;
	bool have_head_ = false;
	bool have_start_ = false;
	uint64_t start_ns_ = 0;
	uint64_t bytes_ = 0;
	uint64_t msg_body_bytes_ = 0;
	std::string body_;
	bool body_truncated_ = false;

	// Within the chunk being executed.
	const Chunk *chunk_ = nullptr;
	const uint8_t *data_ = nullptr; // null while filling a gap with zeros
	size_t offset_ = 0;
	size_t end_ = 0;
	size_t consumed_from_ = 0;
	bool filling_ = false;
	bool ended_by_eof_ = false;
};

struct Http1Exchange {
	bool server = false; // the observed process answered (else it sent the request)
	Http1Message request;
	Http1Message response;
};

struct Http1ConnectionStats {
	enum Protocol { kPending = 0, kHttp1 = 1, kOther = 2 };
	Protocol protocol = kPending;
	uint64_t outbound_bytes = 0;
	uint64_t inbound_bytes = 0;
	uint64_t exchanges = 0;
	uint64_t unpaired_responses = 0;
	uint64_t unanswered_requests = 0;
	uint64_t pending_dropped = 0;
};

class Http1ExchangeSink {
public:
	virtual ~Http1ExchangeSink() = default;
	virtual void OnExchange(Http1Exchange &ex) = 0;
};

// Both directions of one connection (http1-connection.ts): detection from the first bytes,
// pairing responses with requests in order, 1xx skipped, HEAD replies bodiless, upgrades.
class Http1Connection {
public:
	Http1Connection(uint32_t max_body_bytes, Http1ExchangeSink *sink, size_t max_pending = 256);

	void Push(bool outbound, const uint8_t *bytes, size_t cap_len, uint64_t length,
		  uint64_t first_ns, uint64_t last_ns);
	void End(uint64_t ns);
	// 0 unknown, 1 client, 2 server.
	int Role() const;
	Http1ParserStats ParserStats() const;

	Http1ConnectionStats stats;

private:
	friend class Http1MessageParser;
	struct Pending {
		Http1Head head;
		uint64_t start_ns;
		bool done = false;
		Http1Message message;
		bool own_head = false; // message.head is set (else the request's head is `head`)
	};

	void Detect(bool outbound, const uint8_t *bytes, size_t cap_len);
	// Called by the parsers.
	void OnRequestHead(Http1Head &&head, uint64_t start_ns);
	void OnMessage(bool request, Http1Message &m);
	bool Bodiless() const;
	void OnResponseDesync();

	const uint32_t max_body_;
	const size_t max_pending_;
	Http1ExchangeSink *sink_;
	int request_side_ = -1; // -1 unknown, 1 outbound, 0 inbound
	std::unique_ptr<Http1MessageParser> requests_;
	std::unique_ptr<Http1MessageParser> responses_;
	std::deque<Pending> pending_;
	// The pending request whose message the request parser is reading (it holds its head), if
	// still waiting; deque elements stay put as others are added and removed at the ends.
	Pending *in_progress_ = nullptr;
	void PopFront();
	bool upgraded_ = false;
};

} // namespace firesight

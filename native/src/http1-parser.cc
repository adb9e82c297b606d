// See http1-parser.h. Each rule names the JavaScript it mirrors (packages/http1 and
// http-parser-js), so that a difference found by the differential fuzz test is easy to place.
#include "http1-parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <tuple>

namespace firesight {
namespace {

// http-parser-js's HTTPParser.maxHeaderSize.
constexpr uint64_t kMaxHeaderSize = 80 * 1024;
// Uncaptured bytes are parsed as zeros, this many at a time (message-parser.ts's FILL_PIECE).
constexpr uint64_t kFillPiece = 16384;

const char *const kMethods[] = {
	"DELETE",     "GET",	  "HEAD",	"POST",	    "PUT",    "CONNECT",   "OPTIONS",
	"TRACE",      "COPY",	  "LOCK",	"MKCOL",    "MOVE",   "PROPFIND",  "PROPPATCH",
	"SEARCH",     "UNLOCK",	  "BIND",	"REBIND",   "UNBIND", "ACL",	   "REPORT",
	"MKACTIVITY", "CHECKOUT", "MERGE",	"M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
	"PATCH",      "PURGE",	  "MKCALENDAR", "LINK",	    "UNLINK", "SOURCE",
};

bool IsDigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}
bool IsUpperOrDash(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '-';
}
// JavaScript's white space and line terminators as far as one byte (latin1) reaches.
bool IsJsSpace(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}
int HexValue(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
uint8_t Lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool EqualsLower(const std::string &s, const char *lower)
{
	size_t n = strlen(lower);
	if (s.size() != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (Lower(static_cast<uint8_t>(s[i])) != static_cast<uint8_t>(lower[i]))
			return false;
	return true;
}

bool KnownMethod(const std::string &m)
{
	for (const char *k : kMethods)
		if (m == k)
			return true;
	return false;
}

// `+value` in JavaScript for the forms a Content-Length can sensibly take. A finite value that
// is not an integer is taken as NaN: http-parser-js would then count fractions of bytes.
double JsNumber(const std::string &raw)
{
	// The usual Content-Length, plain digits: their value, without the general parse below.
	if (!raw.empty() && raw.size() <= 15) {
		double v = 0;
		size_t i = 0;
		for (; i < raw.size() && IsDigit(raw[i]); i++)
			v = v * 10 + (raw[i] - '0');
		if (i == raw.size())
			return v;
	}
	size_t b = 0, e = raw.size();
	while (b < e && IsJsSpace(static_cast<uint8_t>(raw[b])))
		b++;
	while (e > b && IsJsSpace(static_cast<uint8_t>(raw[e - 1])))
		e--;
	if (b == e)
		return 0;
	std::string s = raw.substr(b, e - b);
	if (s == "Infinity" || s == "+Infinity")
		return INFINITY;
	if (s == "-Infinity")
		return -INFINITY;
	if (s.size() > 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
		int radix = (s[1] == 'x' || s[1] == 'X') ? 16 :
			    (s[1] == 'o' || s[1] == 'O') ? 8 :
							   2;
		double v = 0;
		for (size_t i = 2; i < s.size(); i++) {
			int d = HexValue(static_cast<uint8_t>(s[i]));
			if (d < 0 || d >= radix)
				return NAN;
			v = v * radix + d;
		}
		return v;
	}
	// [+-]? (digits ('.' digits*)? | '.' digits) ([eE] [+-]? digits)?
	size_t i = 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	size_t int_digits = 0, frac_digits = 0;
	while (i < s.size() && IsDigit(s[i]))
		i++, int_digits++;
	if (i < s.size() && s[i] == '.') {
		i++;
		while (i < s.size() && IsDigit(s[i]))
			i++, frac_digits++;
	}
	if (int_digits + frac_digits == 0)
		return NAN;
	if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < s.size() && (s[i] == '+' || s[i] == '-'))
			i++;
		size_t exp_digits = 0;
		while (i < s.size() && IsDigit(s[i]))
			i++, exp_digits++;
		if (exp_digits == 0)
			return NAN;
	}
	if (i != s.size())
		return NAN;
	double v = strtod(s.c_str(), nullptr);
	if (std::isfinite(v) && v != std::floor(v))
		return NAN;
	return v;
}

// parseInt(line, 16).
double JsParseIntHex(const std::string &s)
{
	size_t i = 0;
	while (i < s.size() && IsJsSpace(static_cast<uint8_t>(s[i])))
		i++;
	bool neg = false;
	if (i < s.size() && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		i += 2;
	double v = 0;
	size_t digits = 0;
	for (; i < s.size(); i++, digits++) {
		int d = HexValue(static_cast<uint8_t>(s[i]));
		if (d < 0)
			break;
		v = v * 16 + d;
	}
	if (digits == 0)
		return NAN;
	return neg ? -v : v;
}

bool IsSpaceOrTab(char c)
{
	return c == ' ' || c == '\t';
}

} // namespace

bool Http1LooksLikeStart(const uint8_t *b, size_t len, bool request)
{
	size_t n = std::min<size_t>(len, 2048);
	if (!request) {
		// ^HTTP\/1\.[01] \d{3}[ \r\n]
		if (n < 13 || memcmp(b, "HTTP/1.", 7) != 0 || (b[7] != '0' && b[7] != '1') ||
		    b[8] != ' ' || !IsDigit(b[9]) || !IsDigit(b[10]) || !IsDigit(b[11]))
			return false;
		return b[12] == ' ' || b[12] == '\r' || b[12] == '\n';
	}
	// ^[A-Z][A-Z-]{0,19} [^ \r\n]+ HTTP\/1\.[01]\r?\n
	if (n < 1 || !(b[0] >= 'A' && b[0] <= 'Z'))
		return false;
	size_t i = 1;
	while (i < n && i < 20 && IsUpperOrDash(b[i]))
		i++;
	if (i >= n || b[i] != ' ')
		return false;
	size_t url = ++i;
	while (i < n && b[i] != ' ' && b[i] != '\r' && b[i] != '\n')
		i++;
	if (i == url || i + 9 > n || memcmp(b + i, " HTTP/1.", 8) != 0 ||
	    (b[i + 8] != '0' && b[i + 8] != '1'))
		return false;
	i += 9;
	if (i < n && b[i] == '\r')
		i++;
	return i < n && b[i] == '\n';
}

// ---- Http1MessageParser (message-parser.ts, with http-parser-js inlined) ----

Http1MessageParser::Http1MessageParser(bool request, uint32_t max_body_bytes,
				       Http1Connection *owner)
	: request_(request), max_body_(max_body_bytes), owner_(owner)
{
	Initialize();
}

void Http1MessageParser::Initialize()
{
	state_ = request_ ? kRequestLine : kResponseLine;
	info_ = Http1Head();
	info_.headers.reserve(16); // one allocation for a message's headers, not one per doubling
	line_.clear();
	is_chunked_ = false;
	connection_.clear();
	header_size_ = 0;
	body_null_ = true;
	body_bytes_ = 0;
}

void Http1MessageParser::Push(const uint8_t *bytes, size_t cap_len, uint64_t length,
			      uint64_t first_ns, uint64_t last_ns)
{
	if (length == 0)
		return;
	if (resync_) {
		if (!Http1LooksLikeStart(bytes, cap_len, request_)) {
			stats.skipped_bytes += length;
			return;
		}
		resync_ = false;
		Reset();
	}
	Chunk chunk{first_ns, last_ns};
	Execute(chunk, bytes, cap_len);
	if (length <= cap_len || resync_)
		return;
	uint64_t missing = length - cap_len;
	// Bytes that went by uncaptured: harmless inside a body whose end the framing knows.
	bool fillable = state_ == kBodyRaw ||
			((state_ == kBodySized || state_ == kChunk) && !body_null_ &&
			 body_bytes_ >= static_cast<double>(missing));
	if (!fillable) {
		Desync(missing);
		return;
	}
	stats.filled_gaps++;
	body_truncated_ = true;
	filling_ = true;
	// In pieces, as message-parser.ts does: http-parser-js counts a whole execute() that ends
	// between messages against the head limit.
	Chunk fill{last_ns, last_ns};
	for (uint64_t left = missing; left > 0 && !resync_; left -= std::min(left, kFillPiece))
		Execute(fill, nullptr, std::min(left, kFillPiece));
	filling_ = false;
}

void Http1MessageParser::End(uint64_t ns)
{
	if (resync_ || !have_start_)
		return;
	if (state_ == kBodyRaw) {
		Chunk eof{ns, ns};
		chunk_ = &eof;
		consumed_from_ = 0;
		ended_by_eof_ = true;
		Complete();
		ended_by_eof_ = false;
		chunk_ = nullptr;
	}
	Reset();
}

// MessageParser#execute around HTTPParser#execute.
bool Http1MessageParser::Execute(const Chunk &chunk, const uint8_t *data, size_t len)
{
	chunk_ = &chunk;
	consumed_from_ = 0;
	if (!have_start_) {
		have_start_ = true;
		start_ns_ = chunk.first_ns;
	}
	data_ = data;
	offset_ = 0;
	end_ = len;
	bool ok = true;
	while (offset_ < end_) {
		bool stop = false;
		if (!Step(&stop)) {
			ok = false;
			break;
		}
		if (stop)
			break;
	}
	if (ok && (state_ == kRequestLine || state_ == kResponseLine || state_ == kHeader)) {
		header_size_ += offset_;
		if (header_size_ > kMaxHeaderSize)
			ok = false;
	}
	if (!ok) {
		stats.parse_errors++;
		Desync(len - consumed_from_);
		chunk_ = nullptr;
		return false;
	}
	bytes_ += len - consumed_from_;
	chunk_ = nullptr;
	return true;
}

void Http1MessageParser::Desync(uint64_t skipped)
{
	stats.desyncs++;
	stats.skipped_bytes += skipped + bytes_;
	resync_ = true;
	Reset();
	if (!request_)
		owner_->OnResponseDesync();
}

void Http1MessageParser::Reset()
{
	Initialize();
	have_head_ = false;
	have_start_ = false;
	start_ns_ = 0;
	bytes_ = 0;
	msg_body_bytes_ = 0;
	body_.clear();
	body_truncated_ = false;
}

bool Http1MessageParser::ConsumeLine(std::string *line)
{
	if (!data_) {
		// Zeros filling a gap never end a line.
		line_.append(end_ - offset_, '\0');
		offset_ = end_;
		return false;
	}
	const void *nl = memchr(data_ + offset_, '\n', end_ - offset_);
	if (!nl) {
		line_.append(reinterpret_cast<const char *>(data_ + offset_), end_ - offset_);
		offset_ = end_;
		return false;
	}
	size_t i = static_cast<const uint8_t *>(nl) - data_;
	// Assigned, not swapped: `line` is the parser's scratch line, whose buffer is kept.
	line->assign(line_);
	line->append(reinterpret_cast<const char *>(data_ + offset_), i - offset_);
	if (!line->empty() && line->back() == '\r')
		line->pop_back();
	line_.clear();
	offset_ = i + 1;
	return true;
}

bool Http1MessageParser::ParseHeader(const std::string &line, bool trailers)
{
	if (line.find('\r') != std::string::npos)
		return false; // HPE_LF_EXPECTED
	// ^([^: \t]+):[ \t]*((?:.*[^ \t])|)
	size_t n = 0;
	while (n < line.size() && line[n] != ':' && !IsSpaceOrTab(line[n]))
		n++;
	if (n > 0 && n < line.size() && line[n] == ':') {
		if (trailers)
			return true;
		size_t v = n + 1;
		while (v < line.size() && IsSpaceOrTab(line[v]))
			v++;
		size_t e = line.size();
		while (e > v && IsSpaceOrTab(line[e - 1]))
			e--;
		info_.headers.emplace_back(std::piecewise_construct,
					   std::forward_as_tuple(line, 0, n),
					   std::forward_as_tuple(line, v, e - v));
		return true;
	}
	// ^[ \t]+(.*[^ \t]): a continuation of the previous value.
	if (line.empty() || !IsSpaceOrTab(line[0]) || trailers || info_.headers.empty())
		return true;
	size_t v = 0;
	while (v < line.size() && IsSpaceOrTab(line[v]))
		v++;
	size_t e = line.size();
	while (e > v && IsSpaceOrTab(line[e - 1]))
		e--;
	if (e == v)
		return true;
	std::string &last = info_.headers.back().second;
	if (!last.empty())
		last += ' ';
	last.append(line, v, e - v);
	return true;
}

bool Http1MessageParser::Step(bool *stop)
{
	// A line per step: the scratch string keeps its buffer, where a local one was allocated
	// for every line longer than the short-string buffer.
	std::string &line = scratch_;
	line.clear();
	switch (state_) {
	case kRequestLine: {
		if (!ConsumeLine(&line) || line.empty())
			return true;
		// ^([A-Z-]+) ([^ ]+) HTTP\/(\d)\.(\d)$
		size_t sp1 = line.find(' ');
		if (sp1 == std::string::npos || sp1 == 0)
			return false;
		for (size_t i = 0; i < sp1; i++)
			if (!IsUpperOrDash(line[i]))
				return false;
		size_t sp2 = line.find(' ', sp1 + 1);
		if (sp2 == std::string::npos || sp2 == sp1 + 1 || line.size() - sp2 != 9 ||
		    line.compare(sp2 + 1, 5, "HTTP/") != 0 || !IsDigit(line[sp2 + 6]) ||
		    line[sp2 + 7] != '.' || !IsDigit(line[sp2 + 8]))
			return false;
		info_.method = line.substr(0, sp1);
		if (!KnownMethod(info_.method))
			return false;
		info_.url = line.substr(sp1 + 1, sp2 - sp1 - 1);
		info_.version_major = line[sp2 + 6] - '0';
		info_.version_minor = line[sp2 + 8] - '0';
		body_null_ = false;
		body_bytes_ = 0;
		state_ = kHeader;
		return true;
	}
	case kResponseLine: {
		if (!ConsumeLine(&line) || line.empty())
			return true;
		// ^HTTP\/(\d)\.(\d) (\d{3}) ?(.*)$
		if (line.size() < 12 || line.compare(0, 5, "HTTP/") != 0 || !IsDigit(line[5]) ||
		    line[6] != '.' || !IsDigit(line[7]) || line[8] != ' ' || !IsDigit(line[9]) ||
		    !IsDigit(line[10]) || !IsDigit(line[11]))
			return false;
		size_t text = 12;
		if (text < line.size() && line[text] == ' ')
			text++;
		if (line.find('\r', text) != std::string::npos)
			return false;
		info_.version_major = line[5] - '0';
		info_.version_minor = line[7] - '0';
		info_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
		info_.status_text = line.substr(text);
		if (info_.status / 100 == 1 || info_.status == 204 || info_.status == 304) {
			body_null_ = false;
			body_bytes_ = 0;
		}
		state_ = kHeader;
		return true;
	}
	case kHeader:
		if (!ConsumeLine(&line))
			return true;
		if (!line.empty())
			return ParseHeader(line, false);
		return HeadersDone(stop);
	case kChunkHead:
		if (!ConsumeLine(&line))
			return true;
		body_null_ = false;
		body_bytes_ = JsParseIntHex(line);
		state_ = (body_bytes_ == 0 || std::isnan(body_bytes_)) ? kChunkTrailers : kChunk;
		return true;
	case kChunk: {
		double len = std::min(static_cast<double>(end_ - offset_), body_bytes_);
		if (std::isnan(body_bytes_))
			len = NAN;
		if (!OnBody(offset_, len))
			return false;
		offset_ += static_cast<size_t>(len);
		body_bytes_ -= len;
		if (body_bytes_ == 0)
			state_ = kChunkEmptyLine;
		return true;
	}
	case kChunkEmptyLine:
		if (!ConsumeLine(&line))
			return true;
		if (!line.empty())
			return false; // Expected empty line
		state_ = kChunkHead;
		return true;
	case kChunkTrailers:
		if (!ConsumeLine(&line))
			return true;
		if (!line.empty())
			return ParseHeader(line, true);
		NextMessage();
		return true;
	case kBodyRaw:
		if (!OnBody(offset_, static_cast<double>(end_ - offset_)))
			return false;
		offset_ = end_;
		return true;
	case kBodySized: {
		double len = std::min(static_cast<double>(end_ - offset_), body_bytes_);
		if (std::isnan(body_bytes_))
			len = NAN;
		if (!OnBody(offset_, len))
			return false;
		offset_ += static_cast<size_t>(len);
		body_bytes_ -= len;
		if (body_bytes_ == 0)
			NextMessage();
		return true;
	}
	}
	return false;
}

bool Http1MessageParser::HeadersDone(bool *stop)
{
	bool has_length = false;
	bool has_upgrade = false;
	for (const auto &h : info_.headers) {
		const std::string &name = h.first;
		if (EqualsLower(name, "transfer-encoding")) {
			is_chunked_ = EqualsLower(h.second, "chunked");
		} else if (EqualsLower(name, "content-length")) {
			double v = JsNumber(h.second);
			if (has_length) {
				// A repeated Content-Length must repeat the value (NaN never does).
				if (!(v == body_bytes_))
					return false;
			} else {
				has_length = true;
				body_null_ = false;
				body_bytes_ = v;
			}
		} else if (EqualsLower(name, "connection")) {
			for (char c : h.second)
				connection_ += static_cast<char>(Lower(static_cast<uint8_t>(c)));
		} else if (EqualsLower(name, "upgrade")) {
			has_upgrade = true;
		}
	}
	if (is_chunked_ && has_length) {
		has_length = false;
		body_null_ = true;
	}
	if (has_upgrade && connection_.find("upgrade") != std::string::npos)
		info_.upgrade = request_ || info_.status == 101;
	else
		info_.upgrade = request_ && info_.method == "CONNECT";
	if (is_chunked_ && info_.upgrade)
		is_chunked_ = false;
	bool keep_alive;
	if (info_.version_major > 0 && info_.version_minor > 0 &&
	    connection_.find("close") != std::string::npos)
		keep_alive = false;
	else if (!(info_.version_major > 0 && info_.version_minor > 0) &&
		 connection_.find("keep-alive") == std::string::npos)
		keep_alive = false;
	else
		keep_alive = !body_null_ || is_chunked_;
	info_.keep_alive = keep_alive;

	// The head goes to the message; http-parser-js's info is not read again before the next one.
	const bool upgrade = info_.upgrade;
	head_ = std::move(info_);
	info_ = Http1Head();
	have_head_ = true;
	bool skip = false;
	if (request_) // the head is held there from now on, not copied
		owner_->OnRequestHead(std::move(head_), have_start_ ? start_ns_ : 0);
	else
		skip = owner_->Bodiless();
	if (is_chunked_ && !skip) {
		state_ = kChunkHead;
	} else if (skip || (!body_null_ && body_bytes_ == 0)) {
		NextMessage();
		*stop = upgrade;
	} else if (body_null_) {
		state_ = kBodyRaw;
	} else {
		state_ = kBodySized;
	}
	return true;
}

// MessageParser's kOnBody: a length no sender could mean puts the stream out of step.
bool Http1MessageParser::OnBody(size_t offset, double len)
{
	if (!(len >= 0))
		return false;
	size_t n = static_cast<size_t>(len);
	msg_body_bytes_ += n;
	if (filling_)
		return true;
	size_t kept = body_.size();
	if (kept >= max_body_) {
		if (n > 0 && max_body_ > 0)
			body_truncated_ = true;
		return true;
	}
	size_t take = std::min<size_t>(max_body_ - kept, n);
	body_.append(reinterpret_cast<const char *>(data_ + offset), take);
	if (take < n)
		body_truncated_ = true;
	return true;
}

void Http1MessageParser::NextMessage()
{
	Complete();
	Initialize();
}

// MessageParser#complete.
void Http1MessageParser::Complete()
{
	if (!chunk_ || !have_head_)
		return;
	const Chunk &chunk = *chunk_;
	size_t offset = ended_by_eof_ ? 0 : offset_;
	bytes_ += offset - consumed_from_;
	consumed_from_ = offset;
	Http1Message m;
	m.request = request_;
	m.head = std::move(head_);
	m.bytes = bytes_;
	m.body_bytes = msg_body_bytes_;
	m.has_body = max_body_ > 0;
	if (m.has_body)
		m.body = std::move(body_);
	m.body_truncated = body_truncated_;
	m.start_ns = have_start_ ? start_ns_ : chunk.first_ns;
	m.end_ns = chunk.last_ns;
	m.ended_by_eof = ended_by_eof_;
	stats.messages++;
	head_ = Http1Head();
	have_head_ = false;
	bytes_ = 0;
	msg_body_bytes_ = 0;
	body_.clear();
	body_truncated_ = false;
	if (!ended_by_eof_ && offset < end_) {
		have_start_ = true;
		start_ns_ = chunk.first_ns;
	} else {
		have_start_ = false;
	}
	owner_->OnMessage(request_, m);
}

// ---- Http1Connection (http1-connection.ts) ----

Http1Connection::Http1Connection(uint32_t max_body_bytes, Http1ExchangeSink *sink,
				 size_t max_pending)
	: max_body_(max_body_bytes), max_pending_(max_pending), sink_(sink)
{
}

int Http1Connection::Role() const
{
	if (request_side_ < 0)
		return 0;
	return request_side_ == 1 ? 1 : 2;
}

Http1ParserStats Http1Connection::ParserStats() const
{
	Http1ParserStats s;
	for (const auto *p : {requests_.get(), responses_.get()}) {
		if (!p)
			continue;
		s.messages += p->stats.messages;
		s.skipped_bytes += p->stats.skipped_bytes;
		s.parse_errors += p->stats.parse_errors;
		s.desyncs += p->stats.desyncs;
		s.filled_gaps += p->stats.filled_gaps;
	}
	return s;
}

void Http1Connection::Push(bool outbound, const uint8_t *bytes, size_t cap_len, uint64_t length,
			   uint64_t first_ns, uint64_t last_ns)
{
	(outbound ? stats.outbound_bytes : stats.inbound_bytes) += length;
	if (stats.protocol == Http1ConnectionStats::kPending)
		Detect(outbound, bytes, cap_len);
	if (stats.protocol != Http1ConnectionStats::kHttp1)
		return;
	auto &parser = (outbound ? 1 : 0) == request_side_ ? requests_ : responses_;
	parser->Push(bytes, cap_len, length, first_ns, last_ns);
	// After an upgrade the bytes are another protocol: only counted from now on.
	if (upgraded_)
		stats.protocol = Http1ConnectionStats::kOther;
}

void Http1Connection::End(uint64_t ns)
{
	if (requests_)
		requests_->End(ns);
	if (responses_)
		responses_->End(ns);
	stats.unanswered_requests += pending_.size();
	pending_.clear();
	in_progress_ = nullptr;
}

void Http1Connection::Detect(bool outbound, const uint8_t *bytes, size_t cap_len)
{
	if (Http1LooksLikeStart(bytes, cap_len, true)) {
		request_side_ = outbound ? 1 : 0;
	} else if (Http1LooksLikeStart(bytes, cap_len, false)) {
		request_side_ = outbound ? 0 : 1;
	} else {
		stats.protocol = Http1ConnectionStats::kOther;
		return;
	}
	stats.protocol = Http1ConnectionStats::kHttp1;
	requests_ = std::make_unique<Http1MessageParser>(true, max_body_, this);
	responses_ = std::make_unique<Http1MessageParser>(false, max_body_, this);
}

void Http1Connection::OnRequestHead(Http1Head &&head, uint64_t start_ns)
{
	Pending p;
	p.head = std::move(head);
	p.start_ns = start_ns;
	pending_.push_back(std::move(p));
	in_progress_ = &pending_.back();
	if (pending_.size() > max_pending_) {
		PopFront();
		stats.pending_dropped++;
	}
}

void Http1Connection::PopFront()
{
	if (&pending_.front() == in_progress_)
		in_progress_ = nullptr;
	pending_.pop_front();
}

bool Http1Connection::Bodiless() const
{
	return !pending_.empty() && pending_.front().head.method == "HEAD";
}

void Http1Connection::OnResponseDesync()
{
	// The response in progress was lost; its request will get no other.
	if (!pending_.empty()) {
		PopFront();
		stats.unanswered_requests++;
	}
}

void Http1Connection::OnMessage(bool request, Http1Message &m)
{
	if (request) {
		// The message's head is its pending request's (in_progress_), handed there by the
		// parser. The first request not done takes the message: that one, unless an older
		// request never completed (its parse failed), which then takes this head with it.
		for (auto &p : pending_) {
			if (!p.done) {
				p.done = true;
				p.message = std::move(m);
				if (&p != in_progress_) {
					if (in_progress_)
						p.message.head = in_progress_->head;
					p.own_head = true;
				}
				break;
			}
		}
		in_progress_ = nullptr;
		return;
	}
	int status = m.head.status;
	// 1xx are interim (100 Continue, 103 Early Hints): the final response follows.
	if (status >= 100 && status < 200 && status != 101)
		return;
	if (pending_.empty()) {
		stats.unpaired_responses++;
		return;
	}
	Pending req = std::move(pending_.front());
	PopFront();
	Http1Exchange ex;
	ex.server = request_side_ == 0;
	if (req.done) {
		// The request parser handed its head to the pending request, not to the message.
		ex.request = std::move(req.message);
		if (!req.own_head)
			ex.request.head = std::move(req.head);
	} else {
		// The request's body may still be streaming when the server answers (e.g. 413).
		ex.request.request = true;
		ex.request.head = std::move(req.head);
		ex.request.body_truncated = true;
		ex.request.start_ns = req.start_ns;
		ex.request.end_ns = m.start_ns;
	}
	ex.response = std::move(m);
	stats.exchanges++;
	bool connect = ex.request.head.method == "CONNECT";
	sink_->OnExchange(ex);
	// After 101 Switching Protocols or a successful CONNECT, the bytes are another protocol.
	if (status == 101 || (connect && status < 300))
		upgraded_ = true;
}

} // namespace firesight

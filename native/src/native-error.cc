#include "native-error.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace firesight {
namespace {

std::mutex log_mutex;
std::string log_tail;
constexpr size_t kLogKeep = 8192;

int LibbpfPrint(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, args);
	std::lock_guard<std::mutex> lock(log_mutex);
	log_tail.append(line);
	if (log_tail.size() > kLogKeep)
		log_tail.erase(0, log_tail.size() - kLogKeep);
	return n;
}

} // namespace

void InstallLibbpfLogger()
{
	libbpf_set_print(LibbpfPrint);
}

std::string TakeLibbpfLog()
{
	std::lock_guard<std::mutex> lock(log_mutex);
	std::string out;
	out.swap(log_tail);
	return out;
}

Napi::Error NativeError(Napi::Env env, const std::string &op, int err)
{
	if (err < 0)
		err = -err;
	Napi::Error e = Napi::Error::New(env, op + ": " + strerror(err));
	e.Value().Set("op", op);
	e.Value().Set("errno", err);
	e.Value().Set("detail", TakeLibbpfLog());
	return e;
}

} // namespace firesight

// Errors that cross into JavaScript: a plain Error carrying the failed operation, the errno and
// libbpf's last log lines. native/src/native-error.ts turns them into NativeError with advice.
#pragma once

#include <napi.h>

#include <string>

namespace firesight {

// Collects libbpf's warnings (verifier logs included) so a failed load can show them.
// Called on whichever thread libbpf logs from; guarded by a mutex inside.
void InstallLibbpfLogger();
std::string TakeLibbpfLog();

// An exception that napi turns into a JS Error with {op, errno, detail}. Main thread only.
Napi::Error NativeError(Napi::Env env, const std::string &op, int err);

} // namespace firesight

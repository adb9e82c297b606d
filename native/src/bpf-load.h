// Loading a BPF object so that signals cannot make the verifier give up.
//
// The verifier stops with EAGAIN as soon as a signal is pending for the loading thread, and a big
// program (the profile walker) takes from a quarter to a whole second to check. A process that
// receives signals at a steady rate (V8's CPU profiler sends SIGPROF every millisecond; a busy
// parent sends SIGCHLD) then never loads: libbpf's own five retries of the syscall meet the next
// signal each time. So the asynchronous signals are held back on the loading thread for the load
// and delivered right after it, and a load that still ends with EAGAIN (task work notifications,
// which a mask does not hold) is tried again from a fresh object, a bounded number of times.
#pragma once

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include <atomic>

namespace firesight {

// Whole loads tried before EAGAIN is reported.
constexpr int kBpfLoadAttempts = 3;

// Runs load() with every signal but the synchronous ones (faults the load itself could raise)
// held back on the calling thread. Process-directed signals go to another thread meanwhile;
// thread-directed ones wait until the load ends. Returns load()'s result. Any thread.
template <typename Load> int LoadWithSignalsHeld(Load load)
{
	sigset_t held, old;
	sigfillset(&held);
	for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT})
		sigdelset(&held, sig);
	pthread_sigmask(SIG_BLOCK, &held, &old);
	int err = load();
	pthread_sigmask(SIG_SETMASK, &old, nullptr);
	return err;
}

// Says once per process that a load was interrupted and is tried again. Any thread.
inline void NoteBpfLoadRetry(const char *what, int attempt)
{
	static std::atomic<bool> said{false};
	if (!said.exchange(true))
		fprintf(stderr,
			"firesight: loading %s was interrupted (EAGAIN), attempt %d of %d\n", what,
			attempt + 1, kBpfLoadAttempts);
}

} // namespace firesight

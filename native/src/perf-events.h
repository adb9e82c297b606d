// One software cpu-clock perf event per online CPU, each with the BPF program attached.
#pragma once

#include <bpf/libbpf.h>

#include <vector>

namespace firesight {

// Online CPU numbers, from /sys/devices/system/cpu/online. Any thread.
std::vector<int> OnlineCpus();

// RAII owner of the per-CPU perf events and their BPF links. Main thread.
class PerfEventLinks {
public:
	PerfEventLinks() = default;
	PerfEventLinks(const PerfEventLinks &) = delete;
	PerfEventLinks &operator=(const PerfEventLinks &) = delete;
	~PerfEventLinks() { Close(); }

	// Opens cpu-clock at `frequency` Hz on every online CPU and attaches `prog`.
	// Returns 0, or a negative errno with *failed_op naming the step that failed.
	int Attach(struct bpf_program *prog, unsigned frequency, const char **failed_op);
	void Close();

private:
	std::vector<int> fds_;
	std::vector<struct bpf_link *> links_;
};

} // namespace firesight

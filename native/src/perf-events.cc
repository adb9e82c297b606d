#include "perf-events.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace firesight {

std::vector<int> OnlineCpus()
{
	std::vector<int> cpus;
	std::ifstream in("/sys/devices/system/cpu/online");
	std::string list;
	std::getline(in, list);
	std::stringstream ranges(list);
	std::string range;
	while (std::getline(ranges, range, ',')) {
		int lo = 0, hi = 0;
		if (sscanf(range.c_str(), "%d-%d", &lo, &hi) == 2) {
			for (int c = lo; c <= hi; c++)
				cpus.push_back(c);
		} else if (sscanf(range.c_str(), "%d", &lo) == 1) {
			cpus.push_back(lo);
		}
	}
	return cpus;
}

int PerfEventLinks::Attach(struct bpf_program *prog, unsigned frequency, const char **failed_op)
{
	for (int cpu : OnlineCpus()) {
		struct perf_event_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.size = sizeof(attr);
		attr.type = PERF_TYPE_SOFTWARE;
		attr.config = PERF_COUNT_SW_CPU_CLOCK;
		attr.freq = 1;
		attr.sample_freq = frequency;
		int fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			if (errno == ENODEV) /* went offline since we listed it */
				continue;
			*failed_op = "perf_event_open";
			return -errno;
		}
		fds_.push_back(fd);
		struct bpf_link *link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			*failed_op = "bpf_program__attach_perf_event";
			return -errno;
		}
		links_.push_back(link);
	}
	return 0;
}

void PerfEventLinks::Close()
{
	for (auto *link : links_)
		bpf_link__destroy(link);
	links_.clear();
	for (int fd : fds_)
		close(fd);
	fds_.clear();
}

} // namespace firesight

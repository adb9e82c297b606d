// RangeAllocator: first-fit ranges of slots in a fixed-size BPF array (the unwind rows and rules),
// with freed neighbours merged so that tables of every size keep finding room. Main thread only.
#pragma once

#include <cstdint>
#include <map>

namespace firesight {

class RangeAllocator {
public:
	explicit RangeAllocator(uint32_t capacity)
	{
		if (capacity)
			free_[0] = capacity;
	}

	// The start of n free slots, or false when no free range holds n.
	bool Alloc(uint32_t n, uint32_t *start)
	{
		if (n == 0) {
			*start = 0;
			return true;
		}
		for (auto it = free_.begin(); it != free_.end(); ++it) {
			if (it->second < n)
				continue;
			*start = it->first;
			uint32_t rest = it->second - n;
			free_.erase(it);
			if (rest)
				free_[*start + n] = rest;
			return true;
		}
		return false;
	}

	void Free(uint32_t start, uint32_t n)
	{
		if (n == 0)
			return;
		auto next = free_.lower_bound(start);
		if (next != free_.end() && start + n == next->first) {
			n += next->second;
			next = free_.erase(next);
		}
		if (next != free_.begin()) {
			auto prev = std::prev(next);
			if (prev->first + prev->second == start) {
				prev->second += n;
				return;
			}
		}
		free_[start] = n;
	}

private:
	std::map<uint32_t, uint32_t> free_; // start -> length
};

} // namespace firesight

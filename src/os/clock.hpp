// Clocks. Both go through the vDSO: no syscall.
#pragma once

#include <cstdint>

namespace riptide::os {

uint64_t monotonic_ms();
struct WallTime {
    int64_t sec;
    int64_t usec;
};
WallTime wall_time();
// Broken-down local time, for log timestamps.
void local_time_fields(int64_t sec, int& year, int& mon, int& mday, int& hour, int& min, int& s, long& gmtoff);

}  // namespace riptide::os

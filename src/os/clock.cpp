#include "os/clock.hpp"

#include <time.h>

namespace riptide::os {

uint64_t monotonic_ms() {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

WallTime wall_time() {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return {ts.tv_sec, ts.tv_nsec / 1000};
}

void local_time_fields(int64_t sec, int& year, int& mon, int& mday, int& hour, int& min, int& s, long& gmtoff) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    ::localtime_r(&t, &tm);
    year = tm.tm_year + 1900;
    mon = tm.tm_mon + 1;
    mday = tm.tm_mday;
    hour = tm.tm_hour;
    min = tm.tm_min;
    s = tm.tm_sec;
    gmtoff = tm.tm_gmtoff;
}

}  // namespace riptide::os

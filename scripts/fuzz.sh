#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS
# (default 5) from its seed corpus in tests/fuzz/corpus/<name>. New inputs go to a
# scratch copy; crashes are kept in build-fuzz/crashes/.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
shift || true
build=${BUILD_FUZZ:-build-fuzz}
scripts/deps.sh clang libclang-rt-14-dev >/dev/null
if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DRIPTIDE_FUZZ=ON -DRIPTIDE_TESTS=OFF -DRIPTIDE_WERROR=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
mkdir -p "$build/crashes"
fail=0
for t in "${targets[@]}"; do
    seeds="tests/fuzz/corpus/${t%_fuzz}"
    work="$build/corpus/${t%_fuzz}"
    mkdir -p "$work" "$seeds"
    cp -n "$seeds"/* "$work"/ 2>/dev/null || true
    if out=$("$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build/crashes/$t-" "$work" 2>&1); then
        echo "fuzz $t: $(grep -Eo 'Done [0-9]+ runs' <<<"$out" | head -1 || true) in ${secs}s, no crash"
    else
        echo "fuzz $t: FAILED"; tail -30 <<<"$out"; fail=1
    fi
done
exit $fail

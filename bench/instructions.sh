#!/usr/bin/env bash
# bench/instructions.sh - user-space instructions per request, counted by callgrind.
#
# Usage: bench/instructions.sh [-n REQUESTS] [-c CONNS] [-f FUNCS] [-o DIR] [PATH]
#
#   -n REQUESTS  requests counted (default 20000), after 2000 to warm up
#   -c CONNS     keep-alive connections of the client (default 10)
#   -f FUNCS     functions listed, by self cost (default 25)
#   -o DIR       keep the callgrind output there (default: a temporary directory)
#   PATH         request path (default /index.html: a 612-byte file)
#
# Runs RIPTIDE_BIN (default build/riptide) with one worker under
# valgrind --tool=callgrind, serves a generated document root, and drives it
# with a keep-alive client (bench/instr_client.py) that sends wrk's request
# ("GET PATH HTTP/1.1" and a Host field) one at a time per connection and reads
# each answer whole. The worker's counters are zeroed after the warm-up and dumped
# after the counted requests, so the figure is the worker's instructions
# (user space only: the kernel is not counted) divided by the requests answered.
# Instruction counts hardly move from run to run, unlike times on a shared
# machine: use this to compare two builds of the per-request path.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
BIN=${RIPTIDE_BIN:-$REPO/build/riptide}
N=20000 CONNS=10 FUNCS=25 OUT=""
while getopts "n:c:f:o:h" opt; do
    case $opt in
        n) N=$OPTARG ;;
        c) CONNS=$OPTARG ;;
        f) FUNCS=$OPTARG ;;
        o) OUT=$OPTARG ;;
        h) sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
URLPATH=${1:-/index.html}

command -v valgrind >/dev/null || "$BENCH_DIR/setup.sh" -q || exit 1
[ -x "$BIN" ] || { echo "instructions.sh: no binary at $BIN (build first)" >&2; exit 1; }

TMP=$(mktemp -d)
[ -n "$OUT" ] || OUT=$TMP/out
mkdir -p "$OUT" "$TMP/www"
head -c 612 /dev/zero | tr '\0' 'a' >"$TMP/www/index.html"
head -c 65536 /dev/zero | tr '\0' 'b' >"$TMP/www/64k.bin"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
setsid valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$OUT/callgrind.out.%p" \
    "$BIN" --root "$TMP/www" --listen "127.0.0.1:$PORT" --workers 1 \
    >"$OUT/valgrind.log" 2>&1 &
LEADER=$!
cleanup() { kill -TERM -- -"$LEADER" 2>/dev/null || true; sleep 1; rm -rf "$TMP"; }
trap cleanup EXIT

for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
    sleep 0.2
done
# valgrind runs the master in the process it was started as; the worker is its child.
W=""
for _ in $(seq 50); do
    W=$(pgrep -P "$LEADER" | head -1 || true)
    [ -n "$W" ] && break
    sleep 0.1
done
WORKER=${W:?no worker process found}

python3 "$BENCH_DIR/instr_client.py" 127.0.0.1 "$PORT" "$URLPATH" 2000 "$CONNS" >/dev/null
callgrind_control -z "$WORKER" >/dev/null 2>&1
python3 "$BENCH_DIR/instr_client.py" 127.0.0.1 "$PORT" "$URLPATH" "$N" "$CONNS" >"$OUT/client.txt"
callgrind_control -d "$WORKER" >/dev/null 2>&1
sleep 0.5
DUMP=$(ls -t "$OUT"/callgrind.out."$WORKER".* | head -1)
TOTAL=$(sed -n 's/^summary: //p' "$DUMP")
echo "path $URLPATH: $N requests, $CONNS connections"
echo "instructions per request: $((TOTAL / N))  (worker total $TOTAL)"
echo
echo "self instructions per request, by function:"
callgrind_annotate --threshold=100 --auto=no "$DUMP" 2>/dev/null |
    awk -v n="$N" -v k="$FUNCS" '
        /^-+$/ { sep++; next }
        sep >= 5 && $1 ~ /^[0-9,]+$/ && $0 !~ /PROGRAM TOTALS/ {
            ir = $1; gsub(",", "", ir)
            line = $0; sub(/^ *[0-9,]+ *\([^)]*\) */, "", line)
            sub(/^[^:]*:/, "", line); sub(/ \[[^]]*\]$/, "", line)
            if (length(line) > 110) line = substr(line, 1, 107) "..."
            rows[++m] = sprintf("%8.1f  %s", ir / n, line)
        }
        END { for (i = 1; i <= m && i <= k + 7; i++) print rows[i] }' |
    grep -vE '(below main)|__libc_start|run_master|Master::spawn|  main$|0x0000' | head -"$FUNCS"

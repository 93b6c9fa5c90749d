#!/usr/bin/env bash
# bench/scale.sh - the scale test: K concurrent idle keep-alive connections held
# by one riptide (master + W workers), all still open after a hold, the active
# latency (wrk p99) with them held against without, and the memory they cost.
#
# Usage: bench/scale.sh [options]
#
#   -k K      idle keep-alive connections (default 100000)
#   -s SECS   idle hold after the "with" wrk runs, before the final count (default 60)
#   -w N      riptide worker processes (default 8; each has its own SO_REUSEPORT
#             socket, so the kernel spreads the connections over them by hash)
#   -d SECS   length of each wrk run (default 10)
#   -c N      wrk connections (default 50; wrk -t1 --latency)
#   -r N      wrk runs per state (default 3): without the idle connections, with
#             them held, and after they are closed again (a drift control);
#             the p99 of a state is the median of its runs
#   -p N      connections per client process, at most (default 12500, max 15000);
#             client i binds source address 127.0.0.(i+1)
#   --inflight N  handshakes in flight per client process (default 128)
#   --port P  server port (default: the first free one from 27080)
#   -o DIR    output directory (default bench/out/scale-<timestamp>)
#   -h        this text
#
# Environment: RIPTIDE_BIN (default build/riptide).
#
# What it does, all bounded in time: raises its open-file limit to the hard
# limit (the clients and riptide's workers inherit it; the workers raise theirs
# to the hard limit too); reads and reports the kernel limits that matter
# (net.ipv4.ip_local_port_range, fs.file-max, fs.file-nr, fs.nr_open,
# net.core.somaxconn, net.netfilter.nf_conntrack_max, ...) and raises one only
# if it is too small for K and writable, restoring it on exit; writes a
# docroot with a 612-byte index.html and a riptide config (W workers,
# worker_connections 19000, keepalive_timeout long enough for the whole test,
# access_log off); starts riptide in its own session; then
#   1. wrk without idle connections (R runs)          -> p99 "without"
#   2. RSS (sum of VmRSS of every riptide process), open fds per worker
#   3. ceil(K/p) client processes (bench/scale_client.py) open K connections,
#      one GET and its whole reply on each, then hold them idle; check 1 counts
#      how many are open (non-blocking recv: EAGAIN = open, EOF/reset = closed)
#   4. RSS again -> bytes per connection
#   5. wrk with the K connections held (R runs)       -> p99 "with"
#   6. idle hold of SECS seconds: riptide CPU (utime+stime of every process)
#   7. check 2: how many of the K are still open; RSS again
#   8. the clients close everything (RST), wrk again (R runs) -> p99 "after"
# Writes OUT/report.md (also printed) and raw files (wrk outputs, config,
# server log, client answers, /proc/net/sockstat) under OUT/raw/.
# Traffic goes to 127.0.0.1 only (sources 127.0.0.1 for wrk, 127.0.0.2.. for the
# clients). Every process it starts is stopped by PID or process group on exit,
# error or Ctrl-C.

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
HOST=127.0.0.1
K=100000
HOLD=60
WORKERS=8
DURATION=10
CONNS=50
RUNS=3
PER=12500
INFLIGHT=128
PORT=""
OUT=""
RIPTIDE_BIN=${RIPTIDE_BIN:-$REPO/build/riptide}
COMMAND_LINE="bench/scale.sh${*:+ $*}"
TARGET_RATIO=1.20

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "bench/scale.sh: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
isint() { case $1 in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }

while [ $# -gt 0 ]; do
  case $1 in
    -k) [ $# -ge 2 ] || die "-k needs a value"; K=$2; shift 2 ;;
    -s) [ $# -ge 2 ] || die "-s needs a value"; HOLD=$2; shift 2 ;;
    -w) [ $# -ge 2 ] || die "-w needs a value"; WORKERS=$2; shift 2 ;;
    -d) [ $# -ge 2 ] || die "-d needs a value"; DURATION=$2; shift 2 ;;
    -c) [ $# -ge 2 ] || die "-c needs a value"; CONNS=$2; shift 2 ;;
    -r) [ $# -ge 2 ] || die "-r needs a value"; RUNS=$2; shift 2 ;;
    -p) [ $# -ge 2 ] || die "-p needs a value"; PER=$2; shift 2 ;;
    --inflight) [ $# -ge 2 ] || die "$1 needs a value"; INFLIGHT=$2; shift 2 ;;
    --port) [ $# -ge 2 ] || die "$1 needs a value"; PORT=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || die "-o needs a value"; OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
for v in K HOLD WORKERS DURATION CONNS RUNS PER INFLIGHT; do
  isint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
[ "$K" -ge 1 ] && [ "$K" -le 250000 ] || die "-k must be 1..250000"
[ "$HOLD" -ge 1 ] && [ "$HOLD" -le 1800 ] || die "-s must be 1..1800"
[ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 64 ] || die "-w must be 1..64"
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 120 ] || die "-d must be 1..120"
[ "$CONNS" -ge 1 ] && [ "$CONNS" -le 1000 ] || die "-c must be 1..1000"
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 9 ] || die "-r must be 1..9"
[ "$PER" -ge 1 ] && [ "$PER" -le 15000 ] || die "-p must be 1..15000"
[ "$INFLIGHT" -ge 1 ] && [ "$INFLIGHT" -le 4096 ] || die "--inflight must be 1..4096"
if [ -n "$PORT" ]; then isint "$PORT" && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65535 ] || die "--port must be 1024..65535"; fi
NCLIENTS=$(( (K + PER - 1) / PER ))
[ "$NCLIENTS" -le 250 ] || die "too many client processes ($NCLIENTS): raise -p"

export PATH="$PATH:/usr/sbin:/sbin"
NEED_TOOLS="wrk python3 curl cmp timeout pgrep ss"
missing_tools() { local t m=""; for t in $NEED_TOOLS; do command -v "$t" >/dev/null 2>&1 || m="$m $t"; done; echo "$m"; }
if [ -n "$(missing_tools)" ]; then
  log "missing:$(missing_tools); running bench/setup.sh"
  "$BENCH_DIR/setup.sh" || die "bench/setup.sh failed"
  [ -z "$(missing_tools)" ] || die "still missing:$(missing_tools)"
fi
[ -x "$RIPTIDE_BIN" ] || die "riptide is not built: $RIPTIDE_BIN (cmake --build build)"
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ output, temp dir
[ -n "$OUT" ] || OUT=$REPO/bench/out/scale-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT/raw" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/report.md"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/riptide-scale.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"
ROOT=$TMP/www

# ------------------------------------------------------------------ processes, cleanup
BG_PIDS=()        # our background children (wrk, clients, the server)
SRV_PID=""        # riptide's master = its process group id (own session)
SYSCTL_RESTORE=() # "path<TAB>original value" of every sysctl we changed

proc_fields() { # pid -> the fields of /proc/PID/stat after the command name, in PF
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a PF <<< "${s##*) }"      # PF[0] = state, PF[11] = utime, PF[12] = stime
}
alive() { local PF; proc_fields "$1" || return 1; [ "${PF[0]}" != Z ] && [ "${PF[0]}" != X ]; }
forget() { local i; for i in "${!BG_PIDS[@]}"; do [ "${BG_PIDS[$i]}" = "$1" ] && unset 'BG_PIDS[i]'; done; }
stop_pid() { # pid [signal]: signal, wait up to 5 s, KILL, reap
  local p=$1 sig=${2:-TERM} i
  [ -n "$p" ] || return 0
  if alive "$p"; then
    kill "-$sig" "$p" 2>/dev/null
    for i in $(seq 1 50); do alive "$p" || break; sleep 0.1; done
    alive "$p" && kill -KILL "$p" 2>/dev/null
  fi
  wait "$p" 2>/dev/null
  forget "$p"
}
server_pids() { [ -n "$SRV_PID" ] && pgrep -g "$SRV_PID" 2>/dev/null | tr '\n' ' '; }
stop_server() {
  [ -n "$SRV_PID" ] || return 0
  local i
  kill -TERM -- "-$SRV_PID" 2>/dev/null
  for i in $(seq 1 100); do [ -z "$(server_pids)" ] && break; sleep 0.1; done
  if [ -n "$(server_pids)" ]; then
    log "riptide did not stop on SIGTERM within 10 s: SIGKILL to its process group"
    kill -KILL -- "-$SRV_PID" 2>/dev/null
    for i in $(seq 1 30); do [ -z "$(server_pids)" ] && break; sleep 0.1; done
  fi
  wait "$SRV_PID" 2>/dev/null
  forget "$SRV_PID"
  [ -f "$TMP/srv/server.log" ] && cp "$TMP/srv/server.log" "$OUT/raw/riptide.log"
  [ -s "$TMP/srv/error.log" ] && cp "$TMP/srv/error.log" "$OUT/raw/riptide.error.log"
  SRV_PID=""
}
restore_sysctls() {
  local e path val
  for e in "${SYSCTL_RESTORE[@]}"; do
    path=${e%%$'\t'*}; val=${e#*$'\t'}
    if printf '%s\n' "$val" > "$path" 2>/dev/null; then log "restored $path = $val"
    else log "warning: could not restore $path to '$val'"; fi
  done
  SYSCTL_RESTORE=()
}
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  [ -n "${TMP:-}" ] && [ -d "$TMP" ] && touch "$TMP"/ctl.*.release 2>/dev/null   # clients close and exit
  for p in "${BG_PIDS[@]}"; do [ "$p" != "$SRV_PID" ] && stop_pid "$p" TERM; done
  stop_server
  for p in "${BG_PIDS[@]}"; do stop_pid "$p" KILL; done
  restore_sysctls
  [ -n "${TMP:-}" ] && [ -d "$TMP" ] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

# run a command as a background child and wait for it (so signals reach our trap)
run_wait() { # outfile cmd...
  local out=$1; shift
  "$@" >"$out" 2>&1 &
  local p=$!
  BG_PIDS+=("$p")
  wait "$p"; local rc=$?
  forget "$p"
  return "$rc"
}

# ------------------------------------------------------------------ limits
HARD_NOFILE=$(ulimit -Hn)
SOFT_NOFILE0=$(ulimit -n)
ulimit -n "$HARD_NOFILE" 2>/dev/null
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
[ "$PER" -le $(( NOFILE - 64 )) ] || die "-p $PER needs more open files than the limit $NOFILE allows a client process"
WC=19000
[ "$WC" -gt $(( NOFILE - 100 )) ] && WC=$(( NOFILE - 100 ))
CAPACITY=$(( WORKERS * WC ))
[ "$K" -le "$CAPACITY" ] || log "warning: K=$K exceeds $WORKERS workers x $WC worker_connections = $CAPACITY: not all can be held"
[ "$K" -le $(( CAPACITY * 9 / 10 )) ] || log "warning: K=$K is above 90% of $CAPACITY: an uneven spread over the workers may hit one worker's limit"

sysctl_path() { echo "/proc/sys/${1//.//}"; }
sysctl_get() { local p; p=$(sysctl_path "$1"); [ -r "$p" ] && tr -s ' \t' ' ' < "$p" || echo "-"; }
# raise a one-number sysctl to at least MIN if it is below and writable
SYSCTL_NOTES=()
ensure_sysctl() { # name min why
  local name=$1 min=$2 why=$3 p cur
  p=$(sysctl_path "$name")
  [ -r "$p" ] || return 0
  cur=$(cat "$p")
  isint "$cur" || return 0
  [ "$cur" -ge "$min" ] && return 0
  if [ -w "$p" ] && printf '%s\n' "$min" > "$p" 2>/dev/null; then
    SYSCTL_RESTORE+=("$p"$'\t'"$cur")
    SYSCTL_NOTES+=("$name raised from $cur to $min ($why); restored on exit")
    log "raised $name from $cur to $min ($why)"
  else
    SYSCTL_NOTES+=("$name is $cur, below the $min needed ($why), and not writable")
    log "warning: $name is $cur < $min needed ($why) and cannot be changed"
  fi
}

LIMITS_BEFORE=$TMP/limits.txt
{
  printf '| limit | value |\n|---|---|\n'
  printf '| `ulimit -n` (soft / hard) | %s at start, raised to %s / %s |\n' "$SOFT_NOFILE0" "$NOFILE" "$HARD_NOFILE"
  for n in net.ipv4.ip_local_port_range fs.file-max fs.file-nr fs.nr_open net.core.somaxconn \
           net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_syncookies net.netfilter.nf_conntrack_max \
           net.netfilter.nf_conntrack_count net.ipv4.tcp_mem net.ipv4.tcp_max_orphans kernel.pid_max; do
    printf '| `%s` | %s |\n' "$n" "$(sysctl_get "$n")"
  done
  printf '| memory (MemTotal / MemAvailable) | %s / %s kB |\n' \
    "$(awk '/^MemTotal:/{print $2}' /proc/meminfo)" "$(awk '/^MemAvailable:/{print $2}' /proc/meminfo)"
} > "$LIMITS_BEFORE"

# ephemeral ports: each client's connections come from its own source address;
# with IP_BIND_ADDRESS_NO_PORT a source port is needed per (source, destination)
# 4-tuple, so a client needs PER ports out of the range (plus some slack)
read -r PLO PHI < <(sysctl_get net.ipv4.ip_local_port_range)
if isint "${PLO:-x}" && isint "${PHI:-x}"; then
  NPORTS=$(( PHI - PLO + 1 ))
  NEED_PORTS=$(( PER + 1000 + CONNS ))
  if [ "$NPORTS" -lt "$NEED_PORTS" ]; then
    p=$(sysctl_path net.ipv4.ip_local_port_range)
    nlo=$(( PHI - NEED_PORTS + 1 )); [ "$nlo" -lt 1024 ] && nlo=1024
    if [ -w "$p" ] && printf '%s\t%s\n' "$nlo" "$PHI" > "$p" 2>/dev/null; then
      SYSCTL_RESTORE+=("$p"$'\t'"$PLO	$PHI")
      SYSCTL_NOTES+=("net.ipv4.ip_local_port_range widened from $PLO-$PHI to $nlo-$PHI ($PER connections per source address); restored on exit")
      PLO=$nlo
    else
      SYSCTL_NOTES+=("net.ipv4.ip_local_port_range $PLO-$PHI has $NPORTS ports, fewer than the $NEED_PORTS one source address needs, and is not writable: lower -p")
    fi
  fi
fi
FILES_IN_USE=$(awk '{print $1}' /proc/sys/fs/file-nr 2>/dev/null || echo 0)
ensure_sysctl fs.file-max $(( FILES_IN_USE + 2 * K + 20000 )) "both ends of $K connections are on this machine"
if [ -r /proc/sys/net/netfilter/nf_conntrack_max ]; then
  CT_NOW=$(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0)
  ensure_sysctl net.netfilter.nf_conntrack_max $(( CT_NOW + K + K / 5 + 10000 )) "if conntrack tracks loopback, one entry per connection"
fi

# ------------------------------------------------------------------ docroot, config
python3 - "$ROOT" <<'PY' || die "cannot create the docroot"
import os, sys
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
head = (b"<!DOCTYPE html>\n<html>\n<head>\n<title>riptide bench</title>\n</head>\n"
        b"<body>\n<h1>riptide bench</h1>\n<p>")
tail = b"</p>\n</body>\n</html>\n"
text = b"A fixed page for the benchmark, exactly six hundred and twelve bytes long. " * 12
page = head + text[:612 - len(head) - len(tail)] + tail
assert len(page) == 612
with open(os.path.join(root, "index.html"), "wb") as f:
    f.write(page)
os.chmod(os.path.join(root, "index.html"), 0o644)
os.chmod(root, 0o755)
PY

port_free() { [ -z "$(ss -Htan "( sport = :$1 or dport = :$1 )" 2>/dev/null)" ]; }
if [ -z "$PORT" ]; then
  for p in $(seq 27080 27280); do port_free "$p" && { PORT=$p; break; }; done
  [ -n "$PORT" ] || die "no free port in 27080..27280"
else
  port_free "$PORT" || die "port $PORT is in use"
fi
if isint "${PLO:-x}" && [ "$PORT" -ge "$PLO" ] && [ "$PORT" -le "${PHI:-0}" ]; then
  log "warning: port $PORT is inside the ephemeral range $PLO-$PHI"
fi

# the clients open for up to ~4 min, then wrk runs and the hold follow: the
# keep-alive timeout must outlast all of it (with a margin)
KA_TIMEOUT=$(( 240 + RUNS * (DURATION + 2) + HOLD + 300 ))
CLIENT_LIFE=$(( 240 + 2 * RUNS * (DURATION + 2) + HOLD + 600 ))
SRV=$TMP/srv; mkdir -p "$SRV"
cat > "$SRV/riptide.conf" <<EOF
worker_processes $WORKERS;
error_log $SRV/error.log;
pid $SRV/riptide.pid;
events { worker_connections $WC; }
http {
    access_log off;
    keepalive_timeout ${KA_TIMEOUT}s;
    keepalive_requests 10000000;
    server {
        listen $HOST:$PORT;
        root $ROOT;
    }
}
EOF
cp "$SRV/riptide.conf" "$OUT/raw/riptide.conf"
SRV_CMD=("$RIPTIDE_BIN" -p "$SRV" -c "$SRV/riptide.conf")
echo "${SRV_CMD[*]}" > "$OUT/raw/riptide.cmd"

# ------------------------------------------------------------------ measurements
rss_kb() { # pids... -> sum of VmRSS in kB
  local p t=0 v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
    t=$(( t + ${v:-0} ))
  done
  echo "$t"
}
cpu_ticks() { # pids... -> sum of utime+stime
  local p t=0 PF
  for p in "$@"; do proc_fields "$p" || continue; t=$(( t + PF[11] + PF[12] )); done
  echo "$t"
}
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
workers() { local p; for p in $(server_pids); do [ "$p" != "$SRV_PID" ] && echo -n "$p "; done; }
# per-worker table row: the open fds of each worker
fds_row() { local p s=""; for p in $(workers); do s="$s $(nfds "$p")"; done; echo "${s# }"; }
ticks_row() { local p s=""; for p in $(workers); do s="$s $(cpu_ticks "$p")"; done; echo "${s# }"; }
sockstat() { tr '\n' ' ' < /proc/net/sockstat | sed 's/  */ /g'; }
established() { ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l; }

# wrk -> "p99_us p50_us req_per_s errors"
wrk_parse() { # file
  awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return (v + 0) * 1000;
                     if (v ~ /m$/) return (v + 0) * 60000000; if (v ~ /s$/) return (v + 0) * 1000000; return -1 }
    /^ *50%/ { p50 = us($2) } /^ *99%/ { p99 = us($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx/ { err += $NF }
    END { printf "%s %s %s %d\n", (p99 == "" ? "-" : p99), (p50 == "" ? "-" : p50), (rps == "" ? "-" : rps), err + 0 }' "$1"
}
WRK_LINES=()
wrk_state() { # state -> appends to WRK_LINES; sets STATE_P99 (median over the runs)
  local st=$1 i f r p99s=()
  for i in $(seq 1 "$RUNS"); do
    f=$OUT/raw/wrk-$st-$i.txt
    run_wait "$f" timeout -k 5 $(( DURATION + 30 )) wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://$HOST:$PORT/index.html"
    r=$(wrk_parse "$f")
    read -r p99 p50 rps err <<< "$r"
    WRK_LINES+=("$st $i $p99 $p50 $rps $err")
    [ "$p99" != - ] && p99s+=("$p99")
    log "  wrk $st run $i: p99 ${p99} us, p50 ${p50} us, ${rps} req/s, errors $err"
  done
  STATE_P99=$(printf '%s\n' "${p99s[@]}" | sort -n | awk '{a[NR]=$1} END { if (NR == 0) print "-"; else print a[int((NR + 1) / 2)] }')
}

# ------------------------------------------------------------------ start riptide
log "riptide: $WORKERS workers, worker_connections $WC, keepalive_timeout ${KA_TIMEOUT}s, port $PORT"
python3 -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' \
  "${SRV_CMD[@]}" >>"$SRV/server.log" 2>&1 </dev/null &
SRV_PID=$!
BG_PIDS+=("$SRV_PID")
code=000
for i in $(seq 1 100); do
  alive "$SRV_PID" || break
  code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$HOST:$PORT/index.html" 2>/dev/null)
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || die "riptide did not answer 200 within 10 s (last $code); log: $(tail -c 400 "$SRV/server.log" "$SRV/error.log" 2>/dev/null | tr '\n' ' ')"
curl -s -m 5 -o "$TMP/got" "http://$HOST:$PORT/index.html" && cmp -s "$TMP/got" "$ROOT/index.html" || die "riptide served a wrong /index.html"
for i in $(seq 1 50); do [ "$(workers | wc -w)" -ge "$WORKERS" ] && break; sleep 0.1; done
NW=$(workers | wc -w)
[ "$NW" -eq "$WORKERS" ] || log "warning: $NW worker processes found, expected $WORKERS"
# the workers' own open-file limit, as the kernel sees it
W1=$(workers | awk '{print $1}')
WORKER_NOFILE=$(awk '/^Max open files/{print $4 " / " $5}' "/proc/$W1/limits" 2>/dev/null)
VERSION=$(timeout 2 "$RIPTIDE_BIN" --version 2>/dev/null | head -1)
GITREV=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)
[ -n "$GITREV" ] && GITREV="$GITREV$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted')"

# ------------------------------------------------------------------ 1. without
log "warm-up (2 s), then wrk without idle connections ($RUNS x ${DURATION}s)"
run_wait "$OUT/raw/wrk-warmup.txt" timeout -k 5 32 wrk -t1 -c"$CONNS" -d2s "http://$HOST:$PORT/index.html"
wrk_state without; P99_WITHOUT=$STATE_P99
sleep 1

# ------------------------------------------------------------------ 2. baseline
# shellcheck disable=SC2046
RSS0=$(rss_kb $(server_pids))
FDS0=$(fds_row)
SOCK0=$(sockstat)
SLAB0=$(awk '/^Slab:/{print $2}' /proc/meminfo)
EST0=$(established)
log "baseline: riptide RSS ${RSS0} kB over $(server_pids | wc -w) processes; worker fds: $FDS0"

# ------------------------------------------------------------------ 3. open K
log "opening $K connections from $NCLIENTS client processes (<= $PER each, $INFLIGHT in flight each)"
CPIDS=()
T_OPEN0=$(date +%s.%N)
for i in $(seq 1 "$NCLIENTS"); do
  share=$(( K / NCLIENTS )); [ "$i" -le $(( K % NCLIENTS )) ] && share=$(( share + 1 ))
  a=$(( i + 1 ))
  [ "$a" -le 254 ] || die "too many source addresses"
  python3 "$BENCH_DIR/scale_client.py" "$HOST" "$PORT" /index.html "$share" "127.0.0.$a" \
    "$TMP/ctl.$i" "$INFLIGHT" "$CLIENT_LIFE" >"$TMP/client.$i.log" 2>&1 &
  p=$!; CPIDS+=("$p"); BG_PIDS+=("$p")
done
for t in $(seq 1 3000); do     # at most 300 s (each client gives up opening after 240 s)
  n=0
  for i in $(seq 1 "$NCLIENTS"); do
    if [ -f "$TMP/ctl.$i.ready" ] || ! alive "${CPIDS[$((i - 1))]}"; then n=$(( n + 1 )); fi
  done
  [ "$n" -eq "$NCLIENTS" ] && break
  [ $(( t % 100 )) = 0 ] && log "  ... $(established) established so far"
  sleep 0.1
done
T_OPEN1=$(date +%s.%N)
OPEN_SECS=$(awk -v a="$T_OPEN0" -v b="$T_OPEN1" 'BEGIN { printf "%.1f", b - a }')
OPENED=0; FAILED=0; ERRS=""; DEAD=0
for i in $(seq 1 "$NCLIENTS"); do
  f=$TMP/ctl.$i.ready
  if [ -f "$f" ]; then
    cp "$f" "$OUT/raw/client-$i.ready"
    OPENED=$(( OPENED + $(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$f") ))
    FAILED=$(( FAILED + $(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$f") ))
    e=$(sed -n 's/.*error=\(.*\)$/\1/p' "$f"); [ "$e" != - ] && ERRS="$ERRS 127.0.0.$((i + 1)):$e"
  else
    DEAD=$(( DEAD + 1 )); ERRS="$ERRS client-$i:no-answer($(tail -c 200 "$TMP/client.$i.log" | tr '\n ' '__'))"
  fi
done
log "opened $OPENED of $K in ${OPEN_SECS}s ($FAILED failed${ERRS:+:$ERRS})"

# ask every client for a check and sum the answers: CHECK_ALIVE CHECK_CLOSED CHECK_DATA
client_check() { # n
  local n=$1 i t f done_n
  for i in $(seq 1 "$NCLIENTS"); do [ -f "$TMP/ctl.$i.ready" ] && touch "$TMP/ctl.$i.check.$n"; done
  for t in $(seq 1 600); do   # at most 60 s
    done_n=0
    for i in $(seq 1 "$NCLIENTS"); do
      if [ ! -f "$TMP/ctl.$i.ready" ] || [ -f "$TMP/ctl.$i.check.$n.out" ] || ! alive "${CPIDS[$((i - 1))]}"; then done_n=$(( done_n + 1 )); fi
    done
    [ "$done_n" -eq "$NCLIENTS" ] && break
    sleep 0.1
  done
  CHECK_ALIVE=0; CHECK_CLOSED=0; CHECK_DATA=0; CHECK_MISSING=0
  for i in $(seq 1 "$NCLIENTS"); do
    f=$TMP/ctl.$i.check.$n.out
    [ -f "$TMP/ctl.$i.ready" ] || continue
    if [ -f "$f" ]; then
      cat "$f" >> "$OUT/raw/client-$i.checks"
      CHECK_ALIVE=$(( CHECK_ALIVE + $(sed -n 's/.*alive=\([0-9]*\).*/\1/p' "$f") ))
      CHECK_CLOSED=$(( CHECK_CLOSED + $(sed -n 's/.*closed=\([0-9]*\).*/\1/p' "$f") ))
      CHECK_DATA=$(( CHECK_DATA + $(sed -n 's/.*data=\([0-9]*\).*/\1/p' "$f") ))
    else
      CHECK_MISSING=$(( CHECK_MISSING + 1 ))
    fi
  done
}

sleep 1
client_check 1
ALIVE1=$CHECK_ALIVE; CLOSED1=$CHECK_CLOSED; DATA1=$CHECK_DATA
EST1=$(established)
# shellcheck disable=SC2046
RSS1=$(rss_kb $(server_pids))
FDS1=$(fds_row)
SOCK1=$(sockstat)
SLAB1=$(awk '/^Slab:/{print $2}' /proc/meminfo)
CLIENT_RSS=$(rss_kb "${CPIDS[@]}")
log "check 1: $ALIVE1 open, $CLOSED1 closed, $DATA1 with unasked data; ss: $EST1 established to :$PORT"
log "riptide RSS ${RSS0} -> ${RSS1} kB; worker fds: $FDS1"

# ------------------------------------------------------------------ 5. with
log "wrk with the idle connections held ($RUNS x ${DURATION}s)"
wrk_state with; P99_WITH=$STATE_P99

# ------------------------------------------------------------------ 6. idle hold
log "idle hold: ${HOLD}s without traffic"
# shellcheck disable=SC2046
TK0=$(cpu_ticks $(server_pids)); TKW0=$(ticks_row)
TC0=$(cpu_ticks "${CPIDS[@]}")
CTX0=0; for p in $(server_pids); do c=$(awk '/ctxt_switches/{s += $2} END {print s + 0}' "/proc/$p/status" 2>/dev/null); CTX0=$(( CTX0 + ${c:-0} )); done
H0=$(date +%s.%N)
sleep "$HOLD" &
p=$!; BG_PIDS+=("$p"); wait "$p"; forget "$p"
H1=$(date +%s.%N)
# shellcheck disable=SC2046
TK1=$(cpu_ticks $(server_pids)); TKW1=$(ticks_row)
TC1=$(cpu_ticks "${CPIDS[@]}")
CTX1=0; for p in $(server_pids); do c=$(awk '/ctxt_switches/{s += $2} END {print s + 0}' "/proc/$p/status" 2>/dev/null); CTX1=$(( CTX1 + ${c:-0} )); done
HOLD_SECS=$(awk -v a="$H0" -v b="$H1" 'BEGIN { printf "%.1f", b - a }')
HOLD_CPU_MS=$(( (TK1 - TK0) * 1000 / CLK_TCK ))
HOLD_CLIENT_CPU_MS=$(( (TC1 - TC0) * 1000 / CLK_TCK ))

# ------------------------------------------------------------------ 7. check 2
client_check 2
ALIVE2=$CHECK_ALIVE; CLOSED2=$CHECK_CLOSED; DATA2=$CHECK_DATA; MISSING2=$CHECK_MISSING
EST2=$(established)
# shellcheck disable=SC2046
RSS2=$(rss_kb $(server_pids))
FDS2=$(fds_row)
SOCK2=$(sockstat)
SINCE_OPEN=$(awk -v a="$T_OPEN1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
log "check 2 (after the ${HOLD_SECS}s hold, ${SINCE_OPEN}s after opening): $ALIVE2 open, $CLOSED2 closed, $DATA2 with unasked data"
log "riptide CPU during the hold: ${HOLD_CPU_MS} ms; RSS ${RSS2} kB"

# ------------------------------------------------------------------ 8. release, after
for i in $(seq 1 "$NCLIENTS"); do touch "$TMP/ctl.$i.release"; done
for i in $(seq 1 "$NCLIENTS"); do
  p=${CPIDS[$((i - 1))]}
  for t in $(seq 1 300); do alive "$p" || break; sleep 0.1; done
  stop_pid "$p" TERM
  [ -f "$TMP/ctl.$i.final" ] && cp "$TMP/ctl.$i.final" "$OUT/raw/client-$i.final"
  [ -s "$TMP/client.$i.log" ] && cp "$TMP/client.$i.log" "$OUT/raw/client-$i.log"
done
for t in $(seq 1 100); do [ "$(established)" -le 5 ] && break; sleep 0.1; done
sleep 1
# shellcheck disable=SC2046
RSS3=$(rss_kb $(server_pids))
FDS3=$(fds_row)
log "clients closed; riptide RSS ${RSS3} kB; worker fds: $FDS3"
log "wrk after the idle connections are closed ($RUNS x ${DURATION}s)"
wrk_state after; P99_AFTER=$STATE_P99
ALIVE_SRV=$(alive "$SRV_PID" && echo yes || echo no)
stop_server
grep -iE 'alert|emerg|crit|worker_connections' "$OUT/raw/riptide.log" "$OUT/raw/riptide.error.log" 2>/dev/null | head -20 > "$TMP/srv-alerts"

# ------------------------------------------------------------------ report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { if (a == "-") print "-"; else printf "%.2f ms", a / 1000 }'; }
RATIO=$(ratio "$P99_WITH" "$P99_WITHOUT")
RATIO_AFTER=$(ratio "$P99_AFTER" "$P99_WITHOUT")
BPC="-"; [ "$OPENED" -gt 0 ] && BPC=$(( (RSS1 - RSS0) * 1024 / OPENED ))
BPC2="-"; [ "$OPENED" -gt 0 ] && BPC2=$(( (RSS2 - RSS0) * 1024 / OPENED ))
verdict() { if [ "$1" = 1 ]; then echo "**met**"; else echo "**not met**"; fi; }
OK_OPEN=0; [ "$OPENED" -eq "$K" ] && OK_OPEN=1
OK_ALIVE=0; [ "$ALIVE2" -eq "$K" ] && OK_ALIVE=1
OK_P99=0; [ "$RATIO" != - ] && awk -v r="$RATIO" -v t="$TARGET_RATIO" 'BEGIN { exit !(r <= t) }' && OK_P99=1
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
sockmem() { echo "$1" | sed -n 's/.*TCP: inuse \([0-9]*\) orphan [0-9]* tw [0-9]* alloc \([0-9]*\) mem \([0-9]*\).*/TCP inuse \1, alloc \2, mem \3 pages/p'; }

{
  echo "# riptide scale test: $K idle keep-alive connections"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs, $(awk '/^MemTotal:/{printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo '```sh'
  echo "$COMMAND_LINE"
  echo '```'
  echo
  echo "Server: ${VERSION:-riptide} (${RIPTIDE_BIN#"$REPO"/}${GITREV:+, tree $GITREV}), \`${SRV_CMD[*]#"$TMP"/}\`: $WORKERS workers (SO_REUSEPORT), \`worker_connections $WC\`, \`keepalive_timeout ${KA_TIMEOUT}s\`, open-file limit of a worker (soft / hard): $WORKER_NOFILE. Config in \`raw/riptide.conf\`."
  echo "Clients: $NCLIENTS processes of \`bench/scale_client.py\` (non-blocking, $INFLIGHT handshakes in flight each), source addresses 127.0.0.2-127.0.0.$(( NCLIENTS + 1 )), <= $PER connections each; one \`GET /index.html\` (612 B) and its whole reply per connection, then nothing."
  echo "Active load: \`wrk -t1 -c$CONNS -d${DURATION}s --latency http://$HOST:$PORT/index.html\`, $RUNS run(s) per state; a state's p99 is the median of its runs. Nothing is pinned."
  echo
  echo "## Targets"
  echo
  echo "| target | result | |"
  echo "|---|---|---|"
  echo "| $K connections established | $OPENED established in ${OPEN_SECS}s ($FAILED failed) | $(verdict $OK_OPEN) |"
  echo "| all still open after the ${HOLD}s hold | $ALIVE2 of $K open, $CLOSED2 closed, $DATA2 got unasked data (${SINCE_OPEN}s after opening) | $(verdict $OK_ALIVE) |"
  echo "| active p99 within 20% of the no-idle case | p99 $(ms "$P99_WITH") with vs $(ms "$P99_WITHOUT") without: ratio $RATIO (target <= $TARGET_RATIO) | $(verdict $OK_P99) |"
  echo "| total RSS reported | $(mb "$RSS0") before, $(mb "$RSS1") with $OPENED held ($BPC B per connection) | reported |"
  echo
  echo "## Memory"
  echo
  echo "Sum of VmRSS over every riptide process (master + $NW workers), from /proc/PID/status."
  echo
  echo "| point | riptide RSS | B per idle connection | open fds per worker | kernel (/proc/net/sockstat) |"
  echo "|---|---|---|---|---|"
  echo "| before (after the \"without\" wrk runs) | $(mb "$RSS0") ($RSS0 kB) | | $FDS0 | $(sockmem "$SOCK0") |"
  echo "| $OPENED held, just opened | $(mb "$RSS1") ($RSS1 kB) | $BPC | $FDS1 | $(sockmem "$SOCK1") |"
  echo "| after the \"with\" runs and the hold | $(mb "$RSS2") ($RSS2 kB) | $BPC2 | $FDS2 | $(sockmem "$SOCK2") |"
  echo "| clients closed | $(mb "$RSS3") ($RSS3 kB) | | $FDS3 | |"
  echo
  echo "The $NCLIENTS client processes held $(mb "$CLIENT_RSS") RSS in all. Kernel TCP memory is in pages of $(getconf PAGESIZE) B."
  echo
  echo "Kernel slab memory (system-wide, both ends of every connection: sockets, files, epoll items) went from $(mb "$SLAB0") to $(mb "$SLAB1") when the connections opened: $(( (SLAB1 - SLAB0) * 1024 / (OPENED > 0 ? OPENED : 1) )) B per connection pair (other processes on the machine add noise)."
  echo
  echo "## Connections"
  echo
  echo "| check | open (EAGAIN) | closed (EOF/reset) | unasked data | ss: established to :$PORT |"
  echo "|---|---|---|---|---|"
  echo "| before opening | | | | $EST0 |"
  echo "| 1: just opened | $ALIVE1 | $CLOSED1 | $DATA1 | $EST1 |"
  echo "| 2: after the \"with\" runs and the ${HOLD_SECS}s hold | $ALIVE2 | $CLOSED2 | $DATA2 | $EST2 |"
  echo
  [ -n "$ERRS" ] && echo "First error of each client that had failures:$ERRS" && echo
  [ "$DEAD" -gt 0 ] && echo "$DEAD client processes never reported." && echo
  [ "${MISSING2:-0}" -gt 0 ] && echo "$MISSING2 clients did not answer check 2." && echo
  echo "## Idle cost"
  echo
  echo "During the ${HOLD_SECS}s hold with $ALIVE2 idle connections and no traffic: riptide used $HOLD_CPU_MS ms of CPU in all ($(awk -v m="$HOLD_CPU_MS" -v s="$HOLD_SECS" 'BEGIN { printf "%.3f", m / 10 / s }')% of one core; $(( CTX1 - CTX0 )) context switches), per worker (ticks of 1/$CLK_TCK s, before -> after): \`$TKW0\` -> \`$TKW1\`. The clients used $HOLD_CLIENT_CPU_MS ms."
  echo
  echo "## Active latency"
  echo
  echo "| state | run | p99 | p50 | req/s | errors |"
  echo "|---|---|---|---|---|---|"
  for l in "${WRK_LINES[@]}"; do
    read -r st i p99 p50 rps err <<< "$l"
    echo "| $st | $i | $(ms "$p99") | $(ms "$p50") | $rps | $err |"
  done
  echo
  echo "Median p99: without $(ms "$P99_WITHOUT"), with $K held $(ms "$P99_WITH") (ratio **$RATIO**), after closing them $(ms "$P99_AFTER") (ratio $RATIO_AFTER; the spread between \"without\" and \"after\" shows the machine's own drift)."
  echo
  echo "## Limits"
  echo
  cat "$LIMITS_BEFORE"
  echo
  if [ "${#SYSCTL_NOTES[@]}" -gt 0 ]; then
    for n in "${SYSCTL_NOTES[@]}"; do echo "- $n"; done
  else
    echo "No sysctl needed changing: with $PER connections per source address at most, $NCLIENTS source addresses, and the limits above, nothing was raised."
  fi
  echo
  if [ -s "$TMP/srv-alerts" ]; then
    echo "riptide's log had:"
    echo '```'
    cat "$TMP/srv-alerts"
    echo '```'
  else
    echo "riptide's log had no alerts (no \"worker_connections are not enough\"); riptide was alive at the end: $ALIVE_SRV."
  fi
  echo
  echo "Raw files: \`$OUT/raw/\`."
} > "$OUT/report.md"

cat "$OUT/report.md"
exit 0

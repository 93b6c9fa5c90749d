#!/usr/bin/env bash
# bench/run.sh - riptide's benchmark: riptide, nginx, h2o, lighttpd and the
# floor server (bench/floor.c) side by side on loopback, same files, same load.
#
# Usage: bench/run.sh [options]          (make bench runs it with no options)
#
#   -s LIST   servers, comma separated, from riptide nginx h2o lighttpd floor
#             (default: all five; a server that cannot start is reported so)
#   -t LIST   cells, comma separated (default: all):
#               ka612     612 B file, keep-alive, 50 connections, 1 wrk thread
#               pipe16    612 B, 16 pipelined requests per write (pipeline.lua)
#               ka64k     64 KiB file, keep-alive
#               ka1m      1 MiB file, keep-alive
#               close612  612 B, a new connection per request (Connection: close)
#               w2        ka612 with 2 workers, nothing pinned
#               idle      K idle keep-alive connections: server RSS per connection,
#                         wrk p99 without / with them held
#               idlecpu   no traffic: syscalls/s (strace) and context switches/s
#               syscalls  syscalls per request under ka612 load (strace -c -f)
#               proxy     riptide and nginx only, as reverse proxies (1 worker) of
#                         the same nginx upstream serving the 612 B page;
#                         keep-alive client->proxy and proxy->upstream
#   -d SECS   length of each wrk run of the throughput cells (default 10)
#   -r N      interleaved rounds (default 3): every round runs every server once
#             per throughput cell, servers restarted each round, the order rotated;
#             tables show the median run by req/s and the spread (max-min)/median
#   -o DIR    output directory (default bench/out/<timestamp>)
#   -k K      idle connections for the idle cell (default 10000)
#   -c N      wrk connections (default 50)
#   --idle-wrk SECS      wrk runs of the idle cell (default 5)
#   --idle-runs N        wrk runs without and N with the idle connections held
#                        (default 3; the report compares the medians of their p99)
#   --idle-secs SECS     no-traffic window of the idlecpu cell (default 5)
#   --syscall-secs SECS  traced wrk run of the syscalls cell (default 3)
#   --port-base P        first port to try (default 24080; below the ephemeral range)
#   --update-docs        also write docs/bench-chart.png and the results section
#                        of docs/PERFORMANCE.md from this run
#   -h        this text
#
# Environment: RIPTIDE_BIN (default build/riptide), FLOOR_BIN (default: built
# from bench/floor.c into the output dir), SERVER_CPU (0), CLIENT_CPU (1),
# UPSTREAM_CPU (CPU of the proxy cell's upstream; default none = unpinned),
# PROXY_KEEPALIVE (idle upstream connections the proxies keep; default -c).
#
# 1-worker cells: the server is pinned to SERVER_CPU and wrk (and the idle
# client) to CLIENT_CPU with taskset; w2 runs unpinned. In the proxy cell the
# proxy under test is on SERVER_CPU, wrk on CLIENT_CPU, the upstream unpinned.
# Server CPU seconds come from /proc/PID/stat (utime+stime of every process of
# the server) before and after each wrk run; "req/core-s" = requests / server
# CPU seconds.
# Everything goes to 127.0.0.1 (idle clients bind 127.0.0.2.. as sources).
# Each server runs in its own session and process group; every process this
# script starts is stopped by its PID or process group on exit, error or Ctrl-C.
# Writes OUT/report.md (also printed), OUT/*.tsv, and raw wrk/strace output,
# configs and server logs under OUT/raw/.

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
HOST=127.0.0.1

ALL_SERVERS="riptide nginx h2o lighttpd floor"
ALL_CELLS="ka612 pipe16 ka64k ka1m close612 w2 proxy idle idlecpu syscalls"
SERVERS=$ALL_SERVERS
CELLS=$ALL_CELLS
DURATION=10
ROUNDS=3
OUT=""
IDLE_K=10000
CONNS=50
IDLE_WRK=5
IDLE_RUNS=3
IDLE_SECS=5
SYSCALL_SECS=3
PORT_BASE=24080
UPDATE_DOCS=0
WARMUP=1
PIPE_DEPTH=16
RIPTIDE_BIN=${RIPTIDE_BIN:-$REPO/build/riptide}
FLOOR_BIN=${FLOOR_BIN:-}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
UPSTREAM_CPU=${UPSTREAM_CPU:-none}
PROXY_KEEPALIVE=${PROXY_KEEPALIVE:-}
PROXY_SERVERS="riptide nginx"     # the proxy cell compares these two only
COMMAND_LINE="bench/run.sh${*:+ $*}"

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "bench/run.sh: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
isint() { case $1 in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }

while [ $# -gt 0 ]; do
  case $1 in
    -s) [ $# -ge 2 ] || die "-s needs a value"; SERVERS=${2//,/ }; shift 2 ;;
    -t) [ $# -ge 2 ] || die "-t needs a value"; CELLS=${2//,/ }; shift 2 ;;
    -d) [ $# -ge 2 ] || die "-d needs a value"; DURATION=$2; shift 2 ;;
    -r) [ $# -ge 2 ] || die "-r needs a value"; ROUNDS=$2; shift 2 ;;
    -o) [ $# -ge 2 ] || die "-o needs a value"; OUT=$2; shift 2 ;;
    -k) [ $# -ge 2 ] || die "-k needs a value"; IDLE_K=$2; shift 2 ;;
    -c) [ $# -ge 2 ] || die "-c needs a value"; CONNS=$2; shift 2 ;;
    --idle-wrk) [ $# -ge 2 ] || die "$1 needs a value"; IDLE_WRK=$2; shift 2 ;;
    --idle-runs) [ $# -ge 2 ] || die "$1 needs a value"; IDLE_RUNS=$2; shift 2 ;;
    --idle-secs) [ $# -ge 2 ] || die "$1 needs a value"; IDLE_SECS=$2; shift 2 ;;
    --syscall-secs) [ $# -ge 2 ] || die "$1 needs a value"; SYSCALL_SECS=$2; shift 2 ;;
    --port-base) [ $# -ge 2 ] || die "$1 needs a value"; PORT_BASE=$2; shift 2 ;;
    --update-docs) UPDATE_DOCS=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

for v in DURATION ROUNDS IDLE_K CONNS IDLE_WRK IDLE_RUNS IDLE_SECS SYSCALL_SECS PORT_BASE SERVER_CPU CLIENT_CPU; do
  isint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
[ "$DURATION" -ge 1 ] && [ "$DURATION" -le 300 ] || die "-d must be 1..300"
[ "$ROUNDS" -ge 1 ] && [ "$ROUNDS" -le 15 ] || die "-r must be 1..15"
[ "$IDLE_K" -ge 1 ] && [ "$IDLE_K" -le 60000 ] || die "-k must be 1..60000"
[ "$CONNS" -ge 1 ] && [ "$CONNS" -le 1000 ] || die "-c must be 1..1000"
[ "$IDLE_WRK" -ge 1 ] && [ "$IDLE_WRK" -le 120 ] || die "--idle-wrk must be 1..120"
[ "$IDLE_RUNS" -ge 1 ] && [ "$IDLE_RUNS" -le 9 ] || die "--idle-runs must be 1..9"
[ "$IDLE_SECS" -ge 1 ] && [ "$IDLE_SECS" -le 120 ] || die "--idle-secs must be 1..120"
[ "$SYSCALL_SECS" -ge 1 ] && [ "$SYSCALL_SECS" -le 60 ] || die "--syscall-secs must be 1..60"
[ "$PORT_BASE" -ge 1024 ] && [ "$PORT_BASE" -le 64000 ] || die "--port-base must be 1024..64000"
[ -n "$PROXY_KEEPALIVE" ] || PROXY_KEEPALIVE=$CONNS
isint "$PROXY_KEEPALIVE" && [ "$PROXY_KEEPALIVE" -ge 1 ] || die "PROXY_KEEPALIVE must be a positive integer, got '$PROXY_KEEPALIVE'"
case $UPSTREAM_CPU in none|'') UPSTREAM_CPU=none ;; *) isint "$UPSTREAM_CPU" || die "UPSTREAM_CPU must be a CPU number or none, got '$UPSTREAM_CPU'" ;; esac
for s in $SERVERS; do case " $ALL_SERVERS " in *" $s "*) ;; *) die "unknown server '$s' (known: $ALL_SERVERS)" ;; esac; done
for c in $CELLS; do case " $ALL_CELLS " in *" $c "*) ;; *) die "unknown cell '$c' (known: $ALL_CELLS)" ;; esac; done
[ -n "$SERVERS" ] || die "no servers selected"
[ -n "$CELLS" ] || die "no cells selected"
has_cell() { case " $CELLS " in *" $1 "*) return 0 ;; esac; return 1; }

export PATH="$PATH:/usr/sbin:/sbin"
NEED_TOOLS="wrk python3 curl taskset cmp timeout pgrep ss strace"
for s in $SERVERS; do case $s in nginx|h2o|lighttpd) NEED_TOOLS="$NEED_TOOLS $s" ;; floor) NEED_TOOLS="$NEED_TOOLS gcc" ;; esac; done
has_cell proxy && [[ " $NEED_TOOLS " != *" nginx "* ]] && NEED_TOOLS="$NEED_TOOLS nginx"   # the proxy cell's upstream
missing_tools() { local t m=""; for t in $NEED_TOOLS; do command -v "$t" >/dev/null 2>&1 || m="$m $t"; done; echo "$m"; }
if [ -n "$(missing_tools)" ]; then
  log "missing:$(missing_tools); running bench/setup.sh"
  "$BENCH_DIR/setup.sh" || die "bench/setup.sh failed"
  [ -z "$(missing_tools)" ] || die "still missing:$(missing_tools)"
fi
NCPU=$(nproc)
PIN=1
if [ "$NCPU" -lt 2 ] || [ "$SERVER_CPU" -ge "$NCPU" ] || [ "$CLIENT_CPU" -ge "$NCPU" ] || [ "$SERVER_CPU" = "$CLIENT_CPU" ]; then
  PIN=0
  log "warning: cannot pin server and client to different CPUs ($NCPU CPUs): running unpinned"
fi
[ "$UPSTREAM_CPU" != none ] && { [ "$PIN" = 0 ] || [ "$UPSTREAM_CPU" -ge "$NCPU" ]; } && UPSTREAM_CPU=none
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ output dir, temp dir
[ -n "$OUT" ] || OUT=$REPO/bench/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT/raw" || die "cannot create $OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/*.tsv "$OUT/report.md"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/riptide-bench.XXXXXX") || die "mktemp failed"
chmod 755 "$TMP"          # nginx/h2o/lighttpd drop to nobody and must read the docroot
ROOT=$TMP/www

# ------------------------------------------------------------------ process bookkeeping
BG_PIDS=()        # our background children (wrk, strace, idle clients, servers)
SRV_PID=""        # the running server's PID = its process group id (own session)
SRV_NAME=""; SRV_PORT=""; SRV_DIR=""
UP_PID=""; UP_PORT=""; UP_DIR=""   # the proxy cell's upstream (own session too)

proc_fields() { # pid -> the fields of /proc/PID/stat after the command name, in PF
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -r -a PF <<< "${s##*) }"      # PF[0] = field 3 (state), PF[11] = utime, PF[12] = stime
}
proc_field() { local PF; proc_fields "$1" || return 1; echo "${PF[$(( $2 - 3 ))]}"; }
alive() { local st; st=$(proc_field "$1" 3) || return 1; [ "$st" != Z ] && [ "$st" != X ]; }
forget() { local i; for i in "${!BG_PIDS[@]}"; do [ "${BG_PIDS[$i]}" = "$1" ] && unset 'BG_PIDS[i]'; done; }

# stop a background child of ours: signal, wait up to 5 s, KILL, reap
stop_pid() { # pid [signal]
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

# all PIDs of the running server: its process group (it runs in its own session)
server_pids() { [ -n "$SRV_PID" ] && pgrep -g "$SRV_PID" 2>/dev/null | tr '\n' ' '; }

stop_server() {
  [ -n "$SRV_PID" ] || return 0
  local i
  kill -TERM -- "-$SRV_PID" 2>/dev/null
  for i in $(seq 1 60); do [ -z "$(server_pids)" ] && break; sleep 0.1; done
  if [ -n "$(server_pids)" ]; then
    log "  $SRV_NAME did not stop on SIGTERM within 6 s: SIGKILL to its process group"
    kill -KILL -- "-$SRV_PID" 2>/dev/null
    for i in $(seq 1 30); do [ -z "$(server_pids)" ] && break; sleep 0.1; done
  fi
  wait "$SRV_PID" 2>/dev/null
  forget "$SRV_PID"
  [ -n "$SRV_DIR" ] && [ -f "$SRV_DIR/server.log" ] && cp "$SRV_DIR/server.log" "$OUT/raw/$SRV_NAME-$SRV_TAG.log"
  [ -n "$SRV_DIR" ] && [ -s "$SRV_DIR/error.log" ] && cp "$SRV_DIR/error.log" "$OUT/raw/$SRV_NAME-$SRV_TAG.error.log"
  SRV_PID=""
}

upstream_pids() { [ -n "$UP_PID" ] && pgrep -g "$UP_PID" 2>/dev/null | tr '\n' ' '; }
stop_upstream() {
  [ -n "$UP_PID" ] || return 0
  local i
  kill -TERM -- "-$UP_PID" 2>/dev/null
  for i in $(seq 1 60); do [ -z "$(upstream_pids)" ] && break; sleep 0.1; done
  if [ -n "$(upstream_pids)" ]; then
    log "  the upstream did not stop on SIGTERM within 6 s: SIGKILL to its process group"
    kill -KILL -- "-$UP_PID" 2>/dev/null
    for i in $(seq 1 30); do [ -z "$(upstream_pids)" ] && break; sleep 0.1; done
  fi
  wait "$UP_PID" 2>/dev/null
  forget "$UP_PID"
  [ -n "$UP_DIR" ] && [ -f "$UP_DIR/server.log" ] && cp "$UP_DIR/server.log" "$OUT/raw/upstream.log"
  UP_PID=""
}

cleanup() {
  local rc=$? p
  trap - EXIT INT TERM HUP
  for p in "${BG_PIDS[@]}"; do [ "$p" != "$SRV_PID" ] && [ "$p" != "$UP_PID" ] && stop_pid "$p" TERM; done
  stop_server
  stop_upstream
  for p in "${BG_PIDS[@]}"; do stop_pid "$p" KILL; done
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
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576

# ------------------------------------------------------------------ docroot
python3 - "$ROOT" <<'PY' || die "cannot create the docroot"
import os, random, sys
root = sys.argv[1]
os.makedirs(root, exist_ok=True)
head = (b"<!DOCTYPE html>\n<html>\n<head>\n<title>riptide bench</title>\n</head>\n"
        b"<body>\n<h1>riptide bench</h1>\n<p>")
tail = b"</p>\n</body>\n</html>\n"
text = b"A fixed page for the benchmark, exactly six hundred and twelve bytes long. " * 12
page = head + text[:612 - len(head) - len(tail)] + tail
assert len(page) == 612
rng = random.Random(612)
blob = bytes(rng.getrandbits(8) for _ in range(1 << 16))
files = {"index.html": page, "64k.bin": blob, "1m.bin": blob * 16}
for name, data in files.items():
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
    os.chmod(os.path.join(root, name), 0o644)
os.chmod(root, 0o755)
PY

cell_path() { case $1 in ka64k) echo /64k.bin ;; ka1m) echo /1m.bin ;; *) echo /index.html ;; esac; }

# ------------------------------------------------------------------ floor binary
if [[ " $SERVERS " == *" floor "* ]] && [ -z "$FLOOR_BIN" ]; then
  FLOOR_BIN=$OUT/floor
  cc=$(command -v gcc || command -v cc) || die "no C compiler for bench/floor.c: run bench/setup.sh"
  "$cc" -O2 -o "$FLOOR_BIN" "$BENCH_DIR/floor.c" 2>"$OUT/raw/floor-build.log" || { cat "$OUT/raw/floor-build.log" >&2; die "bench/floor.c did not compile"; }
fi

# ------------------------------------------------------------------ servers
server_version() {
  case $1 in
    riptide)
      if [ -x "$RIPTIDE_BIN" ]; then
        local v g
        v=$(timeout 2 "$RIPTIDE_BIN" --version 2>/dev/null | head -1)
        g=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)
        [ -n "$g" ] && g="$g$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted')"
        echo "${v:-riptide} (${RIPTIDE_BIN#"$REPO"/}${g:+, tree $g})"
      else echo "riptide (not built: $RIPTIDE_BIN)"; fi ;;
    nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
    h2o) h2o --version 2>/dev/null | head -1 | sed 's/ version /\//' ;;
    lighttpd) lighttpd -v 2>/dev/null | head -1 | awk '{print $1}' ;;
    floor) echo "floor (bench/floor.c, gcc -O2)" ;;
  esac
}

# write the server's config into $SRV_DIR and set SRV_CMD. With an upstream
# port (proxy cell; riptide and nginx only) the server is a reverse proxy of
# 127.0.0.1:UPSTREAM_PORT for every URI, keeping PROXY_KEEPALIVE idle upstream
# connections, instead of a file server.
SRV_CMD=()
configure() { # server workers port [upstream_port]
  local s=$1 w=$2 port=$3 up=${4:-} d=$SRV_DIR grp
  grp=$(id -gn nobody 2>/dev/null || echo nogroup)
  local asroot=0; [ "$(id -u)" = 0 ] && asroot=1
  case $s in
    riptide)
      if [ -n "$up" ]; then
        cat > "$d/riptide.conf" <<EOF
worker_processes $w;
error_log $d/error.log;
pid $d/r.pid;
events { worker_connections $(( CONNS * 2 + 1024 )); }
http {
    access_log off;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000000;
    upstream app {
        server $HOST:$up;
        keepalive $PROXY_KEEPALIVE;
    }
    server {
        listen $HOST:$port;
        location / {
            proxy_pass http://app;
        }
    }
}
EOF
        SRV_CMD=("$RIPTIDE_BIN" -p "$d" -c "$d/riptide.conf")
      else
        SRV_CMD=("$RIPTIDE_BIN" --root "$ROOT" --listen "$HOST:$port" --workers "$w")
      fi ;;
    floor)
      SRV_CMD=("$FLOOR_BIN" --listen "$HOST:$port" --workers "$w" --body "$ROOT/index.html") ;;
    nginx)
      # nginx drops idle keep-alive connections when fewer than 1/16 of
      # worker_connections are free: size it so the idle cell fits.
      local wc=$(( (IDLE_K + CONNS + 100) * 17 / 16 + 256 ))
      [ "$wc" -gt $(( NOFILE - 16 )) ] && wc=$(( NOFILE - 16 ))
      mkdir -p "$d/tmp"
      # the static site, or the proxy cell's reverse proxy: HTTP/1.1 and no
      # Connection header upstream so the upstream connections stay alive, and
      # as many requests per upstream connection as per client connection
      local site="        root $ROOT;
        index index.html;" pool=""
      if [ -n "$up" ]; then
        site="        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }"
        pool="    upstream app {
        server $HOST:$up;
        keepalive $PROXY_KEEPALIVE;
        keepalive_requests 10000000;
        keepalive_timeout 65s;
    }"
      fi
      {
        [ "$asroot" = 1 ] && echo "user nobody $grp;"
        cat <<EOF
worker_processes $w;
worker_rlimit_nofile $NOFILE;
daemon off;
pid $d/nginx.pid;
error_log stderr warn;
events { worker_connections $wc; }
http {
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
$pool
    server {
        listen $HOST:$port;
$site
    }
}
EOF
      } > "$d/nginx.conf"
      SRV_CMD=(nginx -p "$d" -e stderr -c "$d/nginx.conf") ;;
    h2o)
      {
        [ "$asroot" = 1 ] && echo "user: nobody"
        cat <<EOF
num-threads: $w
max-connections: $(( IDLE_K + CONNS + 256 ))
http1-request-timeout: 65
listen:
  host: $HOST
  port: $port
hosts:
  default:
    paths:
      /:
        file.dir: $ROOT
EOF
      } > "$d/h2o.conf"
      SRV_CMD=(h2o -c "$d/h2o.conf") ;;
    lighttpd)
      local mc=$(( NOFILE / 2 ))
      {
        cat <<EOF
server.document-root = "$ROOT"
server.bind = "$HOST"
server.port = $port
server.max-fds = $NOFILE
server.max-connections = $mc
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 65
server.max-read-idle = 65
server.network-backend = "sendfile"
server.modules = ( "mod_indexfile", "mod_staticfile" )
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )
EOF
        [ "$w" -gt 1 ] && echo "server.max-worker = $w"
        if [ "$asroot" = 1 ]; then echo "server.username = \"nobody\""; echo "server.groupname = \"$grp\""; fi
      } > "$d/lighttpd.conf"
      SRV_CMD=(lighttpd -D -f "$d/lighttpd.conf") ;;
  esac
}

# how many idle connections the server can hold next to wrk's
idle_capacity() {
  case $1 in
    lighttpd) echo $(( NOFILE / 2 - CONNS - 16 )) ;;   # lighttpd: connections <= max-fds/2
    *) echo $(( NOFILE - CONNS - 64 )) ;;
  esac
}

PORT_NEXT=$PORT_BASE
free_port() {
  local i p
  for i in $(seq 1 200); do
    p=$PORT_NEXT; PORT_NEXT=$(( PORT_NEXT + 1 ))
    [ "$PORT_NEXT" -gt 65000 ] && PORT_NEXT=$PORT_BASE
    # (not "ss | grep -q": with pipefail, ss killed by SIGPIPE on a long listing made a busy port look free)
    if [ -z "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ]; then echo "$p"; return 0; fi
  done
  return 1
}

# the PIDs listening on 127.0.0.1:PORT that are not among PIDS: another
# process on the same port (SO_REUSEPORT, or it bound first while ours still
# retries) would answer the checks and the load in our server's place. Prints
# nothing when all are ours, or when ss cannot show the owners.
foreign_listeners() { # port pids...
  local port=$1; shift
  ss -Htlnp "( sport = :$port )" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u |
    while read -r p; do case " $* " in *" $p "*) ;; *) echo -n "$p " ;; esac; done
}

# start server $1 with $2 workers. Returns 0 when it answers with the right
# bytes; sets START_ERR and returns 1 otherwise. BAD_FILES lists files served wrong.
# With an upstream port (proxy cell) the server is configured as a reverse
# proxy of it and only /index.html is checked, through the proxy.
START_ERR=""; BAD_FILES=""; SRV_TAG=""; SRV_N=0
start_server() { # server workers tag [upstream_port]
  local s=$1 w=$2 up=${4:-} port i code f files="index.html 64k.bin 1m.bin" cf
  START_ERR=""; BAD_FILES=""; SRV_NAME=$s; SRV_TAG=$3
  [ -n "$up" ] && files="index.html"
  if [ "$s" = riptide ] && [ ! -x "$RIPTIDE_BIN" ]; then START_ERR="not built ($RIPTIDE_BIN missing)"; return 1; fi
  port=$(free_port) || { START_ERR="no free port"; return 1; }
  SRV_N=$(( SRV_N + 1 ))
  SRV_DIR=$TMP/srv-$SRV_N-$s; mkdir -p "$SRV_DIR"; chmod 755 "$SRV_DIR"
  configure "$s" "$w" "$port" "$up"
  cf=$s-w$w; [ -n "$up" ] && cf=$s-proxy
  for f in "$SRV_DIR"/*.conf; do [ -f "$f" ] && cp "$f" "$OUT/raw/$cf.${f##*.}"; done
  echo "${SRV_CMD[*]}" > "$OUT/raw/$cf.cmd"
  local pin=()
  [ "$w" = 1 ] && [ "$PIN" = 1 ] && pin=(taskset -c "$SERVER_CPU")
  # own session and process group (pgid = pid), no fork between us and it
  python3 -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' \
    "${pin[@]}" "${SRV_CMD[@]}" >>"$SRV_DIR/server.log" 2>&1 </dev/null &
  SRV_PID=$!
  BG_PIDS+=("$SRV_PID")
  SRV_PORT=$port
  code=000
  for i in $(seq 1 100); do
    alive "$SRV_PID" || break
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$HOST:$port/index.html" 2>/dev/null)
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  if [ "$code" != 200 ]; then
    if alive "$SRV_PID"; then START_ERR="no 200 for /index.html within 10 s (last status $code)"
    else START_ERR="exited at start"; fi
    START_ERR="$START_ERR; log: $(tail -c 300 "$SRV_DIR/server.log" | tr '\n\t' '  ')"
    stop_server; return 1
  fi
  local foreign
  # shellcheck disable=SC2046
  foreign=$(foreign_listeners "$port" $(server_pids))
  if [ -n "$foreign" ]; then
    START_ERR="port $port is also held by PID(s) ${foreign% } (not this server): not measured"
    stop_server; return 1
  fi
  for f in $files; do
    [ "$s" = floor ] && [ "$f" != index.html ] && continue
    if ! curl -s -m 10 -o "$SRV_DIR/got" "http://$HOST:$port/$f" || ! cmp -s "$SRV_DIR/got" "$ROOT/$f"; then
      BAD_FILES="$BAD_FILES $f"
    fi
  done
  rm -f "$SRV_DIR/got"
  if [[ " $BAD_FILES " == *" index.html "* ]]; then
    START_ERR="served a wrong /index.html"; stop_server; return 1
  fi
  [ -n "$BAD_FILES" ] && log "  $s served wrong bytes for:$BAD_FILES (those cells are marked)"
  return 0
}

# the proxy cell's upstream: nginx, 1 worker, the static config of the other
# cells (keep-alive, unlimited requests per connection), on its own port, in
# its own session, pinned to UPSTREAM_CPU unless that is "none"
start_upstream() {
  local port i code save_dir=$SRV_DIR pin=()
  START_ERR=""
  port=$(free_port) || { START_ERR="no free port for the upstream"; return 1; }
  SRV_N=$(( SRV_N + 1 ))
  UP_DIR=$TMP/srv-$SRV_N-upstream; mkdir -p "$UP_DIR"; chmod 755 "$UP_DIR"
  SRV_DIR=$UP_DIR; configure nginx 1 "$port"; SRV_DIR=$save_dir
  cp "$UP_DIR/nginx.conf" "$OUT/raw/upstream-nginx.conf"
  [ "$UPSTREAM_CPU" != none ] && pin=(taskset -c "$UPSTREAM_CPU")
  echo "${pin[*]} ${SRV_CMD[*]}" > "$OUT/raw/upstream-nginx.cmd"
  python3 -c 'import os, sys; os.setsid(); os.execvp(sys.argv[1], sys.argv[1:])' \
    "${pin[@]}" "${SRV_CMD[@]}" >>"$UP_DIR/server.log" 2>&1 </dev/null &
  UP_PID=$!
  BG_PIDS+=("$UP_PID")
  UP_PORT=$port
  code=000
  for i in $(seq 1 100); do
    alive "$UP_PID" || break
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$HOST:$port/index.html" 2>/dev/null)
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  if [ "$code" != 200 ] || ! curl -s -m 10 -o "$UP_DIR/got" "http://$HOST:$port/index.html" || ! cmp -s "$UP_DIR/got" "$ROOT/index.html"; then
    START_ERR="upstream nginx: no 200 or wrong /index.html (last status $code); log: $(tail -c 300 "$UP_DIR/server.log" | tr '\n\t' '  ')"
    stop_upstream; return 1
  fi
  local foreign
  # shellcheck disable=SC2046
  foreign=$(foreign_listeners "$port" $(upstream_pids))
  if [ -n "$foreign" ]; then
    START_ERR="upstream port $port is also held by PID(s) ${foreign% }: not used"
    stop_upstream; return 1
  fi
  return 0
}

# ------------------------------------------------------------------ measurements
cpu_ticks() { # utime+stime of the given PIDs (all their threads)
  local p t=0 PF
  for p in "$@"; do
    proc_fields "$p" || continue
    t=$(( t + PF[11] + PF[12] ))
  done
  echo "$t"
}
# CPU ticks of the kernel's memory-reclaim threads (kdamond: DAMON's proactive reclaim,
# kswapd). On a VM that runs DAMON pageout they preempt wrk for milliseconds at a time
# once more memory is in use, which shows in any server's p99; the idle cell reports it.
reclaim_ticks() {
  # shellcheck disable=SC2046
  cpu_ticks $(pgrep '^(kdamond|kswapd)' 2>/dev/null)
}
rss_bytes() { # VmRSS sum
  local p t=0 v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
    [ -n "$v" ] && t=$(( t + v ))
  done
  echo $(( t * 1024 ))
}
ctx_switches() { # voluntary + nonvoluntary of every thread
  local p t=0 v
  for p in "$@"; do
    v=$(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/^(non)?voluntary_ctxt_switches:/{s += $2} END{print s+0}')
    t=$(( t + v ))
  done
  echo "$t"
}
nthreads() { local p n=0; for p in "$@"; do n=$(( n + $(find /proc/"$p"/task -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) )); done; echo "$n"; }
# CPU ms of our reaped children (wrk among them); must run in this shell
CHILD_MS=0
child_ms() { times >"$TMP/times"; CHILD_MS=$(awk 'NR==2{for(i=1;i<=2;i++){split($i,a,/[ms]/); t+=a[1]*60+a[2]}} END{printf "%d", t*1000}' "$TMP/times"); }
client_pin() { [ "$1" = 1 ] && [ "$PIN" = 1 ] && echo "taskset -c $CLIENT_CPU"; }

# one wrk run; sets W_FILE W_WALL_MS W_SRV_TICKS W_CLI_MS, and W_UP_TICKS
# (the upstream's CPU ticks, proxy cell; 0 when no upstream runs)
WRK_N=0
wrk_run() { # workers path secs mode(ka|close|pipe) tag
  local w=$1 path=$2 secs=$3 mode=$4 tag=$5 pre pids upids t0 t1 c0 c1 u0 u1 m0 args=()
  pre=$(client_pin "$w")
  case $mode in
    close) args=(-H "Connection: close") ;;
    pipe) args=(-s "$BENCH_DIR/pipeline.lua") ;;
  esac
  WRK_N=$(( WRK_N + 1 ))
  W_FILE=$OUT/raw/wrk-$(printf %03d $WRK_N)-$tag.txt
  pids=$(server_pids); upids=$(upstream_pids)
  # shellcheck disable=SC2086
  u0=$(cpu_ticks $upids); c0=$(cpu_ticks $pids); child_ms; m0=$CHILD_MS; t0=$(date +%s%N)
  local url="http://$HOST:$SRV_PORT$path"
  if [ "$mode" = pipe ]; then
    # shellcheck disable=SC2086
    run_wait "$W_FILE" timeout -k 5 $(( secs + 30 )) $pre wrk -t 1 -c "$CONNS" -d "${secs}s" --latency "${args[@]}" "$url" -- "$PIPE_DEPTH" "$path"
  else
    # shellcheck disable=SC2086
    run_wait "$W_FILE" timeout -k 5 $(( secs + 30 )) $pre wrk -t 1 -c "$CONNS" -d "${secs}s" --latency "${args[@]}" "$url"
  fi
  local rc=$?
  t1=$(date +%s%N); child_ms
  # shellcheck disable=SC2086
  c1=$(cpu_ticks $pids); u1=$(cpu_ticks $upids)
  [ "$rc" = 0 ] || log "  wrk exited with status $rc ($tag)"
  W_WALL_MS=$(( (t1 - t0) / 1000000 ))
  W_SRV_TICKS=$(( c1 - c0 ))
  W_CLI_MS=$(( CHILD_MS - m0 ))
  W_UP_TICKS=$(( u1 - u0 ))
}
wrk_summary() { awk '/^Requests\/sec:/{r=$2} /^Transfer\/sec:/{x=$2} $1=="99%"{p=$2} END{printf "%s req/s, %s/s, p99 %s", r, x, p}' "$1"; }

# runs.tsv: round server cell workers status wrk_file wall_ms srv_ticks clk_tck cli_ms note [upstream_ticks]
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${10}" "${11}" "${12:-}" >> "$OUT/runs.tsv"; }

run_cell() { # round server cell workers
  local r=$1 s=$2 c=$3 w=$4 path mode=ka
  path=$(cell_path "$c")
  case $c in close612) mode=close ;; pipe16) mode=pipe ;; esac
  if [ "$s" = floor ] && { [ "$c" = ka64k ] || [ "$c" = ka1m ]; }; then
    record "$r" "$s" "$c" "$w" "n/a" "-" 0 0 "$CLK_TCK" 0 "floor serves only the 612-byte page"; return
  fi
  if [[ " $BAD_FILES " == *" ${path#/} "* ]]; then
    record "$r" "$s" "$c" "$w" "badcontent" "-" 0 0 "$CLK_TCK" 0 "served wrong bytes for $path"; return
  fi
  wrk_run "$w" "$path" "$DURATION" "$mode" "$s-$c-r$r"
  local upt=""; [ "$c" = proxy ] && upt=$W_UP_TICKS
  record "$r" "$s" "$c" "$w" ok "$W_FILE" "$W_WALL_MS" "$W_SRV_TICKS" "$CLK_TCK" "$W_CLI_MS" "-" "$upt"
  log "  $s $c: $(wrk_summary "$W_FILE"), server CPU $(( W_SRV_TICKS * 1000 / CLK_TCK )) ms${upt:+, upstream CPU $(( upt * 1000 / CLK_TCK )) ms} in $W_WALL_MS ms"
}

# ---- idlecpu: no traffic; context switches from /proc, then syscalls from strace
idlecpu_cell() { # server
  local s=$1 pids n0 n1 c0 c1 t0 t1 out args=() p
  sleep 1
  pids=$(server_pids)
  # shellcheck disable=SC2086
  n0=$(ctx_switches $pids); c0=$(cpu_ticks $pids); t0=$(date +%s%N)
  sleep "$IDLE_SECS"
  # shellcheck disable=SC2086
  n1=$(ctx_switches $pids); c1=$(cpu_ticks $pids); t1=$(date +%s%N)
  out=$OUT/raw/idlecpu-strace-$s.txt
  for p in $pids; do args+=(-p "$p"); done
  run_wait "$OUT/raw/idlecpu-strace-$s.err" timeout -s INT -k 5 "$IDLE_SECS" strace -c -f -o "$out" "${args[@]}"
  local st=ok; [ -s "$out" ] || st="nostrace"
  # idlecpu.tsv: server status ms ctx_delta cpu_ticks clk_tck threads strace_file strace_secs note
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$st" "$(( (t1 - t0) / 1000000 ))" "$(( n1 - n0 ))" "$(( c1 - c0 ))" "$CLK_TCK" \
    "$(nthreads $pids)" "$out" "$IDLE_SECS" "-" >> "$OUT/idlecpu.tsv"
  log "  $s idle ${IDLE_SECS}s: $(( n1 - n0 )) context switches, $(( (c1 - c0) * 1000 / CLK_TCK )) ms CPU"
}

# ---- syscalls: strace -c -f on every server process during a ka612 wrk run
syscalls_cell() { # server
  local s=$1 pids out err args=() p sp i n np
  pids=$(server_pids)
  for p in $pids; do args+=(-p "$p"); done
  out=$OUT/raw/syscalls-strace-$s.txt; err=$OUT/raw/syscalls-strace-$s.err
  strace -c -f -o "$out" "${args[@]}" 2>"$err" &
  sp=$!; BG_PIDS+=("$sp")
  np=$(echo "$pids" | wc -w)
  for i in $(seq 1 50); do
    n=$(grep -c 'attached' "$err" 2>/dev/null); [ "${n:-0}" -ge "$np" ] && break; sleep 0.1
  done
  sleep 0.3
  wrk_run 1 /index.html "$SYSCALL_SECS" ka "$s-syscalls"
  stop_pid "$sp" INT
  local st=ok; [ -s "$out" ] || st="nostrace"
  # syscalls.tsv: server status strace_file wrk_file note
  printf '%s\t%s\t%s\t%s\t-\n' "$s" "$st" "$out" "$W_FILE" >> "$OUT/syscalls.tsv"
  log "  $s syscalls: traced $(wrk_summary "$W_FILE")"
}

# ---- idle: K idle keep-alive connections, RSS per connection, p99 without/with
idle_cell() { # server
  local s=$1 k=$IDLE_K cap note="-" pids r0 r1 procs per i src cp
  cap=$(idle_capacity "$s")
  if [ "$k" -gt "$cap" ]; then k=$cap; note="capped at $cap by the open-files limit $NOFILE"; fi
  local k0 k1 k2 k3
  k0=$(reclaim_ticks)
  local wrk0="" wrk1="" j
  for j in $(seq 1 "$IDLE_RUNS"); do
    wrk_run 1 /index.html "$IDLE_WRK" ka "$s-idle-without-$j"
    wrk0="$wrk0${wrk0:+,}$W_FILE"
  done
  k1=$(reclaim_ticks)
  sleep 0.5
  pids=$(server_pids)
  # shellcheck disable=SC2086
  r0=$(rss_bytes $pids)
  per=4000; procs=$(( (k + per - 1) / per )); [ "$procs" -lt 2 ] && procs=2
  local cps=() readies=() release=$TMP/idle.release pre
  rm -f "$release" "$TMP"/idle.ready.* "$TMP"/idle.out.*
  pre=$(client_pin 1)
  for i in $(seq 1 "$procs"); do
    local share=$(( k / procs )); [ "$i" -le $(( k % procs )) ] && share=$(( share + 1 ))
    src=127.0.0.$(( i + 1 ))
    # shellcheck disable=SC2086
    $pre python3 "$BENCH_DIR/idle_client.py" "$HOST" "$SRV_PORT" /index.html "$share" "$src" \
      "$TMP/idle.ready.$i" "$release" $(( IDLE_WRK * IDLE_RUNS + 300 )) >"$TMP/idle.out.$i" 2>&1 &
    cp=$!; cps+=("$cp"); BG_PIDS+=("$cp"); readies+=("$TMP/idle.ready.$i")
  done
  local all
  for i in $(seq 1 1500); do     # at most 150 s
    all=1
    for p in "${readies[@]}"; do [ -f "$p" ] || all=0; done
    [ "$all" = 1 ] && break
    for p in "${cps[@]}"; do alive "$p" || { all=1; break; }; done
    [ "$all" = 1 ] && break
    sleep 0.1
  done
  local opened=0 failed=0 errs=""
  for p in "${readies[@]}"; do
    [ -f "$p" ] || continue
    opened=$(( opened + $(sed -n 's/.*opened=\([0-9]*\).*/\1/p' "$p") ))
    failed=$(( failed + $(sed -n 's/.*failed=\([0-9]*\).*/\1/p' "$p") ))
    errs="$errs $(sed -n 's/.*error=\(.*\)$/\1/p' "$p")"
  done
  sleep 1
  pids=$(server_pids)
  # shellcheck disable=SC2086
  r1=$(rss_bytes $pids)
  k2=$(reclaim_ticks)
  for j in $(seq 1 "$IDLE_RUNS"); do
    wrk_run 1 /index.html "$IDLE_WRK" ka "$s-idle-with-$j"
    wrk1="$wrk1${wrk1:+,}$W_FILE"
  done
  k3=$(reclaim_ticks)
  touch "$release"
  local alive_n=0
  for i in "${!cps[@]}"; do
    for p in $(seq 1 100); do alive "${cps[$i]}" || break; sleep 0.1; done
    stop_pid "${cps[$i]}" TERM
    local a; a=$(sed -n 's/^alive=\([0-9]*\).*/\1/p' "$TMP/idle.out.$((i + 1))")
    alive_n=$(( alive_n + ${a:-0} ))
    cp "$TMP/idle.out.$((i + 1))" "$OUT/raw/idle-client-$s-$((i + 1)).txt" 2>/dev/null
  done
  [ "$failed" -gt 0 ] && note="$note; $failed failed:$(echo "$errs" | tr -s ' ' | cut -c1-80)"
  # idle.tsv: server status target opened alive rss0 rss1 wrk_without wrk_with note
  #           reclaim_ms_without reclaim_ms_with
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" ok "$k" "$opened" "$alive_n" "$r0" "$r1" "$wrk0" \
    "$wrk1" "$note" $(( (k1 - k0) * 1000 / CLK_TCK )) $(( (k3 - k2) * 1000 / CLK_TCK )) >> "$OUT/idle.tsv"
  local bpc="-"; [ "$opened" -gt 0 ] && bpc=$(( (r1 - r0) / opened ))
  log "  $s idle: $opened/$k opened, $alive_n still open at the end, RSS $r0 -> $r1 = $bpc B/conn"
  sleep 1
}

# ------------------------------------------------------------------ main
read -r -a SRV_LIST <<< "$SERVERS"
W1_CELLS=""
for c in ka612 pipe16 ka64k ka1m close612; do has_cell "$c" && W1_CELLS="$W1_CELLS $c"; done

{
  printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'command\t%s\n' "$COMMAND_LINE"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  printf 'nproc\t%s\n' "$NCPU"
  printf 'load_start\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  printf 'duration\t%s\n' "$DURATION"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'conns\t%s\n' "$CONNS"
  printf 'idle_k\t%s\n' "$IDLE_K"
  printf 'idle_wrk\t%s\n' "$IDLE_WRK"
  printf 'idle_runs\t%s\n' "$IDLE_RUNS"
  printf 'idle_secs\t%s\n' "$IDLE_SECS"
  printf 'syscall_secs\t%s\n' "$SYSCALL_SECS"
  printf 'pipe_depth\t%s\n' "$PIPE_DEPTH"
  printf 'pinned\t%s\n' "$([ "$PIN" = 1 ] && echo "server CPU $SERVER_CPU, wrk CPU $CLIENT_CPU (1-worker cells)" || echo no)"
  printf 'nofile\t%s\n' "$NOFILE"
  if has_cell proxy; then
    printf 'proxy_upstream\t%s\n' "nginx ($(server_version nginx)), 1 worker, $([ "$UPSTREAM_CPU" = none ] && echo unpinned || echo "pinned to CPU $UPSTREAM_CPU")"
    printf 'proxy_keepalive\t%s\n' "$PROXY_KEEPALIVE"
  fi
  printf 'servers\t%s\n' "$SERVERS"
  printf 'cells\t%s\n' "$CELLS"
  for s in $SERVERS; do printf 'version_%s\t%s\n' "$s" "$(server_version "$s")"; done
} > "$OUT/meta.tsv"
: > "$OUT/runs.tsv"

log "output: $OUT"
log "servers: $SERVERS | cells: $CELLS | ${DURATION}s x $ROUNDS round(s) | open files: $NOFILE"

if [ -n "${W1_CELLS// /}" ] || has_cell w2; then
  for r in $(seq 1 "$ROUNDS"); do
    n=${#SRV_LIST[@]}
    for j in $(seq 0 $(( n - 1 ))); do
      s=${SRV_LIST[$(( (j + r - 1) % n ))]}        # rotate the order each round
      if [ -n "${W1_CELLS// /}" ]; then
        log "== round $r/$ROUNDS: $s, 1 worker"
        if start_server "$s" 1 "r$r-w1"; then
          wrk_run 1 /index.html "$WARMUP" ka "$s-warmup-r$r" >/dev/null
          for c in $W1_CELLS; do run_cell "$r" "$s" "$c" 1; done
          stop_server
        else
          log "  $s did not start: $START_ERR"
          for c in $W1_CELLS; do record "$r" "$s" "$c" 1 failed "-" 0 0 "$CLK_TCK" 0 "$START_ERR"; done
        fi
      fi
      if has_cell w2; then
        log "== round $r/$ROUNDS: $s, 2 workers (unpinned)"
        if start_server "$s" 2 "r$r-w2"; then
          wrk_run 2 /index.html "$WARMUP" ka "$s-w2-warmup-r$r" >/dev/null
          run_cell "$r" "$s" w2 2
          stop_server
        else
          log "  $s did not start: $START_ERR"
          record "$r" "$s" w2 2 failed "-" 0 0 "$CLK_TCK" 0 "$START_ERR"
        fi
      fi
    done
  done
fi

if has_cell proxy; then
  # riptide and nginx as reverse proxies of one nginx upstream that runs for
  # the whole cell; rounds interleaved and rotated like the other cells
  P_LIST=()
  for s in "${SRV_LIST[@]}"; do
    case " $PROXY_SERVERS " in *" $s "*) P_LIST+=("$s") ;; *) log "proxy cell: $s skipped (riptide and nginx only)" ;; esac
  done
  if [ "${#P_LIST[@]}" -gt 0 ]; then
    log "== proxy cell: starting the upstream (nginx, 1 worker, $([ "$UPSTREAM_CPU" = none ] && echo unpinned || echo "CPU $UPSTREAM_CPU"))"
    if start_upstream; then
      log "  upstream on $HOST:$UP_PORT"
      for r in $(seq 1 "$ROUNDS"); do
        n=${#P_LIST[@]}
        for j in $(seq 0 $(( n - 1 ))); do
          s=${P_LIST[$(( (j + r - 1) % n ))]}
          log "== round $r/$ROUNDS: $s as reverse proxy, 1 worker"
          if ! alive "$UP_PID"; then
            record "$r" "$s" proxy 1 failed "-" 0 0 "$CLK_TCK" 0 "the upstream exited"; continue
          fi
          if start_server "$s" 1 "r$r-proxy" "$UP_PORT"; then
            wrk_run 1 /index.html "$WARMUP" ka "$s-proxy-warmup-r$r" >/dev/null
            run_cell "$r" "$s" proxy 1
            stop_server
          else
            log "  $s did not start as a proxy: $START_ERR"
            record "$r" "$s" proxy 1 failed "-" 0 0 "$CLK_TCK" 0 "$START_ERR"
          fi
        done
      done
      stop_upstream
    else
      log "  $START_ERR"
      for s in "${P_LIST[@]}"; do record 1 "$s" proxy 1 failed "-" 0 0 "$CLK_TCK" 0 "$START_ERR"; done
    fi
  fi
fi

if has_cell idlecpu || has_cell syscalls || has_cell idle; then
  for s in "${SRV_LIST[@]}"; do
    log "== $s: idle and syscall cells, 1 worker"
    if ! start_server "$s" 1 "once"; then
      log "  $s did not start: $START_ERR"
      has_cell idlecpu && printf '%s\tfailed\t\t\t\t\t\t\t\t%s\n' "$s" "$START_ERR" >> "$OUT/idlecpu.tsv"
      has_cell syscalls && printf '%s\tfailed\t\t\t%s\n' "$s" "$START_ERR" >> "$OUT/syscalls.tsv"
      has_cell idle && printf '%s\tfailed\t\t\t\t\t\t\t\t%s\n' "$s" "$START_ERR" >> "$OUT/idle.tsv"
      continue
    fi
    wrk_run 1 /index.html "$WARMUP" ka "$s-once-warmup" >/dev/null
    has_cell idlecpu && idlecpu_cell "$s"
    has_cell syscalls && syscalls_cell "$s"
    has_cell idle && idle_cell "$s"
    stop_server
  done
fi

# ------------------------------------------------------------------ report
printf 'load_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/meta.tsv"
rargs=("$OUT")
[ "$UPDATE_DOCS" = 1 ] && rargs+=(--update-docs "$REPO/docs/PERFORMANCE.md")
python3 "$BENCH_DIR/report.py" "${rargs[@]}" || die "report.py failed"
if command -v gnuplot >/dev/null 2>&1; then
  if "$BENCH_DIR/chart.sh" "$OUT"; then
    [ "$UPDATE_DOCS" = 1 ] && [ -f "$OUT/bench-chart.png" ] && cp "$OUT/bench-chart.png" "$REPO/docs/bench-chart.png"
  else
    log "chart.sh failed (the report is complete without it)"
  fi
else
  log "no gnuplot: no chart (bench/setup.sh installs it)"
fi
cat "$OUT/report.md"
log "report: $OUT/report.md"
exit 0

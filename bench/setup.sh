#!/usr/bin/env bash
# bench/setup.sh - install what the benchmark needs from Debian, if missing.
#
# Idempotent and quiet when everything is present. The peer servers (nginx,
# h2o, lighttpd) are installed for their binaries only: the bench starts its
# own instances with its own config files on its own ports, so the system
# services that the packages bring are kept from starting (policy-rc.d while
# installing) and are stopped and disabled if they run anyway.
#
# Usage: bench/setup.sh [-q]     (-q: print nothing unless something fails)

set -u
set -o pipefail

QUIET=0
[ "${1:-}" = -q ] && QUIET=1
say() { [ "$QUIET" = 1 ] || echo "bench/setup.sh: $*" >&2; }
die() { echo "bench/setup.sh: $*" >&2; exit 1; }

# command -> Debian package
declare -A PKG_OF=(
  [wrk]=wrk
  [nginx]=nginx-light
  [h2o]=h2o
  [lighttpd]=lighttpd
  [gnuplot]=gnuplot-nox
  [strace]=strace
  [curl]=curl
  [python3]=python3
  [gcc]=gcc
  [taskset]=util-linux
  [ss]=iproute2
  [ps]=procps
  [valgrind]=valgrind
  [callgrind_annotate]=valgrind
)
SERVICES=(nginx h2o lighttpd)

missing=()
for c in "${!PKG_OF[@]}"; do
  # /usr/sbin is where the servers live; root's PATH has it, others may not
  if ! command -v "$c" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$c" ]; then
    missing+=("${PKG_OF[$c]}")
  fi
done

stop_services() {
  local s
  command -v systemctl >/dev/null 2>&1 || return 0
  [ -d /run/systemd/system ] || return 0      # no systemd running (container)
  for s in "${SERVICES[@]}"; do
    if systemctl is-active --quiet "$s" 2>/dev/null; then
      say "stopping the system $s service (the bench runs its own)"
      systemctl stop "$s" >/dev/null 2>&1
    fi
    if systemctl is-enabled --quiet "$s" 2>/dev/null; then
      systemctl disable "$s" >/dev/null 2>&1
    fi
  done
}

# Without systemd, the init scripts may have started daemons: stop those by
# the PID files that the packages' own configs write (never by name).
stop_pidfile_daemons() {
  local f p
  for f in /run/nginx.pid /run/h2o.pid /run/lighttpd.pid /var/run/nginx.pid /var/run/h2o.pid /var/run/lighttpd.pid; do
    [ -f "$f" ] || continue
    p=$(tr -dc '0-9' < "$f")
    [ -n "$p" ] && [ -d "/proc/$p" ] || continue
    say "stopping a system daemon left by the package (pid $p from $f)"
    kill -TERM "$p" 2>/dev/null
  done
}

if [ "${#missing[@]}" -eq 0 ]; then
  stop_services
  exit 0
fi

[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or: sudo apt-get install -y ${missing[*]}"
command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${missing[*]} by hand"

# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
say "installing: ${missing[*]}"

# Keep the package scripts from starting services: policy-rc.d exit 101.
POLICY=/usr/sbin/policy-rc.d
POLICY_OURS=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\n# written by riptide bench/setup.sh while installing; removed after\nexit 101\n' > "$POLICY"
  chmod 755 "$POLICY"
  POLICY_OURS=1
fi
cleanup() { [ "$POLICY_OURS" = 1 ] && rm -f "$POLICY"; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
LOG=$(mktemp "${TMPDIR:-/tmp}/bench-setup.XXXXXX")
if ! timeout 600 apt-get update >"$LOG" 2>&1; then
  tail -20 "$LOG" >&2; rm -f "$LOG"; die "apt-get update failed"
fi
if ! timeout 1200 apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1; then
  tail -30 "$LOG" >&2; rm -f "$LOG"; die "apt-get install failed"
fi
rm -f "$LOG"

stop_services
stop_pidfile_daemons
say "done"
exit 0

#!/usr/bin/env bash
# bench/chart.sh - bar chart of one bench/run.sh run, from its own numbers.
#
# Usage: bench/chart.sh OUT_DIR [PNG]
#   Reads OUT_DIR/chart.dat (written by bench/report.py) and draws, per
#   server, req/s and requests per server core-second for ka612 and w2 with
#   gnuplot. Writes PNG (default OUT_DIR/bench-chart.png). run.sh calls it and,
#   with --update-docs, copies the picture to docs/bench-chart.png.

set -u
set -o pipefail

[ $# -ge 1 ] && [ "$1" != -h ] || { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0"; exit 2; }
OUT=$1
PNG=${2:-$OUT/bench-chart.png}
DAT=$OUT/chart.dat
[ -f "$DAT" ] || { echo "chart.sh: no $DAT (run bench/report.py first)" >&2; exit 1; }
command -v gnuplot >/dev/null 2>&1 || { echo "chart.sh: gnuplot missing (bench/setup.sh)" >&2; exit 1; }
grep -v '^#' "$DAT" | grep -q . || { echo "chart.sh: $DAT is empty" >&2; exit 1; }

TERM_LINE="set terminal pngcairo size 1200,560 font 'sans,10'"
gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1 || TERM_LINE="set terminal png size 1200,560"
TITLE=$(awk -F'\t' '$1=="date"{d=$2} $1=="duration"{s=$2} $1=="rounds"{r=$2} END{printf "%s, %ss x %s round(s), median", d, s, r}' "$OUT/meta.tsv" 2>/dev/null)

# plot only the columns that have numbers (a cell left out of the run has none)
has() { awk -v c="$1" '!/^#/ && $c != "?" {f=1} END{exit !f}' "$DAT"; }
RPS_PLOT=""; CORE_PLOT=""
if has 2; then RPS_PLOT="'$DAT' using 2:xtic(1) title 'ka612 (1 worker, pinned)' lc rgb '#1f77b4'"; fi
if has 4; then RPS_PLOT="${RPS_PLOT:+$RPS_PLOT, }'$DAT' using 4:xtic(1) title 'w2 (2 workers)' lc rgb '#aec7e8'"; fi
if has 3; then CORE_PLOT="'$DAT' using 3:xtic(1) title 'ka612' lc rgb '#d62728'"; fi
if has 5; then CORE_PLOT="${CORE_PLOT:+$CORE_PLOT, }'$DAT' using 5:xtic(1) title 'w2' lc rgb '#ff9896'"; fi
[ -n "$RPS_PLOT" ] && [ -n "$CORE_PLOT" ] || { echo "chart.sh: no ka612 or w2 numbers in $DAT: no chart" >&2; exit 1; }

timeout 60 gnuplot <<EOF
$TERM_LINE
set output '$PNG'
set datafile missing '?'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set format y "%.0s%c"
set key below horizontal
set xtics nomirror
set multiplot layout 1,2 title "riptide bench: $TITLE" font ",11"
set title "requests per second (wrk, 50 connections)"
plot $RPS_PLOT
set title "requests per server core-second"
plot $CORE_PLOT
unset multiplot
EOF

#!/usr/bin/env bash
# A soak of natterd (issue 17): hours of mixed load, watching that nothing
# grows once the server has warmed up.
#
#   build-aux/soak.sh [MINUTES]        (default 60)
#
# Starts natterd (plain TCP on 127.0.0.1, SQLite, a fresh data directory,
# the benchmark's relaxed limits) and runs the benchmark's scenarios
# against it in turn until MINUTES have passed: fan-out to a room at a
# fixed rate, direct messages, logins with a reconnect storm, history
# reads, and thousands of idle connections opened and dropped. Every 10 s
# it samples natterd's resident memory (VmRSS), open descriptors
# (/proc/PID/fd) and threads into a CSV.
#
# The rule, checked at the end: the first WARMUP_PERCENT (default 20 %) of
# the samples are the warm-up; the rest is cut in thirds, and
#   - RSS: the last third's maximum is at most RSS_GROWTH_PERCENT (10 %)
#     above the first third's maximum;
#   - threads: the last third's maximum is at most the first third's;
#   - descriptors: after every cycle, once its connections are gone,
#     natterd is back to the descriptors it had before any load (+ FD_SLACK,
#     default 8). (A maximum under load would only say whether a sample
#     fell in the few seconds of the idle scenario's 2,000 connections.)
# The thirds compare maxima of whole cycles when each spans at least one
# cycle of scenarios (75 s on an idle 2-CPU machine, 3 minutes at most on
# a loaded one): run 20 minutes or more.
#
# Environment: BUILD (default _build/plain: a build with natterd and
# natter-bench), OUT (default $BUILD/soak: samples.csv, soak.png, the
# logs), PNG (where to copy the plot too, e.g. docs/images/soak.png),
# MALLOC_STATS=1 (glibc: also what malloc holds, every 10 s, in
# malloc.csv, from build-aux/soak-malloc-stats.c preloaded into natterd;
# it adds one thread to natterd's count).
# Exits 0 when the rule holds, 1 when it does not, 2 on a setup failure.
set -euo pipefail

minutes=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/_build/plain}
out=${OUT:-$build/soak}
warmup_percent=${WARMUP_PERCENT:-20}
rss_growth_percent=${RSS_GROWTH_PERCENT:-10}
fd_slack=${FD_SLACK:-8}
interval=10

natterd="$build/server/natterd"
bench="$build/bench/natter-bench"
for f in "$natterd" "$bench"; do
  [ -x "$f" ] || { echo "soak: $f is missing (meson compile -C $build)" >&2; exit 2; }
done

rm -rf "$out"
mkdir -p "$out/data"
csv="$out/samples.csv"
log="$out/bench.log"
phase_file="$out/phase"

# The benchmark's limits (bench/bench-server.c): one address sends as
# fast as it can, opens thousands of connections, registers in bulk.
cat > "$out/natterd.conf" <<'EOF'
[limits]
frames_per_second=10000000
frame_burst=10000000
connections_per_address=1000000
registrations_per_hour_per_address=10000000
failed_logins_per_minute_per_address=10000000
failed_logins_per_minute_per_user=10000000
hash_queue_per_thread=10000000
messages_per_minute_per_user=100000000
output_queue_bytes=268435456
handshake_timeout=600
login_timeout=600
idle_timeout=3600
EOF

# The idle scenario holds thousands of connections in this process.
ulimit -n "$(ulimit -Hn)"

natterd_pid=
sampler_pid=
cleanup() {
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$natterd_pid" ] && kill "$natterd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

preload=()
if [ "${MALLOC_STATS:-0}" = 1 ]; then
  cc -shared -fPIC -O2 -o "$out/soak-malloc-stats.so" "$root/build-aux/soak-malloc-stats.c" -lpthread ||
    { echo "soak: could not build soak-malloc-stats.so" >&2; exit 2; }
  echo "seconds,in_use_kb,free_kb,mapped_kb" > "$out/malloc.csv"
  preload=(env LD_PRELOAD="$out/soak-malloc-stats.so" SOAK_MALLOC_STATS="$out/malloc.csv")
fi

mkfifo "$out/natterd.out"
"${preload[@]}" "$natterd" --no-tls --listen 127.0.0.1:0 --data-dir "$out/data" \
  --config "$out/natterd.conf" > "$out/natterd.out" 2> "$out/natterd.log" &
natterd_pid=$!
# natterd's first line on stdout: "listening 127.0.0.1:PORT".
exec 3< "$out/natterd.out"
read -r -t 60 line <&3 || { echo "soak: natterd did not start (see $out/natterd.log)" >&2; exit 2; }
cat <&3 > /dev/null &
port=${line##*:}
server="127.0.0.1:$port"

sample() {
  local rss threads fds
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$natterd_pid/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$natterd_pid/status")
  fds=$(ls "/proc/$natterd_pid/fd" | wc -l)
  echo "$rss $fds $threads"
}

echo "seconds,rss_kb,fds,threads,phase" > "$csv"
start=$(date +%s)
echo "idle" > "$phase_file"
(
  while kill -0 "$natterd_pid" 2>/dev/null; do
    read -r rss fds threads < <(sample)
    echo "$(( $(date +%s) - start )),$rss,$fds,$threads,$(cat "$phase_file")" >> "$csv"
    sleep "$interval"
  done
) &
sampler_pid=$!

read -r _ fds_before _ < <(sample)

# Waits (a minute at most) for natterd's descriptors to come back down
# once the load's connections are gone; prints the count.
settle() {
  local fds=0
  for _ in $(seq 60); do
    read -r _ fds _ < <(sample)
    [ "$fds" -le $(( fds_before + fd_slack )) ] && break
    sleep 1
  done
  echo "$fds"
}

run() {
  local phase=$1; shift
  echo "$phase" > "$phase_file"
  echo "=== $(date -u +%T) $phase: natter-bench $*" >> "$log"
  "$bench" --server "$server" --pid "$natterd_pid" --users-cache "$out/users.txt" \
    --threads 2 --timeout 300 "$@" >> "$log" 2>&1 || echo "(exit $?)" >> "$log"
  kill -0 "$natterd_pid" 2>/dev/null || { echo "soak: natterd died during $phase" >&2; exit 1; }
}

end=$(( start + minutes * 60 ))
cycles=0
fds_after=0
while [ "$(date +%s)" -lt "$end" ]; do
  run fanout fanout -n 100 -p 4 -w 64 -m 20000 --rate 1000
  run dm dm --pairs 20 -w 64 -m 20000
  run storm login -c 256 -u 100 -d 3 --storm 1000
  run history history --prefill 20000 -q 200 -w 64
  run idle idle -c 2000 -u 100
  cycles=$(( cycles + 1 ))
  echo "between" > "$phase_file"
  fds=$(settle)
  fds_after=$(( fds > ${fds_after:-0} ? fds : ${fds_after:-0} ))
done
echo "quiet" > "$phase_file"
read -r rss fds threads < <(sample)
echo "$(( $(date +%s) - start )),$rss,$fds,$threads,quiet" >> "$csv"
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=

# The rule (see the header), on the samples taken under load.
verdict=$(awk -F, -v warm="$warmup_percent" -v grow="$rss_growth_percent" -v slack="$fd_slack" \
  -v before="$fds_before" -v after="$fds_after" '
  NR > 1 && $5 != "quiet" { n++; rss[n] = $2; fd[n] = $3; th[n] = $4 }
  END {
    first = int(n * warm / 100) + 1; len = n - first + 1; third = int(len / 3)
    if (third < 1) { print "FAIL too few samples (" n ")"; exit }
    for (i = first; i < first + third; i++) {
      if (rss[i] > r1) r1 = rss[i]; if (th[i] > t1) t1 = th[i] }
    for (i = n - third + 1; i <= n; i++) {
      if (rss[i] > r3) r3 = rss[i]; if (th[i] > t3) t3 = th[i] }
    ok = (r3 <= r1 * (1 + grow / 100)) && (t3 <= t1) && (after <= before + slack)
    printf "%s samples=%d warmup=%d third=%d rss_kb first=%d last=%d (%+.1f%%) threads first=%d last=%d fds_before=%d fds_between_cycles_max=%d\n",
      ok ? "PASS" : "FAIL", n, first - 1, third, r1, r3, (r3 - r1) * 100 / r1, t1, t3, before, after
  }' "$csv")

in_use_plot=
[ -s "$out/malloc.csv" ] &&
  in_use_plot=", \"$out/malloc.csv\" using (\$1/60):(\$2/1024) with lines lw 2 title \"malloc: in use\""
gnuplot <<EOF
set terminal pngcairo size 1100,700 font "sans,10"
set output "$out/soak.png"
set datafile separator ","
set key autotitle columnhead top left
set multiplot layout 3,1 title "natterd under a $minutes-minute soak ($cycles cycles of fanout, dm, login storm, history, idle)"
set xlabel "minutes"
set ylabel "RSS (MiB)"
plot "$csv" using (\$1/60):(\$2/1024) with lines lw 2 title "VmRSS"$in_use_plot
set ylabel "descriptors"
plot "$csv" using (\$1/60):3 with lines lw 2 title "open descriptors"
set ylabel "threads"
set yrange [0:*]
plot "$csv" using (\$1/60):4 with lines lw 2 title "threads"
unset multiplot
EOF
[ -n "${PNG:-}" ] && cp "$out/soak.png" "$PNG"

echo "soak: $minutes min, $cycles cycles, natterd pid $natterd_pid, samples in $csv, plot $out/soak.png"
echo "soak: $verdict"
case "$verdict" in PASS*) exit 0 ;; *) exit 1 ;; esac

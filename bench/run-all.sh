#!/usr/bin/env bash
# Runs every figure of docs/performance.md, in order, against a release build.
#
#   bench/run-all.sh BUILD_DIR DATA_DIR [LOG]
#
# BUILD_DIR: a meson build with -Dbuildtype=release (natterd and natter-bench).
# DATA_DIR:  kept between runs: the benchmark users (registered once, argon2id
#            is slow on purpose) and the 1,000,000-message history database.
# Each run prints a table and a JSON line; LOG (default DATA_DIR/results.log)
# collects everything. NICE (default -20, needs root; 0 to skip) raises the
# priority of the tool and the servers it starts: on a machine shared with
# builds and test suites, the figures then measure natterd, not the
# scheduler. Each run prints the load average it started under.
set -euo pipefail

build=${1:?build dir}
data=${2:?data dir}
log=${3:-$data/results.log}
bench="$build/bench/natter-bench"
natterd="$build/server/natterd"
mkdir -p "$data"

nice=${NICE:--20}

run() {
  echo "\$ natter-bench $*" | tee -a "$log"
  nice -n "$nice" "$bench" --natterd "$natterd" "$@" 2>&1 | tee -a "$log" || echo "(exit $?)" | tee -a "$log"
}

{
  echo "=== $(date -u +%FT%TZ) $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  echo "kernel $(uname -r); $(meson introspect --buildoptions "$build" 2>/dev/null | python3 -c 'import json,sys; print("buildtype", [o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo buildtype ?)"
} | tee -a "$log"

# Fan-out as fast as possible: 4 senders, 64 unacknowledged each, 100 bytes,
# natterd then redis-server with the same numbers.
run --data-dir "$data/fanout" fanout -n 100   -p 4 -w 64 -m 100000 --compare-redis
run --data-dir "$data/fanout" fanout -n 1000  -p 4 -w 64 -m 40000  --compare-redis
run --data-dir "$data/fanout" fanout -n 10000 -p 4 -w 64 -m 4000   --compare-redis --timeout 900

# The same to 1,000 members over TLS (natterd with TLS on, the tool's
# engine speaking it): what encryption costs per delivery.
run --data-dir "$data/fanout" --tls fanout -n 1000 -p 4 -w 64 -m 10000

# Message actions (issue 14): the same fan-out to 1,000 members on
# connections that log in with message_actions, first sends only, then
# with 10 % edits, 10 % reactions and 2 % deletes (the defaults of
# --edits/--reactions/--deletes) in one natterd; the second report has the
# latencies of messages and of changes and the ratios to the first. As
# fast as possible, then at a fixed 200 actions/s (200,000 deliveries/s);
# three times each: the disk's fsync stalls move the p99 between runs.
for i in 1 2 3; do
  run --data-dir "$data/fanout" mixed -n 1000 -p 4 -w 64 -m 20000
done
for i in 1 2 3; do
  run --data-dir "$data/fanout" mixed -n 1000 -p 4 -w 64 -m 4000 --rate 200
done
# On PostgreSQL (a throw-away one, fsync on; registers the users anew).
run --database postgresql-temp mixed -n 1000 -p 4 -w 64 -m 20000 --timeout 900

# Latency at a fixed 100,000 deliveries per second (1,000 messages/s to 100).
# Three times: its p99 moves with the disk's fsync tail from run to run.
run --data-dir "$data/fanout" fanout -n 100 -p 4 -w 64 -m 20000 --rate 1000 --compare-redis
run --data-dir "$data/fanout" fanout -n 100 -p 4 -w 64 -m 20000 --rate 1000
run --data-dir "$data/fanout" fanout -n 100 -p 4 -w 64 -m 20000 --rate 1000

# Files (issue 15): a 100 MiB file up and down over TLS (feature files),
# beside a raw TLS copy of the same bytes in the same process, with
# natterd's peak memory; a fresh temporary data directory each time. Three
# times on each engine: the disk's fsync stalls move the upload.
for i in 1 2 3; do
  run files --size 100M --timeout 900
done
for i in 1 2 3; do
  run --database postgresql-temp files --size 100M --timeout 900
done

# Idle connections, plain then TLS.
for n in 1000 5000 10000 19000; do
  run --data-dir "$data/idle" idle -c $n -u 100 --timeout 900
done
# TLS: 21 KB per connection since natterd stopped loading the CA bundle per
# connection (docs/performance.md, F4); the handshakes set the pace.
for n in 500 2000; do
  run --data-dir "$data/idle-tls" --tls idle -c $n -u 100 --timeout 900
done

# Durable direct messages.
for p in 1 10 50 200; do
  run --data-dir "$data/dm" dm --pairs $p -w 64 -m 200000
done

# Logins and the reconnect storm.
for s in 1000 10000; do
  run --data-dir "$data/login" login -c 256 -u 100 -d 5 --storm $s --timeout 900
done

# History on 1,000,000 messages (filled once). Twice: a VM that keeps
# little in its page cache reads the database from disk in the first run
# (cold); the second, right after, is warm (docs/performance.md).
run --data-dir "$data/history" history --prefill 1000000 -q 1000 -w 256 --timeout 3600
run --data-dir "$data/history" history --prefill 1000000 -q 1000 -w 256 --timeout 3600

#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (_build/fuzz,
# -Dfuzzing=true), runs each over its seed corpus once (the fuzz suite of
# meson test), then fuzzes each for SECONDS (default 60; 0: the seeds
# only). One line per target, "fuzz: TARGET passed" or "fuzz: TARGET
# FAILED …" with the path of the input that crashed, leaked or hung; exits
# non-zero when any failed. docs/reliability.md says how to reproduce.
#
#   build-aux/fuzz.sh          # a minute a target
#   build-aux/fuzz.sh 600      # a longer campaign
set -uo pipefail

seconds=${1:-60}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$top/_build/fuzz"
cd "$top"

# llvm-14 installs its symbolizer under a versioned name only; without it a
# crash's stack trace is bare addresses.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

opts=(-Dfuzzing=true -Dapp=false -Dbuildtype=debugoptimized)
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null
else
  CC=clang-14 meson setup "$dir" "${opts[@]}" >/dev/null
fi || { echo "fuzz: could not configure $dir (is clang-14 installed?)"; exit 1; }
meson compile -C "$dir" || { echo "fuzz: the fuzz build FAILED to compile"; exit 1; }

# The seeds first: an input that once crashed stays in its corpus.
rm -f "$dir/meson-logs/testlog.json"
meson test -C "$dir" --suite fuzz --print-errorlogs --num-processes 1 >/dev/null

failures=0
# Every target has a seed corpus named after it (fuzz-glib-fatal.c and
# the like are helpers the targets link, not targets).
for source in tests/fuzz/corpus/*/; do
  target=$(basename "$source")
  exe="$dir/tests/fuzz/$target"
  work="$dir/runs/$target"

  if ! python3 - "$dir/meson-logs/testlog.json" "$target" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    test = json.loads(line)
    if test["name"].split(" / ")[-1] == sys.argv[2]:
        sys.exit(0 if test["result"] == "OK" else 1)
sys.exit(1)
PY
  then
    echo "fuzz: $target FAILED on its seed corpus (meson test -C $dir --suite fuzz $target)"
    failures=$((failures + 1))
    continue
  fi
  [ "$seconds" -gt 0 ] || { echo "fuzz: $target passed (seeds only)"; continue; }

  # A copy of the seeds, kept between runs so that what one run found
  # is where the next one starts.
  mkdir -p "$work/corpus" "$work/crashes"
  cp -n tests/fuzz/corpus/"$target"/* "$work/corpus/"
  rm -f "$work"/crashes/*

  # fuzz-frame-reader's input is mostly control bytes: the protocol's
  # words would not help it. fuzz-server's natterd keeps what each input
  # made (users, messages) by design (fuzz-cluster-bus's, what the stream
  # and presence hold), so libFuzzer would take every input
  # for a possible leak, run it again and scan the heap: 4.5 times slower.
  # Its leaks are looked for once, at exit, in the seed run above.
  extra=()
  case $target in
    fuzz-frame-reader) ;;
    fuzz-server|fuzz-cluster-bus) extra=(-dict="$top/tests/fuzz/natter.dict" -detect_leaks=0) ;;
    *) extra=(-dict="$top/tests/fuzz/natter.dict") ;;
  esac

  "$exe" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/" "${extra[@]}" "$work/corpus" >"$work/log" 2>&1
  status=$?
  crash=$(ls "$work"/crashes/* 2>/dev/null | head -n 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  if [ $status -eq 0 ] && [ -z "$crash" ]; then
    echo "fuzz: $target passed (${runs:-?} inputs in ${seconds} s)"
  else
    echo "fuzz: $target FAILED: ${crash:-exit status $status}; log $work/log"
    failures=$((failures + 1))
  fi
done

[ $failures -eq 0 ]

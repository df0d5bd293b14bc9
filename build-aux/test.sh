#!/usr/bin/env bash
# Builds Natter and runs every test, three times: in a plain build, under
# AddressSanitizer + UndefinedBehaviorSanitizer, and in a portable build
# (-Dportable=true: the fallbacks other systems use, docs/building.md),
# each run's logs then scanned for secrets (tests/security/check-test-logs.py);
# checks that the app builds alone (-Dserver=false, as the Flatpak builds
# it: one test); then fuzzes each libFuzzer target of tests/fuzz for a
# while (build-aux/fuzz.sh), each target one test. Installs missing
# Debian packages first; safe to run again. The last line is
# "N passed, N failed".
#
#   build-aux/test.sh                 # every build, 30 s a fuzz target
#   NATTER_TEST_BUILDS=plain build-aux/test.sh
#   NATTER_TEST_FUZZ_SECONDS=0 build-aux/test.sh   # no fuzzing
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

bash build-aux/install-deps.sh || { echo "could not install dependencies"; echo "0 passed, 1 failed"; exit 1; }

builds=${NATTER_TEST_BUILDS:-plain sanitize portable app-only}
build_failures=0
build_passes=0
logs=()

for kind in $builds; do
  dir="$top/_build/test-$kind"
  case $kind in
    plain)    opts=(-Dbuildtype=debugoptimized) ;;
    sanitize) opts=(-Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false) ;;
    portable) opts=(-Dbuildtype=debugoptimized -Dportable=true) ;;
    app-only) opts=(-Dbuildtype=debugoptimized -Dserver=false) ;;
    *) echo "unknown build kind $kind"; exit 2 ;;
  esac

  echo "=== $kind build: $dir"
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "${opts[@]}" >/dev/null || { build_failures=$((build_failures + 1)); continue; }
  else
    meson setup "$dir" "${opts[@]}" >/dev/null || { build_failures=$((build_failures + 1)); continue; }
  fi
  if ! meson compile -C "$dir"; then
    echo "=== $kind build FAILED to compile"
    build_failures=$((build_failures + 1))
    continue
  fi
  # Without natterd there is nothing to test the app against: that it
  # builds is the test.
  if [ "$kind" = app-only ]; then
    echo "=== app-only build: compiled"
    build_passes=$((build_passes + 1))
    continue
  fi

  rm -f "$dir/meson-logs/testlog.json"
  if [ "$kind" = sanitize ]; then
    # GTK, fontconfig and GLib's type system keep memory until exit by
    # design; leak reports there are noise, so LeakSanitizer is off and
    # ASan/UBSan stop at the first real error.
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # The sanitizers make natterd several times slower: the tests' own
    # waits (natter_test_deadline_ms, 10 s) stretch with meson's.
    export NATTER_TEST_TIMEOUT_SCALE=3
    meson test -C "$dir" --print-errorlogs --num-processes 2 --timeout-multiplier 4
  else
    meson test -C "$dir" --print-errorlogs --num-processes 2
  fi
  unset ASAN_OPTIONS UBSAN_OPTIONS NATTER_TEST_TIMEOUT_SCALE
  logs+=("$dir/meson-logs/testlog.json")
  # No password, token or hash in any log line of the whole run
  # (docs/security.md): one test more, run once every test has written
  # its log.
  if python3 tests/security/check-test-logs.py "$top" "$dir/meson-logs/testlog.txt"; then
    build_passes=$((build_passes + 1))
  else
    echo "=== $kind build: a secret in the test logs"
    build_failures=$((build_failures + 1))
  fi
done

# A regression run of the fuzz targets: a crash, leak or hang is a
# failed test, whichever target found it.
fuzz_seconds=${NATTER_TEST_FUZZ_SECONDS:-30}
fuzz_passed=0
fuzz_failed=0
if [ "$fuzz_seconds" -gt 0 ]; then
  echo "=== fuzz: $fuzz_seconds s a target"
  fuzz_log=$(mktemp)
  bash build-aux/fuzz.sh "$fuzz_seconds" | tee "$fuzz_log"
  fuzz_status=${PIPESTATUS[0]}
  fuzz_passed=$(grep -c '^fuzz: .* passed' "$fuzz_log")
  fuzz_failed=$(grep -c '^fuzz: .* FAILED' "$fuzz_log")
  # No target got as far as a verdict: the build itself failed.
  if [ "$fuzz_status" -ne 0 ] && [ "$fuzz_failed" -eq 0 ]; then
    fuzz_failed=1
  fi
  rm -f "$fuzz_log"
fi

python3 - "$((build_failures + fuzz_failed))" "$((fuzz_passed + build_passes))" "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
failed += int(sys.argv[1])
passed += int(sys.argv[2])
for path in sys.argv[3:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        if not line.strip():
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
# CI reads the last line, which must be exactly "N passed, N failed":
# skipped programs are told on the line before.
if skipped:
    print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

#!/bin/sh
# Checks a natterd unit (natterd.service, or the template natterd@.service,
# which systemd-analyze checks as an instance of it): systemd-analyze must
# accept every directive, and the sandbox must stay tight: `systemd-analyze
# security` must score it at most THRESHOLD tenths on its 0-10 exposure
# scale (25 is 2.5; the shipped units score 1.6, a unit without sandboxing
# about 9).
#   check-unit.sh SYSTEMD-ANALYZE UNIT THRESHOLD
set -eu

analyze="$1"
unit="$2"
threshold="$3"
name="$(basename "$unit")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# verify insists that ExecStart= exists; natterd is not installed yet, so
# check a copy that runs /bin/true and is otherwise identical (and has the
# same name: a template stays a template).
sed 's|^ExecStart=/usr/bin/natterd |ExecStart=/bin/true |' "$unit" > "$work/$name"
grep -q '^ExecStart=/bin/true ' "$work/$name" || {
  echo "check-unit: ExecStart= is not /usr/bin/natterd ..." >&2
  exit 1
}

out="$("$analyze" verify "$work/$name" 2>&1)" || {
  printf '%s\n' "$out" >&2
  exit 1
}
# verify exits 0 for unknown or misspelt directives but warns about them.
if [ -n "$out" ]; then
  printf 'check-unit: systemd-analyze verify warned:\n%s\n' "$out" >&2
  exit 1
fi

"$analyze" security --offline=yes --threshold="$threshold" "$work/$name" > "$work/security.txt" 2>&1 || {
  grep -E '✗|exposure' "$work/security.txt" >&2 || cat "$work/security.txt" >&2
  exit 1
}
grep 'exposure' "$work/security.txt"

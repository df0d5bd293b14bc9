#!/bin/sh
# Checks a manual page against its program: every option that the
# program's --help-all lists is described in the page, and man(1) renders
# the page without a warning (skipped, and said so, without man-db).
#
#   check-man.sh PAGE PROGRAM
set -u
page=$1
program=$2
status=0

help=$("$program" --help-all) || { echo "$program --help-all failed"; exit 1; }
# The page's text with roff's escapes undone: "\-" is a hyphen, "\fB" and
# the like change the font.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")

# "  -l, --listen=HOST:PORT   ..." and "  --no-tls   ...": the options.
options=$(printf '%s\n' "$help" | grep -E '^ +-' | sed -E 's/^ +//; s/[= ].*//; s/,$//'
          printf '%s\n' "$help" | grep -oE '^ +-[A-Za-z], --[a-z][a-z-]*' | sed -E 's/.*, //')
for option in $options; do
  # Whole: "-l" is not found inside "--listen".
  if ! printf '%s\n' "$text" | grep -qE -- "(^|[^-a-z])$option([^a-z-]|\$)"; then
    echo "$page does not describe $option, which $program --help-all lists"
    status=1
  fi
done
echo "$page: $(echo $options | wc -w) options checked"

if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
  # What Debian's lintian runs.
  warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
             man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    printf '%s: man --warnings:\n%s\n' "$page" "$warnings"
    status=1
  fi
else
  echo "man or groff not installed: rendering not checked"
fi
exit $status

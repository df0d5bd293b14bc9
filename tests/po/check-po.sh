#!/bin/sh
# Checks every translation listed in po/LINGUAS: `msgfmt --check` (format
# strings, plural forms, the header) and `--check-accelerators=_` (a
# mnemonic kept where the original has one) find no error, and
# `--statistics` counts no untranslated or fuzzy message, so a language
# listed is complete. A .po that is out of date with the sources fails
# too: it is also merged with a fresh template (msgmerge), and what the
# template added shows as untranslated.
#
#   check-po.sh SOURCE_DIR
set -u
source_dir=$1
po_dir=$source_dir/po
status=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natter-check-po.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# The template, as `meson compile natter-pot` makes it (preset: 'glib').
python3 "$source_dir/tests/po/check-potfiles.py" --pot "$tmp/natter.pot" "$source_dir" >/dev/null || true
if [ ! -s "$tmp/natter.pot" ]; then
  echo "could not make the template"
  exit 1
fi

languages=$(sed -e 's/#.*//' "$po_dir/LINGUAS" | tr -s ' \t' '\n\n' | grep -v '^$')
if [ -z "$languages" ]; then
  echo "po/LINGUAS lists no language"
  exit 1
fi

for lang in $languages; do
  po=$po_dir/$lang.po
  if [ ! -f "$po" ]; then
    echo "$lang: po/$lang.po is missing"
    status=1
    continue
  fi
  for what in "po/$lang.po" "po/$lang.po merged with the current template"; do
    if [ "$what" = "po/$lang.po" ]; then
      file=$po
    else
      file=$tmp/$lang.po
      if ! msgmerge --quiet --no-fuzzy-matching --output-file="$file" "$po" "$tmp/natter.pot"; then
        echo "$lang: msgmerge failed"
        status=1
        continue
      fi
    fi
    out=$(LC_ALL=C msgfmt --check --check-accelerators=_ --statistics --output-file=/dev/null "$file" 2>&1)
    rc=$?
    printf '%s: %s\n' "$what" "$out"
    if [ $rc -ne 0 ]; then
      echo "$lang: msgfmt --check failed"
      status=1
    elif printf '%s\n' "$out" | grep -Eq 'untranslated|fuzzy'; then
      echo "$lang: not complete"
      status=1
    fi
  done
  # The header's plural forms are the language's (GNOME's, gettext's).
  case $lang in
    de) want='nplurals=2; plural=(n != 1);' ;;
    fr) want='nplurals=2; plural=(n > 1);' ;;
    *) want= ;;
  esac
  if [ -n "$want" ] && ! grep -qF "\"Plural-Forms: $want\\n\"" "$po"; then
    echo "$lang: Plural-Forms is not \"$want\""
    status=1
  fi
done
exit $status

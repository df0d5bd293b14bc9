#!/bin/sh
# Validates the AppStream metainfo as strictly as Debian 12's appstreamcli
# (0.16) allows: any error, warning or info fails, pedantic hints are only
# shown (the one there is, an upper-case letter in the component id, is the
# app id's). One info is expected: <developer id="...">, AppStream 1.0's
# tag, which Flathub asks for and 0.16 does not know. Then: no placeholder
# left, a release for this version, and every screenshot in the source
# tree where its URL (the repository's raw files) says.
#
#   check-metainfo.sh APPSTREAMCLI METAINFO VERSION SOURCE_DIR
set -u
appstreamcli=$1
metainfo=$2
version=$3
source_dir=$4
status=0

out=$("$appstreamcli" validate --no-net --pedantic --explain "$metainfo" 2>&1)
rc=$?
printf '%s\n' "$out"
issues=$(printf '%s\n' "$out" | grep -E '^[EWI]: ' | grep -vE '^I: [^ ]+ unknown-tag developer$')
if [ -n "$issues" ]; then
  printf 'not allowed:\n%s\n' "$issues"
  status=1
elif [ $rc -ne 0 ]; then
  echo "appstreamcli validate failed ($rc)"
  status=1
fi

if grep -nEi 'example\.(org|com|net)|placeholder|TODO|FIXME|your-?name' "$metainfo"; then
  echo "placeholders left in $metainfo"
  status=1
fi
if ! grep -q "<release version=\"$version\"" "$metainfo"; then
  echo "$metainfo has no <release> for version $version"
  status=1
fi
raw=https://raw.githubusercontent.com/natter/natter/main/
for url in $(grep -oE '<image>[^<]*</image>' "$metainfo" | sed -E 's/<\/?image>//g'); do
  case $url in
    "$raw"*) [ -f "$source_dir/${url#"$raw"}" ] || { echo "$url: no ${url#"$raw"} in the source tree"; status=1; } ;;
    *) echo "$url is not in the repository ($raw...)"; status=1 ;;
  esac
done
exit $status

#!/usr/bin/env bash
# Builds Natter and starts it: natterd on SQLite on localhost:7447, then the
# app. Installs missing Debian packages first; safe to run again. The
# server keeps its data in ~/.local/share/natter-dev/natterd and stops when
# the app closes. Without a display it runs natterd alone, in the
# foreground.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

bash build-aux/install-deps.sh

dir="$top/_build/run"
if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" -Dbuildtype=release >/dev/null
else
  meson setup "$dir" -Dbuildtype=release >/dev/null
fi
meson compile -C "$dir"

dev_dir="${XDG_DATA_HOME:-$HOME/.local/share}/natter-dev"
data_dir="$dev_dir/natterd"
# The accounts and messages in it are the user's alone, as in natterd's own
# default data directory; earlier runs of this script left the folder, and
# the files in it, readable by everyone.
mkdir -p "$(dirname "$dev_dir")"
(umask 077 && mkdir -p "$data_dir")
chmod -R go-rwx "$dev_dir"
listen="${NATTER_LISTEN:-127.0.0.1:7447}"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: running natterd alone on $listen (Ctrl+C stops it)."
  exec "$dir/server/natterd" --listen "$listen" --data-dir "$data_dir"
fi

# natterd prints "listening HOST:PORT" once it accepts connections.
fifo=$(mktemp -u)
mkfifo "$fifo"
"$dir/server/natterd" --listen "$listen" --data-dir "$data_dir" >"$fifo" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; rm -f "$fifo"' EXIT
if ! read -r -t 30 ready <"$fifo"; then
  echo "natterd did not start (is another one using $data_dir or $listen?)" >&2
  exit 1
fi
echo "natterd: $ready (data in $data_dir)"

# The build tree's schema and translations: nothing is installed.
GSETTINGS_SCHEMA_DIR="$dir/data" NATTER_LOCALEDIR="$dir/po" "$dir/app/natter" "$@"

#!/bin/sh
# Runs a GUI test program under a virtual X server and a private D-Bus
# session, with private XDG dirs and the build's compiled GSettings schemas,
# so it needs no display and touches nothing of the user's.
set -eu

build_dir=${NATTER_BUILD_DIR:?NATTER_BUILD_DIR must be set (tests/meson.build does)}

# --no-secret-service: no keyring on the private bus at all.
if [ "${1:-}" = --no-secret-service ]; then
  export NATTER_TEST_NO_SECRET_SERVICE=1
  shift
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/natter-gui-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

export XDG_DATA_HOME="$tmp/data"
export XDG_CONFIG_HOME="$tmp/config"
export XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state"
export XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

export GSETTINGS_SCHEMA_DIR="$build_dir/data"
export GSETTINGS_BACKEND=memory
export GDK_BACKEND=x11
export GTK_A11Y=none
export NO_AT_BRIDGE=1
# No GPU under Xvfb: the cairo renderer is the dependable one (and fast
# enough under ASan, where llvmpipe GL is not).
export GSK_RENDERER=cairo
# GTK and fontconfig keep caches for the life of the process; under ASan
# those read as leaks. Everything else ASan checks stays on.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
unset WAYLAND_DISPLAY DISPLAY

# Inside the private session: an unlocked keyring (new, in the private
# XDG_DATA_HOME) when gnome-keyring is installed, so the test can check that
# the sign-in is remembered. It goes away with the session bus.
inner='
  # test-gui-no-keyring: a bus with no Secret Service at all, as on
  # Windows, macOS or a bare window manager.
  if [ -z "${NATTER_TEST_NO_SECRET_SERVICE:-}" ] && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    if eval "$(printf natter-test | gnome-keyring-daemon --unlock --components=secrets)"; then
      export NATTER_TEST_KEYRING=1
    fi
  fi
  # A CRITICAL is a bug: fatal in the test and in the natterd it starts.
  # (The test program makes WARNINGs fatal too: g_test_init() does.) Set
  # here, after the keyring daemon started, which is not ours to judge.
  export G_DEBUG="${G_DEBUG:+$G_DEBUG,}fatal-criticals"
  exec "$@"'

# Without a Secret Service, none may be started on demand either: the
# bus gets a configuration with no service files (D-Bus activation would
# start gnome-keyring's org.freedesktop.secrets).
bus_config=
if [ -n "${NATTER_TEST_NO_SECRET_SERVICE:-}" ]; then
  mkdir -p "$tmp/no-services"
  cat > "$tmp/session.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$tmp/no-services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
  bus_config="--config-file=$tmp/session.conf"
fi

status=0
xvfb-run -a -s "-screen 0 1280x1024x24 -nolisten tcp" \
  dbus-run-session $bus_config -- sh -c "$inner" natter-gui-test "$@" || status=$?
exit $status

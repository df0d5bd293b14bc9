#!/usr/bin/env bash
# Installs the Debian 12 packages Natter needs to build, run and test.
# Safe to run again: it only asks apt for what is missing.
set -euo pipefail

packages=(
  # toolchain
  gcc meson ninja-build pkg-config gettext git
  # libraries (Debian 12 versions are the supported floor)
  libglib2.0-dev libjson-glib-dev libsqlite3-dev libsodium-dev
  libgnutls28-dev libgtk-4-dev libadwaita-1-dev libsecret-1-dev
  glib-networking
  # emoji in messages and reaction pills: without a colour emoji font,
  # fontconfig has no glyph for them and GTK draws empty boxes (as Xvfb
  # did in the screenshots). Debian's package, made for this job; the
  # desktops people run already have it
  fonts-noto-color-emoji
  # validation of desktop files, AppStream metadata and schemas; and of
  # the Flatpak manifest (tests/data/check-flatpak.sh reads it with
  # flatpak-builder --show-manifest, as Flathub's tools do: no network)
  desktop-file-utils appstream libglib2.0-bin flatpak-builder
  # headless GUI tests and screenshots
  xvfb xauth dbus dbus-x11 gnome-keyring imagemagick
  # Redis, natterd's live bus between the nodes of a cluster (issue 13):
  # libhiredis-dev is the client library (Debian 12: hiredis 0.14, its
  # async API and GLib adapter), redis-server the server the bus tests
  # start for themselves (and the benchmark's reference). Debian's
  # packages: well kept, and made for exactly this job.
  libhiredis-dev redis-server
  # HAProxy: tests/server/test-haproxy.c runs the example configuration
  # data/server/haproxy.cfg (Debian 12: haproxy 2.6, the version it is
  # written for) in front of two natterd nodes; only the test needs it
  haproxy
  # PostgreSQL: natterd's second storage engine links libpq; the tests
  # start a throw-away server from the postgresql package's binaries
  # (Debian 12: PostgreSQL 15, with postgresql-contrib)
  libpq-dev postgresql
  # the security review's TLS check (tests/security/test-tls.c) shakes
  # hands with natterd using GnuTLS's own client, gnutls-cli, and makes an
  # RSA certificate with certtool: both in gnutls-bin
  gnutls-bin
  # fuzzing (build-aux/fuzz.sh): clang with libFuzzer and the sanitizer
  # runtimes (libclang-rt-14-dev holds them; it is only a Recommends of
  # clang-14, which this script does not install), and llvm-14 for
  # llvm-symbolizer, which makes a crash's stack trace readable
  clang-14 libclang-rt-14-dev llvm-14
  # the soak's plot (build-aux/soak.sh; docs/reliability.md): gnuplot
  # without X, whose pngcairo terminal writes the PNG
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

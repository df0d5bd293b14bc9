#!/bin/sh
# Installs the example config (all comments, so the defaults) as
# SYSCONFDIR/natterd/natterd.conf, the file natterd.service passes to
# --config, so the unit starts out of the box. An existing config is the
# administrator's and is never overwritten.
#   install-config.sh CONFDIR EXAMPLE   (both absolute, before DESTDIR)
set -eu

confdir="${DESTDIR:-}$1"
example="${DESTDIR:-}$2"

if [ -e "$confdir/natterd.conf" ]; then
  echo "natterd: keeping the existing $confdir/natterd.conf"
  exit 0
fi
install -d -m 0755 "$confdir"
install -m 0644 "$example" "$confdir/natterd.conf"
echo "natterd: installed $confdir/natterd.conf (every line commented out)"

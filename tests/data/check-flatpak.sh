#!/usr/bin/env bash
# Checks the Flatpak manifest as Flathub's review would look at it
# (build-aux/flatpak/README.md): flatpak-builder reads it with GLib's
# warnings fatal; it builds only the app (-Dserver=false), from a git tag
# or commit, on a GNOME runtime of 49 or newer, with no permission beyond
# the list below.
#
#   check-flatpak.sh MANIFEST
set -uo pipefail
manifest=${1:?usage: check-flatpak.sh MANIFEST}

if ! command -v flatpak-builder >/dev/null 2>&1; then
  echo "flatpak-builder is not installed (build-aux/install-deps.sh installs it)"
  exit 1
fi
# --show-manifest parses and prints it; no network, no runtime needed.
if ! G_DEBUG=fatal-warnings flatpak-builder --show-manifest "$manifest" >/dev/null; then
  echo "flatpak-builder cannot read $manifest"
  exit 1
fi

python3 - "$manifest" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
problems = []
allowed = {"--share=network", "--share=ipc", "--socket=wayland",
           "--socket=fallback-x11", "--device=dri"}
for arg in m.get("finish-args", []):
    if arg not in allowed:
        problems.append(f"permission not on the list: {arg}")
if m.get("runtime") != "org.gnome.Platform" or int(m.get("runtime-version", "0")) < 49:
    problems.append(f"runtime {m.get('runtime')}//{m.get('runtime-version')}: want org.gnome.Platform 49 or newer")
modules = m.get("modules", [])
names = [mod.get("name") if isinstance(mod, dict) else mod for mod in modules]
if names != ["natter"]:
    problems.append(f"modules {names}: the app needs no module of its own (libsodium and the rest are natterd's)")
for mod in modules:
    if not isinstance(mod, dict):
        continue
    if "-Dserver=false" not in mod.get("config-opts", []):
        problems.append(f"module {mod.get('name')}: builds natterd too (no -Dserver=false)")
    for src in mod.get("sources", []):
        if src.get("type") != "git" or not (src.get("tag") or src.get("commit")):
            problems.append(f"module {mod.get('name')}: source {src}: want git with a tag or commit")
for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"{sys.argv[1]}: app only, from git, {len(m.get('finish-args', []))} permissions, all on the list")
PY

#!/usr/bin/env bash
# Fails when a call or header that only Linux has appears in natterd's or
# the app's code outside the platform files, where each has a portable
# fallback (docs/building.md, "The platform seam"). The tests and the
# benchmark are tools of this project's Linux machines and may use them.
#
#   check-linux-calls.sh SOURCE_DIR
set -uo pipefail
src=${1:?usage: check-linux-calls.sh SOURCE_DIR}
cd "$src"

# The platform files: the only places these may appear.
allowed=(
  server/net/natterd-platform.c
  server/net/natterd-poller-epoll.c
  app/core/natter-platform.c
)
# Calls (a name followed by "("), constants and headers only Linux has.
pattern='\b(epoll_[a-z_]+|accept4|flock|mallopt|fdatasync|pipe2|dup3|signalfd|eventfd|timerfd_[a-z_]+|inotify_[a-z_]+|prctl|sendfile|splice|memfd_create|syncfs|getrandom)[[:space:]]*\(|\b(MSG_NOSIGNAL|SOCK_NONBLOCK|SOCK_CLOEXEC|EPOLL[A-Z_]*|M_TRIM_THRESHOLD|M_TOP_PAD|O_TMPFILE|TCP_CORK)\b|/proc/|<(sys/epoll|sys/file|malloc|sys/prctl|sys/sendfile|sys/signalfd|sys/eventfd|sys/timerfd|sys/inotify|linux/[a-z_]+)\.h>'

status=0
while IFS= read -r hit; do
  file=${hit%%:*}
  text=${hit#*:*:}
  for f in "${allowed[@]}"; do
    [ "$file" = "$f" ] && continue 2
  done
  # A line of a comment ("* ... fdatasync (...)") does not count.
  if [[ $text =~ ^[[:space:]]*(\*|/\*|//) ]]; then
    continue
  fi
  echo "Linux-only outside the platform files: $hit"
  status=1
done < <(grep -rn -E "$pattern" server app protocol --include='*.c' --include='*.h')

if [ $status -eq 0 ]; then
  echo "No Linux-only call outside: ${allowed[*]}"
fi
exit $status

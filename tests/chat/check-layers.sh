#!/bin/sh
# The layers' include rules (docs/architecture.md, "The map"): the network
# layer includes nothing of chat/ or store/; the chat layer sees storage
# only through natterd-store.h, never an engine's header or SQLite's; the
# bus layer includes nothing of chat/ or store/, and only it speaks
# hiredis (the others see natterd-bus.h's own types). The build already fails on a call from net/ upward (tests/server-core links
# that library alone); this catches what a header alone could bring in.
set -eu
top=${1:?source root}
status=0

forbid () {
  dir=$1; pattern=$2; why=$3
  if hits=$(grep -nE "$pattern" "$top/server/$dir"/*.[ch]); then
    echo "server/$dir: $why"
    echo "$hits"
    status=1
  fi
}

chat_headers=$(cd "$top/server/chat" && ls *.h | tr '\n' '|' | sed 's/|$//; s/\./\\./g')
store_headers=$(cd "$top/server/store" && ls *.h | tr '\n' '|' | sed 's/|$//; s/\./\\./g')

forbid net "#include \"($chat_headers|$store_headers)\"" "the network layer includes a header of the chat or storage layer"
forbid chat '#include "natterd-store-(engine|sqlite|pg|import)(-[a-z]+)?\.h"|#include <sqlite3\.h>|sqlite3_|#include <libpq-fe\.h>|PQ[a-z]+ \(' "the chat layer reaches past natterd-store.h into an engine"
forbid store "#include \"($chat_headers)\"" "the storage layer includes a header of the chat layer"
forbid bus "#include \"($chat_headers|$store_headers)\"" "the bus layer includes a header of the chat or storage layer"

# hiredis: server/bus/ alone.
if hits=$(grep -rnE '#include <(hiredis/)?(hiredis|async|adapters/[a-z]+)\.h>|redis(Async[A-Za-z]*|Reply|Context) ' \
            --include='*.[ch]' "$top/server" | grep -v "^$top/server/bus/"); then
  echo "server: only the bus layer (server/bus/) may use hiredis"
  echo "$hits"
  status=1
fi

[ $status -eq 0 ] && echo "layers: ok"
exit $status

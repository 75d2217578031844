#!/usr/bin/env bash
# The seed tutorial as a runnable demo. For now: the tutorial's jail.conf, parsed and merged by
# ljail's jail(8) and printed as FreeBSD's `jail -e '|'` prints it (one line per jail).
set -eu
cd "$(dirname "$0")/../.."
LJAIL_BUILD=${LJAIL_BUILD:-./build}
jail=$LJAIL_BUILD/jail
[ -x "$jail" ] || jail=$LJAIL_BUILD/src/cmd/jail

echo "== jail -e '|' -f examples/seed/jail.conf (every jail, its merged parameters) =="
"$jail" -e '|' -f examples/seed/jail.conf

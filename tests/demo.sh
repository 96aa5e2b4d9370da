#!/usr/bin/env bash
# The main job, as two people would run it: Ada keeps private notes with no
# network at all; Grace, her mentor, runs mm serve and invites her; Ada
# accepts; both sync over loopback, list their peers, read their logs and
# verify every entry.  Ada's notes never leave her home.
# Usage: tests/demo.sh [PATH/TO/mm]
set -euo pipefail
MM=${1:-build/mm}
MM=$(cd "$(dirname "$MM")" && pwd)/$(basename "$MM")
DEMO=$(mktemp -d /tmp/mm-demo-XXXXXX)
ADA=$DEMO/ada
GRACE=$DEMO/grace
GRACE_PID=
ADA_PID=

# On any exit: stop the servers still running, then remove the homes.
cleanup() {
    for pid in $GRACE_PID $ADA_PID; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$DEMO"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export MM_HOME=$ADA

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

# The first "reachable at ENDPOINT" line of a serve log, once it is there.
endpoint_of() {
    local log=$1 pid=$2 ep
    for _ in $(seq 300); do
        ep=$(sed -n 's/^[^ ]* reachable at //p' "$log" | head -n 1)
        if [ -n "$ep" ]; then
            printf '%s\n' "$ep"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    printf 'demo: mm serve did not start:\n' >&2
    cat "$log" >&2
    return 1
}

# Stop a server with SIGTERM; it must exit 0.
stop_serve() {
    local who=$1 pid=$2 rc=0
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        printf 'demo: %s'"'"'s mm serve exited %d, expected 0\n' "$who" "$rc" >&2
        exit 1
    fi
    printf '%s'"'"'s mm serve stopped cleanly (exit 0)\n' "$who"
}

say "Ada: an identity and private notes, no network needed"
step "$MM" init --name "Ada" --device laptop
step "$MM" id
step "$MM" note add "Ask Grace how she chose her first team lead role"
printf 'Near-term: lead a small team within 12 months.\nLong-term: start a mentoring nonprofit.\n' > "$DEMO/ambitions.txt"
step "$MM" note add - < "$DEMO/ambitions.txt"
step "$MM" note add "Thank Lin for the intro; offer to review her conference talk"
step "$MM" note list
first=$("$MM" note list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["notes"][-1]["id"][:8])')
step "$MM" note show "$first"
step "$MM" log
step "$MM" verify

say "Grace: her own home, and mm serve in the background on loopback"
step "$MM" --home "$GRACE" init --name "Grace" --device desktop
printf '\n\033[1m$ %s &\033[0m\n' "$MM --home $GRACE serve --listen tcp://127.0.0.1:*"
"$MM" --home "$GRACE" serve --listen 'tcp://127.0.0.1:*' > "$DEMO/grace-serve.log" 2>&1 &
GRACE_PID=$!
grace_ep=$(endpoint_of "$DEMO/grace-serve.log" "$GRACE_PID")
cat "$DEMO/grace-serve.log"

say "Grace invites Ada as her mentee, with a note"
printf '\n\033[1m$ %s\033[0m\n' "$MM --home $GRACE invite --note '...' --expires 1h"
code=$("$MM" --home "$GRACE" invite --expires 1h \
       --note "Welcome, Ada! Let's meet every other Tuesday; bring one question about leading a team.")
printf '%s\n' "$code"

say "Ada accepts (her end syncs once at once, which brings the note)"
step "$MM" accept "$code" --name Grace

say "Ada serves too, so that Grace can reach her"
printf '\n\033[1m$ %s &\033[0m\n' "$MM serve --listen tcp://127.0.0.1:*"
"$MM" serve --listen 'tcp://127.0.0.1:*' > "$DEMO/ada-serve.log" 2>&1 &
ADA_PID=$!
ada_ep=$(endpoint_of "$DEMO/ada-serve.log" "$ADA_PID")
step "$MM" --home "$GRACE" peer set-addr Ada "$ada_ep"

say "Both sync"
step "$MM" sync
step "$MM" --home "$GRACE" sync
step "$MM" peer list
step "$MM" --home "$GRACE" peer list
step "$MM" peer show Grace

say "Both logs: the invite note is in the pair scope; Ada's notes stay in her self scope"
step "$MM" log
step "$MM" --home "$GRACE" log
"$MM" log --json | python3 -c '
import json, sys
e = json.load(sys.stdin)["entries"]
inv = [x for x in e if x["type"] == "invite" and x["scope_kind"] == "pair"]
notes = [x for x in e if x["type"] == "note" and x["scope_kind"] == "self"]
assert len(inv) == 1, "Ada should hold the invite entry in a pair scope: %r" % e
assert len(notes) == 3, "Ada should hold her 3 notes: %r" % e
'
ada_dev=$("$MM" id --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["device"])')
"$MM" --home "$GRACE" log --json | python3 -c '
import json, sys
ada = sys.argv[1]
e = json.load(sys.stdin)["entries"]
assert not [x for x in e if x["author"] == ada], "an entry of Ada reached Grace: %r" % e
assert [x for x in e if x["type"] == "invite" and x["scope_kind"] == "pair"], e
' "$ada_dev"
printf 'checked: the invite is in a pair scope on both sides; none of Ada'"'"'s notes reached Grace\n'

step "$MM" verify
step "$MM" --home "$GRACE" verify

say "Stop both servers"
stop_serve Ada "$ADA_PID"
ADA_PID=
stop_serve Grace "$GRACE_PID"
GRACE_PID=
printf '\n--- Grace'"'"'s mm serve output ---\n'
cat "$DEMO/grace-serve.log"
printf '\n--- Ada'"'"'s mm serve output ---\n'
cat "$DEMO/ada-serve.log"

printf '\ndemo ok: 3 private notes, an invite accepted, synced both ways over loopback, both logs verified (homes were in %s)\n' "$DEMO"

#!/usr/bin/env bash
# The main job, as two people would run it: Ada keeps private notes with no
# network at all; Grace, her mentor, runs mm serve and invites her; Ada
# accepts; Ada writes down her ambitions, shares them, and asks one power
# question; Grace answers from her inbox and asks one back; Ada thanks her,
# offers help back and reports what happened.  Ada also pairs her phone: it
# gets a full copy, writes a note offline that reaches the laptop, and gets
# Grace's answer through the laptop.  Then Ada lends an always-on box to her
# relationships as a blind mailbox, and the two, never online at the same
# time, go through a second question and answer by way of it.  Everyone
# syncs over loopback, reads the thread and verifies every entry.  Ada's
# notes never leave her own devices; the mailbox holds nothing it can read.
# Usage: tests/demo.sh [PATH/TO/mm]
set -euo pipefail
MM=${1:-build/mm}
MM=$(cd "$(dirname "$MM")" && pwd)/$(basename "$MM")
DEMO=$(mktemp -d /tmp/mm-demo-XXXXXX)
ADA=$DEMO/ada
PHONE=$DEMO/ada-phone
GRACE=$DEMO/grace
BOX=$DEMO/box
GRACE_PID=
ADA_PID=
PAIR_PID=
BOX_PID=

# On any exit: stop the servers still running, then remove the homes.
cleanup() {
    for pid in $PAIR_PID $GRACE_PID $ADA_PID $BOX_PID; do
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
        # the server's shell may not have opened its log yet
        ep=$(sed -n 's/^[^ ]* reachable at //p' "$log" 2>/dev/null | head -n 1 || true)
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

# The pairing code (first line of mm device pair's output), once it is there.
code_of() {
    local log=$1 pid=$2 c
    for _ in $(seq 300); do
        c=$(grep -m 1 '^mmp1' "$log" 2>/dev/null || true)
        if [ -n "$c" ]; then
            printf '%s\n' "$c"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    printf 'demo: mm device pair printed no code:\n' >&2
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

say "Ada writes down her ambitions and shares them with Grace"
step "$MM" ambition add --near "Lead a small team within 12 months"
step "$MM" ambition add --long "Start a mentoring nonprofit"
step "$MM" ambition list
step "$MM" ambition share Grace

say "Ada drafts a question; the power-question check stops a yes/no one"
printf '\n\033[1m$ %s\033[0m\n' "$MM ask Grace 'Should I take the team lead job?'"
if "$MM" ask Grace "Should I take the team lead job?"; then
    printf 'demo: a yes/no question was sent\n' >&2
    exit 1
fi
step "$MM" ask Grace "I'm about to lead my first small team: what helped you most when you first had to give hard feedback?"
printf '\n\033[1m$ %s\033[0m\n' "$MM ask Grace 'How did you ...?'   (one at a time)"
if "$MM" ask Grace "How did you decide which meetings to drop when my team grew?"; then
    printf 'demo: a second open question was sent\n' >&2
    exit 1
fi
step "$MM" sync Grace

say "Ada pairs her phone: the laptop (her identity device) prints a one-time code and waits"
printf '\n\033[1m$ %s &\033[0m\n' "$MM device pair --yes --listen tcp://127.0.0.1:*"
"$MM" device pair --yes --listen 'tcp://127.0.0.1:*' > "$DEMO/pair.log" 2>&1 &
PAIR_PID=$!
pair_code=$(code_of "$DEMO/pair.log" "$PAIR_PID")
printf '%s\n' "$pair_code"
say "On the phone: join with the code (no --name: the phone is Ada too)"
step "$MM" --home "$PHONE" init --join "$pair_code" --device phone
say "Back on the laptop, mm device pair saw the phone, certified it, and ended after its first sync"
rc=0
wait "$PAIR_PID" || rc=$?
PAIR_PID=
tail -n +2 "$DEMO/pair.log"
if [ "$rc" -ne 0 ]; then
    printf 'demo: mm device pair exited %d, expected 0\n' "$rc" >&2
    exit 1
fi
step "$MM" device list
"$MM" device list --json | python3 -c '
import json, sys
d = {x["name"]: x for x in json.load(sys.stdin)["devices"]}
assert sorted(d) == ["laptop", "phone"], d
assert all(x["state"] == "current" for x in d.values()), d
assert d["laptop"]["identity_device"] and d["laptop"]["this"], d
'
say "The phone has a full copy: Ada's notes, ambitions and peers"
step "$MM" --home "$PHONE" id
step "$MM" --home "$PHONE" note list
step "$MM" --home "$PHONE" ambition list
step "$MM" --home "$PHONE" peer list

say "On the train, offline: Ada writes a note on her phone"
step "$MM" --home "$PHONE" note add "Ask Grace which of her first team's habits she kept"

say "Grace: a budget, her inbox with Ada's ambitions on file, an answer and a question back"
step "$MM" --home "$GRACE" capacity 2/week
step "$MM" --home "$GRACE" inbox
qid=$("$MM" --home "$GRACE" inbox --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["inbox"][0]["id"][:12])')
step "$MM" --home "$GRACE" answer "$qid" "Say what you saw and what it changed, the same day, in private. Then ask what they need from you."
step "$MM" --home "$GRACE" ask-back "$qid" "What would success look like for your team a year from now?"
step "$MM" --home "$GRACE" sync Ada

say "Home again: the phone syncs with the laptop's mm serve; its note goes over, Grace's answer comes back"
step "$MM" --home "$PHONE" sync --device laptop --endpoint "$ada_ep"
step "$MM" note list
step "$MM" --home "$PHONE" thread Grace

say "Ada reads the answer, thanks Grace, offers help back, and later reports"
step "$MM" thread Grace
step "$MM" thank "$qid" "That reframing helped a lot." --offer "Happy to review your conference talk"
step "$MM" report "$qid" "I tried it in my 1:1s this week: two people asked for more of it."
step "$MM" status
step "$MM" sync Grace
step "$MM" --home "$GRACE" thread Ada
step "$MM" --home "$GRACE" status

say "The phone catches up with the thanks and the report too"
step "$MM" --home "$PHONE" sync --device laptop --endpoint "$ada_ep"

say "All logs: the engagement is in the pair scope; Ada's notes and ambitions stay in her self scope"
step "$MM" log
step "$MM" --home "$GRACE" log
"$MM" log --json > "$DEMO/ada-log.json"
"$MM" --home "$PHONE" log --json > "$DEMO/phone-log.json"
"$MM" --home "$GRACE" log --json > "$DEMO/grace-log.json"
python3 - "$DEMO/ada-log.json" "$DEMO/phone-log.json" "$DEMO/grace-log.json" <<'PY'
import json, sys
ada, phone, grace = (json.load(open(f))["entries"] for f in sys.argv[1:4])
gids = {x["id"] for x in grace}
for who, log in (("laptop", ada), ("phone", phone)):
    private = {x["id"] for x in log if x["scope_kind"] == "self"}
    shared = {x["id"] for x in log if x["scope_kind"] == "pair"}
    assert len(private) >= 6, "Ada's notes and ambitions on her %s: %r" % (who, log)
    assert not private & gids, "a private entry of Ada's %s reached Grace" % who
    assert shared <= gids, "Grace is missing part of the thread on Ada's %s" % who
assert {x["id"] for x in ada} == {x["id"] for x in phone}, "Ada's devices differ"
types = {x["type"] for x in grace if x["scope_kind"] == "pair"}
for t in ("invite", "ambitions", "question", "answer", "ask-back", "thanks", "report"):
    assert t in types, "no %s in the thread: %r" % (t, types)
PY
printf 'checked: all three hold the same thread; Ada'"'"'s devices hold the same log; none of her notes or ambitions reached Grace\n'

step "$MM" verify
step "$MM" --home "$PHONE" verify
step "$MM" --home "$GRACE" verify

say "Ada lends an always-on box to her relationships: a blind mailbox with a key of its own and no identity"
box_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "$MM" --home "$BOX" mailbox init --listen "tcp://127.0.0.1:$box_port" --quota 64MiB
printf '\n\033[1m$ %s &\033[0m\n' "$MM --home $BOX serve"
"$MM" --home "$BOX" serve > "$DEMO/box-serve.log" 2>&1 &
BOX_PID=$!
endpoint_of "$DEMO/box-serve.log" "$BOX_PID" > /dev/null
box_code=$("$MM" --home "$BOX" mailbox code --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')
printf '\n\033[1m$ %s\033[0m\n%s\n' "$MM --home $BOX mailbox code" "$box_code"
say "On her laptop (the identity device) Ada links it; Grace hears of it at her next sync"
step "$MM" mailbox link "$box_code" --name box
step "$MM" mailbox list
step "$MM" --home "$GRACE" sync Ada
step "$MM" --home "$GRACE" peer show Ada

say "Now neither laptop serves: Ada and Grace are never online at the same time"
stop_serve Ada "$ADA_PID"
ADA_PID=
stop_serve Grace "$GRACE_PID"
GRACE_PID=
say "Ada asks her next question on the train; Grace is unreachable, so it waits in Ada's mailbox"
step "$MM" ask Grace "Looking back at your first year as a lead, what do you wish you had asked for sooner?"
step "$MM" sync Grace --timeout 2
say "That evening Grace syncs: Ada is offline, her mailbox is not"
step "$MM" --home "$GRACE" sync Ada --timeout 2
step "$MM" --home "$GRACE" inbox
qid2=$("$MM" --home "$GRACE" inbox --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["inbox"][0]["id"][:12])')
step "$MM" --home "$GRACE" answer "$qid2" "A clear budget for my own learning, and a peer group of other new leads."
step "$MM" --home "$GRACE" sync Ada --timeout 2
say "The next morning Ada syncs: Grace's answer waited in the mailbox"
step "$MM" sync --timeout 2
step "$MM" thread Grace
say "The mailbox stored every entry it forwarded, and can read none of them"
step "$MM" --home "$BOX" mailbox list
if grep -rqa -e "what do you wish you had asked for sooner" -e "peer group of other new leads" "$BOX"; then
    printf 'demo: the mailbox holds plaintext of a body\n' >&2
    exit 1
fi
printf 'checked: no byte of the question or the answer is readable in the mailbox'"'"'s files\n'
step "$MM" --home "$BOX" verify

say "Stop the mailbox"
stop_serve box "$BOX_PID"
BOX_PID=
printf '\n--- Grace'"'"'s mm serve output ---\n'
cat "$DEMO/grace-serve.log"
printf '\n--- Ada'"'"'s mm serve output ---\n'
cat "$DEMO/ada-serve.log"
printf '\n--- the mailbox'"'"'s mm serve output ---\n'
cat "$DEMO/box-serve.log"

printf '\ndemo ok: private notes and ambitions, an invite, one whole engagement (ask, answer, ask-back, thanks with an offer, report) synced over loopback, a paired phone with a full copy that syncs with the laptop, a second question and answer through a blind mailbox while the two were never online together, every log verified (homes were in %s)\n' "$DEMO"

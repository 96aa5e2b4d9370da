#!/usr/bin/env bash
# The main job, as a person would run it: an identity and private notes,
# written and read back with no network at all, then every entry verified.
# (The two-peer engagement over loopback joins this demo with the sync issue.)
# Usage: tests/demo.sh [PATH/TO/mm]
set -euo pipefail
MM=${1:-build/mm}
MM=$(cd "$(dirname "$MM")" && pwd)/$(basename "$MM")
DEMO=$(mktemp -d /tmp/mm-demo-XXXXXX)
trap 'rm -rf "$DEMO"' EXIT
export MM_HOME=$DEMO/ada

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

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
printf '\ndemo ok: identity, 3 private notes, log verified (home was %s)\n' "$MM_HOME"

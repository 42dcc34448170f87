#!/usr/bin/env bash
# The one test command of the repository:  bash tests/run.sh
#
# Tiers (select with TIERS=pure,static,odoo; default: all three):
#   pure    tests/pure    plain pytest, no Odoo
#   static  tests/static  plain pytest: manifests, lint, packaging checks
#   odoo    the addons' own Odoo tests through pytest-odoo, plus install / walk-through /
#           uninstall checks (tests/odoo_tier.py), in the Odoo 18.0 runtime that
#           setup/provision.py makes in a cache outside the clone (ODOO_SRC the first
#           time, see the README). When it cannot be made: skipped with a loud banner,
#           or a failure when ODOO_TIER_REQUIRED=1 (.ci/run sets it).
#
# The test tools live in .venv at the repository root, installed from requirements-test.txt
# (reinstalled only when that file changes). The last line printed is always
#   total: N passed, N failed, N skipped
# and the exit code is non-zero when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

TIERS="${TIERS:-pure,static,odoo}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
REQUIREMENTS="$ROOT/requirements-test.txt"
STAMP="$VENV/.requirements-test.sha256"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0
SUMMARY_LINES=()

say() { printf '%s\n' "$*"; }
banner() { say ""; say "==================== $* ===================="; }

tier_enabled() {
    case ",${TIERS// /}," in
        *",$1,"*) return 0 ;;
        *) return 1 ;;
    esac
}

# record TIER PASSED FAILED SKIPPED [NOTE]
record() {
    local note="${5:-}"
    TOTAL_PASSED=$((TOTAL_PASSED + $2))
    TOTAL_FAILED=$((TOTAL_FAILED + $3))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + $4))
    SUMMARY_LINES+=("$(printf 'tier %-7s %5d passed, %d failed, %d skipped%s' \
        "$1" "$2" "$3" "$4" "${note:+   <- $note}")")
}

finish() {
    banner "summary"
    local line
    for line in "${SUMMARY_LINES[@]}"; do
        say "$line"
    done
    say "total: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
    if [ "$TOTAL_FAILED" -gt 0 ]; then
        exit 1
    fi
    exit 0
}

setup_venv() {
    local python="${PYTHON:-python3}"
    if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
        say "setup: creating .venv with $("$python" --version 2>&1)"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || return 1
    fi
    if [ ! -f "$REQUIREMENTS" ]; then
        say "setup: WARNING: requirements-test.txt is missing; installing pytest only"
        "$PY" -m pip install --quiet --disable-pip-version-check pytest || return 1
        return 0
    fi
    local want have=""
    want="$( { sha256sum "$REQUIREMENTS" | cut -d' ' -f1; "$PY" -c 'import sys; print(sys.version)'; } )"
    [ -f "$STAMP" ] && have="$(cat "$STAMP")"
    if [ "$want" = "$have" ]; then
        say "setup: .venv is up to date with requirements-test.txt"
        return 0
    fi
    say "setup: installing requirements-test.txt into .venv"
    if ! "$PY" -m pip install --disable-pip-version-check -r "$REQUIREMENTS" >"$WORK/pip.log" 2>&1; then
        tail -n 40 "$WORK/pip.log"
        return 1
    fi
    printf '%s\n' "$want" >"$STAMP"
}

# junit_counts FILE -> "tests failures errors skipped"
junit_counts() {
    "$PY" - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print("-1 0 0 0")
    raise SystemExit
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
totals = [0, 0, 0, 0]
for suite in suites:
    for i, key in enumerate(("tests", "failures", "errors", "skipped")):
        totals[i] += int(suite.get(key, 0))
print(*totals)
EOF
}

run_pytest_tier() {
    local tier="$1" dir="tests/$1" xml="$WORK/$1.xml" rc
    banner "tier $tier ($dir)"
    if [ ! -d "$dir" ]; then
        say "tier $tier: NO TESTS: directory $dir does not exist"
        record "$tier" 0 0 0 "NO TESTS (no $dir)"
        return
    fi
    # -p no:odoo: the pytest-odoo plugin (if installed) imports odoo at start-up; these tiers
    # run without Odoo, and the Odoo tests run in tier odoo.
    "$PY" -m pytest "$dir" -p no:odoo -q -rfEs --junitxml="$xml" -o junit_family=xunit2
    rc=$?
    local tests failures errors skipped
    read -r tests failures errors skipped <<<"$(junit_counts "$xml")"
    if [ "$rc" -eq 5 ]; then
        say "tier $tier: NO TESTS COLLECTED in $dir (pytest exit code 5, not a failure)"
        record "$tier" 0 0 0 "NO TESTS COLLECTED"
        return
    fi
    if [ "$tests" -lt 0 ]; then
        say "tier $tier: FAILED: pytest exited with code $rc and wrote no report"
        record "$tier" 0 1 0 "pytest exit code $rc"
        return
    fi
    local failed=$((failures + errors))
    local passed=$((tests - failed - skipped))
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        say "tier $tier: FAILED: pytest exited with code $rc"
        record "$tier" "$passed" 1 "$skipped" "pytest exit code $rc"
        return
    fi
    record "$tier" "$passed" "$failed" "$skipped"
}

run_odoo_tier() {
    local summary="$WORK/odoo.json" rc counts
    banner "tier odoo (the addons' own Odoo tests)"
    "$PY" tests/odoo_tier.py run --summary-file "$summary" --junitxml "$ROOT/.odoo-tier-junit.xml"
    rc=$?
    counts="$("$PY" - "$summary" <<'EOF'
import json
import sys

try:
    data = json.load(open(sys.argv[1], encoding="utf-8"))
except (OSError, ValueError):
    print("missing")
    raise SystemExit
print(data.get("status", "failed"), data.get("passed", 0), data.get("failed", 0),
      data.get("skipped", 0))
EOF
)"
    local status passed failed skipped
    read -r status passed failed skipped <<<"$counts"
    if [ "$status" = "missing" ]; then
        say "tier odoo: FAILED: the harness exited with code $rc and wrote no summary"
        record odoo 0 1 0 "harness exit code $rc"
        return
    fi
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    case "$status" in
        skipped) record odoo "$passed" "$failed" "$skipped" "SKIPPED: no Odoo 18 found" ;;
        *)
            if [ $((passed + failed)) -eq 0 ]; then
                record odoo 0 "$failed" "$skipped" "NO TESTS RAN"
            else
                record odoo "$passed" "$failed" "$skipped"
            fi
            ;;
    esac
}

STARTED=$SECONDS
IFS=',' read -r -a REQUESTED <<<"${TIERS// /}"
for tier in "${REQUESTED[@]}"; do
    case "$tier" in
        pure | static | odoo | "") ;;
        *)
            say "unknown tier in TIERS: '$tier' (known: pure, static, odoo)"
            record "$tier" 0 1 0 "unknown tier"
            ;;
    esac
done
# The Odoo runtime first (setup/provision.py, through the harness): when it cannot be
# made and the tier is required (CI), fail now, naming what to set, instead of after
# the other tiers; by hand the tier is skipped with a banner.
ODOO_RUNTIME=ready
if tier_enabled odoo; then
    banner "provision (Odoo 18.0 runtime)"
    python3 tests/odoo_tier.py provision
    case $? in
        0) ;;
        3) ODOO_RUNTIME=skipped ;;
        *)
            record odoo 0 1 0 "no Odoo runtime (see the reason above); other tiers not run"
            finish
            ;;
    esac
fi
banner "setup"
if ! setup_venv; then
    say "setup: FAILED to prepare .venv (see the pip output above)"
    record setup 0 1 0 "venv/pip install failed"
    finish
fi

for tier in pure static; do
    if tier_enabled "$tier"; then
        run_pytest_tier "$tier"
    fi
done
if tier_enabled odoo; then
    if [ "$ODOO_RUNTIME" = skipped ]; then
        record odoo 0 0 1 "SKIPPED: no Odoo 18 runtime (see the banner above)"
    else
        run_odoo_tier
    fi
fi
if [ "${#SUMMARY_LINES[@]}" -eq 0 ]; then
    say "no tier selected: TIERS=$TIERS (known: pure, static, odoo)"
    record none 0 1 0 "no tier selected"
fi
say "(ran in $((SECONDS - STARTED))s)"
finish

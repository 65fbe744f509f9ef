#!/usr/bin/env bash
# End-to-end test of the drill page: starts callcoach on a free loopback
# port with a temporary data directory, seeds a rep, a coach and a manager,
# and drives the pages in headless Chromium with a fake microphone
# (tests/e2e/drill_e2e.mjs). Screenshots go to target/e2e/.
#
# Exit status: 0 passed, 77 skipped (Chromium or the Whisper model is
# missing and cannot be installed), anything else failed.
#
# Environment: CALLCOACH_BIN (default target/debug/callcoach, built when
# missing), E2E_OUT (default target/e2e).

set -euo pipefail

SKIP=77
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
e2e="$root/tests/e2e"
cd "$root"

bin="${CALLCOACH_BIN:-$root/target/debug/callcoach}"
out="${E2E_OUT:-$root/target/e2e}"
model="$root/models/ggml-tiny.en.bin"
chromium_bin="/usr/bin/chromium"

skip() {
  echo "e2e skipped: $*"
  exit "$SKIP"
}

if [[ ! -f "$model" ]]; then
  skip "Whisper model $model is missing; run \`make model\`"
fi

if [[ ! -x "$chromium_bin" ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq chromium chromium-driver; } >&2; then
      skip "apt-get could not install chromium; install it with: apt-get install chromium chromium-driver"
    fi
  else
    skip "$chromium_bin is missing; install it with: sudo apt-get install chromium chromium-driver"
  fi
fi

for tool in node npm espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "e2e failed: $tool is not installed" >&2; exit 1; }
done

if [[ ! -d "$e2e/node_modules/playwright-core" ]]; then
  echo "installing playwright-core into $e2e/node_modules"
  (cd "$e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) >&2
fi

if [[ ! -x "$bin" ]]; then
  echo "building $bin"
  GGML_NATIVE=OFF cargo build --bin callcoach >&2
fi

work="$(mktemp -d -t callcoach-e2e.XXXXXX)"
data="$work/data"
log="$work/serve.log"
service_pid=""

cleanup() {
  if [[ -n "$service_pid" ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$service_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$service_pid" 2>/dev/null || true
  fi
  if [[ "${E2E_KEEP:-0}" == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# Prints the value after "$2" in the first line of $1 that contains it.
field_after() {
  grep -m1 -o "$2 [^ ]*" <<<"$1" | awk '{print $NF}'
}

seed_user() {
  "$bin" user add --data "$data" --team "E2E team" --name "$1" --role "$2"
}

mkdir -p "$out" "$data"
rep_out="$(seed_user "Riley Rep" rep)"
coach_out="$(seed_user "Casey Coach" coach)"
manager_out="$(seed_user "Morgan Manager" manager)"
team_id="$(grep -m1 -o 'team_[0-9a-f]*' <<<"$rep_out")"
rep_token="$(field_after "$rep_out" "(shown once):")"
coach_token="$(field_after "$coach_out" "(shown once):")"
manager_token="$(field_after "$manager_out" "(shown once):")"
for value in team_id rep_token coach_token manager_token; do
  if [[ -z "${!value}" ]]; then
    echo "e2e failed: seeding printed no $value" >&2
    printf '%s\n' "$rep_out" "$coach_out" "$manager_out" >&2
    exit 1
  fi
done

"$bin" serve --addr 127.0.0.1:0 --data "$data" --workers 1 >"$log" 2>&1 &
service_pid=$!

base=""
for _ in $(seq 1 600); do
  if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "e2e failed: callcoach serve exited; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  base="$(grep -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | awk '{print $3}' || true)"
  if [[ -n "$base" ]] && curl -fsS "$base/readyz" >/dev/null 2>&1; then
    break
  fi
  base=""
  sleep 0.5
done
if [[ -z "$base" ]]; then
  echo "e2e failed: the service was not ready after 300 s; its log:" >&2
  cat "$log" >&2
  exit 1
fi
echo "service ready at $base"

status=0
BASE_URL="$base" REP_TOKEN="$rep_token" COACH_TOKEN="$coach_token" \
  MANAGER_TOKEN="$manager_token" TEAM_ID="$team_id" E2E_OUT="$out" E2E_WORK="$work" \
  CHROMIUM="$chromium_bin" node "$e2e/drill_e2e.mjs" || status=$?
if [[ "$status" != 0 ]]; then
  echo "e2e failed with status $status; the service log:" >&2
  tail -n 60 "$log" >&2
fi
exit "$status"

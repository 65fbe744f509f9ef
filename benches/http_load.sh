#!/usr/bin/env bash
# Load test of `callcoach serve` over loopback.
#
# Starts the demo service on a temporary data directory, then measures from
# separate processes:
#   1. requests per second and p99 latency of non-transcription endpoints
#      (wrk, keep-alive connections),
#   2. concurrent drill uploads end to end (upload, transcription, scoring)
#      with curl and ?wait_ms,
#   3. peak resident memory of the service with the model loaded (VmHWM).
#
# Needs wrk (apt-get install -y wrk), curl and models/ggml-tiny.en.bin.
# Settings (environment): BIN (default target/release/callcoach, built when
# missing), PORT (18181), DURATION (10s), CONNECTIONS (32), THREADS (2),
# UPLOADS (4 concurrent drill uploads), WORKERS (default: CPU cores).

set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/callcoach}
PORT=${PORT:-18181}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
UPLOADS=${UPLOADS:-4}
WORKERS=${WORKERS:-$(nproc)}
AUDIO=tests/fixtures/generated/vad_gap1200_en.wav
BASE="http://127.0.0.1:${PORT}"

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -f models/ggml-tiny.en.bin ] || { echo "models/ggml-tiny.en.bin is missing: run make model" >&2; exit 1; }
[ -f "$AUDIO" ] || bash tests/fixtures/generate.sh
if [ ! -x "$BIN" ]; then
    GGML_NATIVE=${GGML_NATIVE:-OFF} cargo build --release --bin callcoach
fi

DATA=$(mktemp -d)
LOG="$DATA/serve.log"
cleanup() {
    if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        wait "$PID" || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

CALLCOACH_MAX_WAIT_MS=600000 "$BIN" demo --data "$DATA" --addr "127.0.0.1:${PORT}" --workers "$WORKERS" >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    curl -fs "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.2
done
curl -fs "$BASE/readyz" >/dev/null || { echo "service did not become ready" >&2; cat "$LOG" >&2; exit 1; }
TOKEN=$(awk '$1 == "rep" { print $NF }' "$LOG")
[ -n "$TOKEN" ] || { echo "no demo rep token in the output" >&2; exit 1; }

echo "# callcoach HTTP load ($(nproc) cores, $WORKERS workers, wrk -t$THREADS -c$CONNECTIONS -d$DURATION)"
echo
echo "| endpoint | requests/s | p50 | p99 |"
echo "|---|---|---|---|"
for path in /healthz /readyz /api/v1/scenarios /api/v1/scenarios/price_too_expensive \
    "/api/v1/search?q=too%20expensive&lang=en" "/api/v1/search?q=%E5%A4%AA%E8%B4%B5&lang=zh"; do
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -H "Authorization: Bearer $TOKEN" "$BASE$path")
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    errors=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    echo "| \`$path\` | $rps | $p50 | $p99 |${errors:+ non-2xx: $errors}"
done

echo
echo "## $UPLOADS concurrent drill uploads ($(du -h "$AUDIO" | cut -f1) WAV, 7.9 s of speech)"
start=$(date +%s.%N)
for i in $(seq 1 "$UPLOADS"); do
    curl -s -o "$DATA/upload_$i.json" -w "%{http_code} %{time_total}\n" \
        -H "Authorization: Bearer $TOKEN" -H "Content-Type: audio/wav" \
        --data-binary "@$AUDIO" \
        "$BASE/api/v1/drills/attempts?scenario_id=price_too_expensive&wait_ms=600000" \
        >"$DATA/upload_$i.status" &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
end=$(date +%s.%N)
ok=$(cat "$DATA"/upload_*.status | awk '$1 == 200' | wc -l)
times=$(cat "$DATA"/upload_*.status | awk '{ print $2 }' | sort -n | tr '\n' ' ')
echo "scored: $ok of $UPLOADS; per-upload seconds (sorted): $times"
echo "wall time for all: $(echo "$end - $start" | bc) s"

echo
echo "## memory"
grep -E 'VmHWM|VmRSS' "/proc/$PID/status"

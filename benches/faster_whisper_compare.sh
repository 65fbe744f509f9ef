#!/usr/bin/env bash
# Compares our ggml conversion with faster-whisper on the same CTranslate2
# model: the words of a short clip must match, and real-time factors (RTF,
# processing seconds per audio second) are printed for a 60 s recording.
#
# Usage: benches/faster_whisper_compare.sh [MODEL...]   (default: tiny.en base)
# Settings: BENCH_THREADS (default 2), BENCH_REPEAT (runs per timing, the
# fastest counts; default 3), FASTER_WHISPER_VENV, CALLCOACH_BIN.
#
# Needs python3 with venv, sox, and network access to PyPI on the first run
# (faster-whisper is installed into target/faster-whisper-venv). Uses
# target/release/callcoach when present, else target/debug/callcoach, or
# $CALLCOACH_BIN. Exits non-zero when any model's words differ.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

FASTER_WHISPER_VERSION="1.1.1"
THREADS="${BENCH_THREADS:-2}"
REPEAT="${BENCH_REPEAT:-3}"
VENV="${FASTER_WHISPER_VENV:-$ROOT/target/faster-whisper-venv}"
WORK="$ROOT/target/bench-faster-whisper"
CORPUS="${CALLCOACH_CORPUS_CANDIDATES:-../shared/corpus-candidates}"
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(tiny.en base)

if [ -n "${CALLCOACH_BIN:-}" ]; then
    BIN="$CALLCOACH_BIN"
elif [ -x target/release/callcoach ]; then
    BIN=target/release/callcoach
else
    BIN=target/debug/callcoach
fi
[ -x "$BIN" ] || { echo "error: $BIN not found; build it with cargo build --release" >&2; exit 2; }
command -v sox >/dev/null || { echo "error: sox is required to build the 60 s clip" >&2; exit 2; }

if [ ! -x "$VENV/bin/python" ]; then
    echo "installing faster-whisper $FASTER_WHISPER_VERSION into $VENV" >&2
    python3 -m venv "$VENV"
    # faster-whisper 1.1.1 imports requests without declaring it.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "faster-whisper==$FASTER_WHISPER_VERSION" requests
fi
FW_VERSION="$("$VENV/bin/python" -c 'import faster_whisper, ctranslate2; print(faster_whisper.__version__, "ctranslate2", ctranslate2.__version__)')"

mkdir -p "$WORK"
SHORT="$WORK/short.wav"
LONG="$WORK/long60.wav"
JFK="$CORPUS/en/en_jfk_16k_mono.wav"
if [ -f "$JFK" ]; then
    cp "$JFK" "$SHORT"
else
    espeak-ng -w "$WORK/espeak.wav" "And so my fellow Americans, ask not what your country can do for you."
    sox "$WORK/espeak.wav" -r 16000 -c 1 -b 16 "$SHORT"
fi
# Six copies of the short clip, cut to exactly 60 s.
sox "$SHORT" "$SHORT" "$SHORT" "$SHORT" "$SHORT" "$SHORT" "$LONG" trim 0 60
sox "$SHORT" -r 16000 -c 1 -b 16 "$WORK/short16.wav"

ours_words() {
    "$BIN" transcribe --model "$1" --language en --beam-size 1 --threads "$THREADS" --format json "$2" 2>/dev/null \
        | python3 -c 'import json,re,sys; t=json.load(sys.stdin)["text"]; print(" ".join(w for w in (re.sub(r"[^\w'"'"']","",x).lower() for x in t.split()) if w))'
}

# Prints the wall-clock seconds of a command.
wall_s() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.2f}')"
}

status=0
echo "faster-whisper $FW_VERSION; ours: $BIN; threads: $THREADS; CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for model in "${MODELS[@]}"; do
    ggml="models/ggml-$model.bin"
    ct2="models/cache/$model"
    if [ ! -f "$ct2/model.bin" ] || [ ! -f "$ggml" ]; then
        "$BIN" model install "$model" --force
    fi
    q8="$WORK/ggml-$model-q8_0.bin"
    [ -f "$q8" ] || "$BIN" model convert "$ct2" "$q8" --quantize q8_0 2>/dev/null

    echo
    echo "== $model: words on $(basename "$SHORT")"
    fw_json="$("$VENV/bin/python" benches/faster_whisper_run.py "$ct2" "$WORK/short16.wav" "$THREADS" default 2>/dev/null)"
    fw="$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["words"]))' "$fw_json")"
    ours="$(ours_words "$ggml" "$WORK/short16.wav")"
    ours_q8="$(ours_words "$q8" "$WORK/short16.wav")"
    echo "faster-whisper: $fw"
    echo "ours f16:       $ours"
    echo "ours q8_0:      $ours_q8"
    if [ "$fw" == "$ours" ]; then echo "f16 words: match"; else echo "f16 words: MISMATCH"; status=1; fi
    if [ "$fw" == "$ours_q8" ]; then echo "q8_0 words: match"; else echo "q8_0 words: differ (q8_0 is lossy)"; fi

    echo "== $model: 60 s recording, $THREADS threads (RTF = seconds per audio second)"
    for compute in default int8; do
        "$VENV/bin/python" benches/faster_whisper_run.py "$ct2" "$LONG" "$THREADS" "$compute" "$REPEAT" \
            "faster-whisper $compute" 2>/dev/null
    done
    for file in "$ggml" "$q8"; do
        kind=f16
        [ "$file" == "$q8" ] && kind=q8_0
        best=""
        for _ in $(seq "$REPEAT"); do
            secs="$(wall_s "$BIN" transcribe --model "$file" --language en --beam-size 1 \
                --threads "$THREADS" --format json "$LONG")"
            best="$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" $best $secs)"
        done
        python3 -c "import sys; s=float(sys.argv[2]); print(f'{sys.argv[1]:28} process wall {s:6.2f} s (load, decode, transcribe), RTF {s/60:.3f}, best of {sys.argv[3]}')" \
            "ours $kind" "$best" "$REPEAT"
    done
done
exit $status

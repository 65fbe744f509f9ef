"""Transcribes one file with faster-whisper and reports words and timings.

Usage: faster_whisper_run.py CT2_DIR AUDIO THREADS COMPUTE_TYPE [REPEAT [LABEL]]

Decoding matches `callcoach transcribe --language en --beam-size 1`: English,
greedy (beam 1), no VAD filter. The model loads once, then the file is
transcribed REPEAT times (default 1) and the fastest run counts. The segment
generator is drained inside the timer because faster-whisper decodes lazily.
Without LABEL the output is JSON; with LABEL it is one line of timings.
"""

import json
import re
import sys
import time

from faster_whisper import WhisperModel


def normalise(text):
    """Lowercases and keeps letters, digits and apostrophes of each word."""
    words = (re.sub(r"[^\w']", "", w).lower() for w in text.split())
    return [w for w in words if w]


def transcribe_once(model, audio):
    """Returns the text and the seconds one transcription took."""
    start = time.perf_counter()
    segments, info = model.transcribe(audio, language="en", beam_size=1, vad_filter=False)
    text = " ".join(segment.text.strip() for segment in segments)
    return text, info.duration, time.perf_counter() - start


def main():
    ct2_dir, audio, threads, compute_type = sys.argv[1:5]
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    label = sys.argv[6] if len(sys.argv) > 6 else None

    start = time.perf_counter()
    model = WhisperModel(ct2_dir, device="cpu", cpu_threads=int(threads), compute_type=compute_type)
    load_s = time.perf_counter() - start
    runs = [transcribe_once(model, audio) for _ in range(repeat)]
    text, duration_s, _ = runs[0]
    best_s = min(run[2] for run in runs)

    if label is None:
        print(json.dumps({"text": text, "words": normalise(text), "duration_s": duration_s,
                          "load_s": load_s, "transcribe_s": best_s}))
        return
    rtf = best_s / duration_s
    rtf_with_load = (best_s + load_s) / duration_s
    print(f"{label:28} load {load_s:5.2f} s, transcribe {best_s:6.2f} s, "
          f"RTF {rtf:.3f} (with load {rtf_with_load:.3f}), best of {repeat}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Lists the recording snippets to synthesise for a corpus directory.

Prints one tab-separated line per example answer:
stem, language, customer line, seller answer, hash of both and the voices.
Mandarin text is converted to tone-numbered pinyin (pypinyin, TONE3 style,
neutral tone as 5) because espeak-ng's cmn-latn-pinyin voice reads pinyin.
The customer line of strategy number i is trigger number i of the language.
"""
import hashlib
import pathlib
import re
import sys
import tomllib

VOICES = sys.argv[2] if len(sys.argv) > 2 else ""


def spoken(lang, text):
    text = " ".join(text.split())
    if lang == "en":
        return text
    from pypinyin import Style, lazy_pinyin

    text = re.sub(r"[，、；：]", ", ", text)
    text = re.sub(r"[。！？]", ". ", text)
    syllables = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    return re.sub(r"\s+", " ", " ".join(syllables)).replace(" ,", ",").replace(" .", ".").strip()


def main():
    corpus = pathlib.Path(sys.argv[1])
    for path in sorted(corpus.glob("*.toml")):
        scenario = tomllib.loads(path.read_text(encoding="utf-8"))
        for index, strategy in enumerate(scenario["strategies"]):
            for example in strategy["examples"]:
                lang = example["lang"]
                triggers = [t["text"] for t in scenario["triggers"] if t["lang"] == lang]
                customer = spoken(lang, triggers[index % len(triggers)])
                seller = spoken(lang, example["text"])
                stem = f'{scenario["id"]}__{strategy["id"]}__{lang}'
                digest = hashlib.sha256(f"{VOICES}\n{customer}\n{seller}".encode()).hexdigest()[:16]
                print("\t".join([stem, lang, customer, seller, digest]))


if __name__ == "__main__":
    main()

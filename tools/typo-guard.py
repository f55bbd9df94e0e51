#!/usr/bin/env python3
"""Writes intents/typos.json: real words one typing slip from a red-flag word.

The engine corrects a message word nobody knows when it is one slip (a
deleted or inserted letter, a QWERTY-neighbour letter, one vowel for another
or c for s or k, two letters swapped; the first letter kept) from a word of
the red-flag patterns (bot/engine/typo.h). Real words
must never be "corrected" ("chess" is not "chest"), so this lists every
dictionary word (Debian's wamerican-small and wspanish, accents folded) that is
one slip from a red-flag word and is not one itself.

    build/tests/test_typo --vocabulary content intents > /tmp/vocab  # '*': prefix
    tools/typo-guard.py /tmp/vocab > intents/typos.json

Run it again when the red-flag vocabulary changes; a stale list only means
some real words may be read as typos (an extra escalation, never a missed
one).
"""
import json
import sys
import unicodedata

NEAR = ["qwsz", "vghn", "xdfv", "erfscx", "wrsd", "rtdgcv", "tyfhvb",
        "yugjbn", "uojk", "uihknm", "iojlm", "opk", "njk", "bhjm", "ipkl",
        "ol", "wa", "etdf", "weadzx", "ryfg", "yihj", "cfgb", "qeas", "zsdc",
        "tugh", "asx"]
# the small English list: a rare word ("vison", a mink) one slip from a
# red-flag word ("vision") is far likelier a typo in a health chat
# words of the dictionaries that in a health chat are far likelier typos
# of the red-flag word next to them
TYPOS_ANYWAY = {"vison"}
DICTS = ["/usr/share/dict/american-english-small", "/usr/share/dict/spanish"]


def fold(w):
    w = unicodedata.normalize("NFD", w.lower())
    return "".join(c for c in w if not unicodedata.combining(c))


def one_slip(a, b):
    """Mirrors hb_typo_one_slip() in bot/engine/typo.c."""
    if len(a) == len(b):
        i = 0
        while i < len(a) and a[i] == b[i]:
            i += 1
        if i == len(a):
            return False
        if i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]:
            return True
        near = (b[i] in NEAR[ord(a[i]) - 97] or (a[i] in "aeiou" and b[i] in "aeiou")
                or {a[i], b[i]} in ({"c", "s"}, {"c", "k"}))
        return i > 0 and near and a[i + 1:] == b[i + 1:]
    if len(a) + 1 == len(b):
        a, b = b, a
    if len(a) != len(b) + 1:
        return False
    i = 0
    while i < len(b) and a[i] == b[i]:
        i += 1
    return i > 0 and a[i + 1:] == b[i:]


def deletions(w):
    yield w
    for i in range(len(w)):
        yield w[:i] + w[i + 1:]


def main():
    lines = [w.strip() for w in open(sys.argv[1]) if w.strip()]
    vocab = {w.rstrip("*") for w in lines}
    prefixes = {w.rstrip("*") for w in lines if w.endswith("*")}
    index = {}
    for v in vocab:
        for k in deletions(v):
            index.setdefault(k, set()).add(v)

    def slips(w, whole):
        cands = set()
        for k in deletions(w):
            cands |= index.get(k, set())
        return any(one_slip(w, v) for v in cands if whole or v in prefixes)
    words = set()
    for path in DICTS:
        try:
            raw = open(path, "rb").read()
        except FileNotFoundError:
            sys.exit(f"{path}: missing (apt-get install wamerican-small wspanish)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # wspanish is ISO-8859-1
        for line in text.splitlines():
            w = fold(line.strip())
            if len(w) >= 3 and w.isascii() and w.isalpha():
                words.add(w)
    guard = set()
    for w in words - vocab - TYPOS_ANYWAY:
        # the whole word, or its start for a word the patterns let go on
        # ("chess" would read as "chew\w*")
        if slips(w, True) or any(slips(w[:n], False) for n in range(4, len(w))):
            guard.add(w)
    json.dump({"typos": {
        "description": "Real words (English and Spanish dictionaries) one typing slip from a red-flag word: never corrected. Written by tools/typo-guard.py.",
        "not_typos": sorted(guard)}}, sys.stdout, indent=0)
    sys.stdout.write("\n")


main()

#!/usr/bin/env python3
"""The healthbot command line as staff and the evaluation harness use it."""
import json
import os
import subprocess
import sys
import tempfile

HB = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
failures = 0
count = 0


def run(args, stdin=b"", cwd=ROOT, timeout=60):
    return subprocess.run([HB] + args, input=stdin, cwd=cwd, capture_output=True,
                          timeout=timeout)


def check(name, cond, detail=""):
    global failures, count
    count += 1
    if cond:
        print(f"ok {count} - {name}")
    else:
        failures += 1
        print(f"not ok {count} - {name}\n# {detail}")


# ask --json -: exactly one JSON object per input line, whatever the line
lines = [
    b"what causes night leg cramps?",
    b"could my fluid tablets be the reason?",
    b"my chest hurts and I can't breathe",
    b"",
    b"\xff\xfe invalid utf-8 \xc0\xaf",
    b"nul\x00bytes in\x00 the middle",
    b"\x01\x02\x1b[31mcontrol characters\x7f",
    b"a" * (1 << 20),
    b"hello",
]
p = run(["ask", "--json", "-"], stdin=b"\n".join(lines) + b"\n", timeout=120)
check("ask --json - exits 0", p.returncode == 0, p.stderr.decode(errors="replace"))
out = p.stdout.decode().splitlines()
check("one JSON object per input line", len(out) == len(lines), f"{len(out)} lines")
objs = []
for line in out:
    try:
        objs.append(json.loads(line))
    except ValueError as e:
        check("output line is JSON", False, str(e))
fields = {"kind", "severity", "intent", "article", "section", "text", "html"}
check("every object has the stable fields",
      all(fields <= set(o) for o in objs), str([sorted(o) for o in objs][:1]))
if len(objs) == len(lines):
    check("causes answer", objs[0]["kind"] == "answer" and objs[0]["intent"] == "causes"
          and objs[0]["section"] == "Causes", str(objs[0]))
    check("medicines answer", objs[1]["intent"] == "medicines", str(objs[1]["intent"]))
    check("red flag escalates", objs[2]["kind"] == "escalation"
          and objs[2]["severity"] == "emergency", str(objs[2]["kind"]))
    check("empty line gets a reply", objs[3]["kind"] in ("smalltalk", "fallback"))
    check("invalid UTF-8 is not answered from an article", objs[4]["kind"] != "answer")
    check("1 MB line gets a clear refusal", objs[7]["kind"] == "fallback"
          and "long" in objs[7]["text"].lower(), objs[7]["text"][:200])
    check("greeting is small talk", objs[8]["kind"] == "smalltalk")
    check("each line is a new conversation (no context leaks)",
          objs[1]["article"] == "night-leg-cramps")

# ask MESSAGE... with --explain names the rule and the runners-up
p = run(["ask", "--explain", "could", "my", "fluid", "tablets", "be", "the", "reason?"])
text = p.stdout.decode()
check("ask --explain exits 0", p.returncode == 0, p.stderr.decode())
check("--explain shows the deciding pattern", "rule=medicines#" in text, text[-600:])
check("--explain shows runner-up scores", text.count("score") >= 2, text[-600:])
p = run(["ask", "--json", "--explain", "I can't get my breath"])
o = json.loads(p.stdout)
check("--json --explain lists red-flag candidates",
      o["kind"] == "escalation" and any(c["kind"] == "redflag" for c in o["candidates"]),
      str(o.get("candidates")))

# chat keeps context between lines
p = run(["chat"], stdin=b"what causes night leg cramps?\nand how do I prevent them?\nquit\n")
text = p.stdout.decode()
check("chat exits 0", p.returncode == 0, p.stderr.decode())
check("chat greets", "Night leg cramps" in text.split("\n")[0], text[:200])
check("chat uses context for the follow-up",
      "To help prevent night leg cramps, try to:" in text, text[-800:])

# usage errors are clear and non-zero
p = run(["ask"])
check("ask without a message is a usage error", p.returncode == 2)
p = run(["frobnicate"])
check("unknown command is a usage error", p.returncode == 2
      and b"unknown command" in p.stderr)
for cmd in ["ask", "chat", "check", "serve", "run"]:
    p = run([cmd, "--help"])
    check(f"{cmd} --help", p.returncode == 0 and b"usage" in p.stdout)

# broken data files name the file, the entry and the position
with tempfile.TemporaryDirectory() as d:
    src = open(os.path.join(ROOT, "intents", "intents.json")).read()
    for name in os.listdir(os.path.join(ROOT, "intents")):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(ROOT, "intents", name)) as f:
            data = f.read()
        if name == "intents.json":
            data = data.replace('"patterns": [', '"patterns": ["(broken[", ', 1)
        with open(os.path.join(d, name), "w") as f:
            f.write(data)
    p = run(["check", "--intents", d, "--no-utterances"])
    err = p.stderr.decode()
    check("broken pattern refuses to load", p.returncode == 1, err)
    check("error names file, entry and offset",
          "intents.json" in err and "#1" in err and "offset" in err, err)

# from outside the checkout with explicit directories
with tempfile.TemporaryDirectory() as d:
    p = run(["ask", "--content", os.path.join(ROOT, "content"), "--intents",
             os.path.join(ROOT, "intents"), "what helps in the moment?"], cwd=d)
    check("explicit --content/--intents work from any directory",
          p.returncode == 0 and b"To relieve night leg cramps" in p.stdout,
          p.stderr.decode())

# check --config validates the config file key by key, then the library
with tempfile.TemporaryDirectory() as d:
    good = os.path.join(d, "good.json")
    with open(good, "w") as f:
        json.dump({"content_dir": os.path.join(ROOT, "content"),
                   "intents_dir": os.path.join(ROOT, "intents"),
                   "emergency_number": "112",
                   "widget": {"port": 8080}}, f)
    p = run(["check", "--config", good, "--no-utterances"])
    check("check --config accepts a valid config", p.returncode == 0
          and b"is valid" in p.stdout, (p.stdout + p.stderr).decode()[-400:])
    for bad, path in [({"widget": {"port": "8080"}}, "widget.port"),
                      ({"widgets": {}}, "widgets"),
                      ({"log_level": "loud"}, "log_level")]:
        fn = os.path.join(d, "bad.json")
        with open(fn, "w") as f:
            json.dump(bad, f)
        p = run(["check", "--config", fn, "--no-utterances"])
        check(f"check --config rejects {path} naming the key",
              p.returncode == 1 and path.encode() in p.stderr, p.stderr.decode())
    with open(os.path.join(d, "broken.json"), "w") as f:
        f.write('{"widget": {\n  "port": 80,,\n}}')
    p = run(["check", "--config", os.path.join(d, "broken.json")])
    check("check --config names the line of a JSON error",
          p.returncode == 1 and b"broken.json:2:" in p.stderr, p.stderr.decode())

# a large library: the fallback names a few topics and counts the rest
with tempfile.TemporaryDirectory() as d:
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "bench", "gen-library"),
                    "30", d], check=True, capture_output=True)
    p = run(["ask", "--extra-content", d, "what causes gout?"])
    text = p.stdout.decode()
    check("a fallback over 31 articles lists a few and counts the rest",
          p.returncode == 0 and "and 20 more topics" in text
          and text.count(",") < 20, text)

# check runs the utterance set and prints the per-intent table
p = run(["check"], timeout=120)
text = p.stdout.decode()
check("check prints the per-intent table", "hits" in text and "misses" in text, text[-400:])
check("check reports red-flag recall", "red-flag recall" in text, text[-400:])

# check on red-flag sets (tests/redflags.tsv's format): per-category recall,
# false alarms, "a|b" categories, "@es"; a set with misses must fail
FIX = os.path.join(ROOT, "tests", "cli", "fixtures")
p = run(["check", "--utterances", os.path.join(FIX, "check-fail.tsv")])
text = p.stdout.decode()
check("check fails on a set with a missed emergency", p.returncode == 1,
      text[-800:])
check("check lists the miss", "MISS " in text and "lovely sunny afternoon" in text,
      text[-800:])
check("check lists a wrong-category escalation as a miss",
      "expected escalation/no-such-category, got escalation/" in text, text[-800:])
check("check lists the false alarm",
      "FALSE ALARM " in text and "check-fail.tsv:7:" in text, text[-800:])
check("check prints recall per category",
      any(l.startswith("chest-pain") and "50.0%" in l for l in text.splitlines()),
      text[-800:])
check("check prints the false-alarm rate",
      "false alarms: 1/2 benign line(s) escalated (50.0%)" in text, text[-800:])
check("check names a category the rules do not have",
      any(l.startswith("no-such-category") and "NO RULE" in l
          for l in text.splitlines()), text[-800:])
check("check reads a|b and @es without a format error",
      "error:" not in text, text[-800:])
fa = os.path.join(FIX, "check-false-alarms.tsv")
p = run(["check", "--utterances", fa])
text = p.stdout.decode()
check("check fails above 3% false alarms by default",
      p.returncode == 1 and "false alarms above 3%" in text, text[-600:])
p = run(["check", "--utterances", fa, "--max-false-alarms", "10"])
check("check passes at --max-false-alarms 10 with 1 of 10",
      p.returncode == 0, p.stdout.decode()[-600:])
p = run(["check", "--redflags", fa, "--max-false-alarms", "10"])
text = p.stdout.decode()
check("check --redflags fails when rule categories have no test line",
      p.returncode == 1 and "NO TEST LINE" in text
      and "does not cover" in text, text[-600:])
# the reply's language: "@es" lines need a Spanish reply, unmarked lines
# an English one; a wrong language fails a line whose category is right
p = run(["check", "--utterances", os.path.join(FIX, "check-language.tsv")])
text = p.stdout.decode()
lang_lines = [l for l in text.splitlines() if l.startswith("LANGUAGE ")]
check("check fails on replies in the wrong language", p.returncode == 1,
      text[-800:])
check("check lists each reply in the wrong language, and only those",
      sorted(l.split(":")[1] for l in lang_lines) == ["6", "7", "9"]
      and "expected a reply in es, got en" in lang_lines[0]
      and "expected a reply in en, got es" in lang_lines[1], text[-800:])
check("a wrong language is not a miss or a false alarm",
      "MISS " not in text and "red-flag recall 3/3" in text
      and "false alarms: 0/3" in text, text[-800:])
check("check counts the language failures",
      "utterances: 6 run, 3 failed" in text
      and "language: 3 of 6 replies in the wrong language" in text,
      text[-800:])
for bad in (["--max-false-alarms", "x"], ["--max-false-alarms", "101"],
            ["--utterances", fa, "--redflags", fa]):
    p = run(["check"] + bad)
    args = " ".join(os.path.basename(a) for a in bad)
    check(f"check {args} is a usage error", p.returncode == 2, p.stderr.decode())

print(f"{count - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)

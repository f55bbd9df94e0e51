#!/usr/bin/env python3
"""libhealthbot.so exports exactly what healthbot.h declares HB_EXPORT:
the engine's internals and the shared layer (bot/common) stay hidden."""
import re
import subprocess
import sys

header, lib = sys.argv[1], sys.argv[2]
text = open(header, encoding="utf-8").read()
declared = set(re.findall(r"HB_EXPORT\b[^;(]*?\b(hb_\w+)\s*\(", text, re.S))
out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                     capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines()
            if line.split() and line.split()[-1].startswith("hb_")}
extra = sorted(exported - declared)
missing = sorted(declared - exported)
for name in extra:
    print(f"exported but not in healthbot.h: {name}")
for name in missing:
    print(f"declared HB_EXPORT but not exported: {name}")
if not declared:
    print("no HB_EXPORT declarations found in", header)
    sys.exit(1)
print(f"{len(exported)} symbols exported, {len(declared)} declared")
sys.exit(1 if extra or missing else 0)

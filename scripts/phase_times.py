#!/usr/bin/env python3
"""Print the per-phase times of a CI run and the time of each test binary.

Usage: phase_times.py PHASES_FILE [JUNIT_XML]

PHASES_FILE has one `name seconds` line per phase (scripts/test.sh writes it);
JUNIT_XML is nextest's report (profile `ci`). A test binary's time is the sum
of its tests' times (they overlap when run in parallel, so the column adds up
to more than the wall time of the test phase) and its slowest test.
"""
import sys
import xml.etree.ElementTree as ET


def fmt(s: float) -> str:
    m, s = divmod(int(round(s)), 60)
    return f"{m}m{s:02d}s" if m else f"{s}s"


def main() -> int:
    phases = []
    with open(sys.argv[1]) as f:
        for line in f:
            name, _, secs = line.rstrip("\n").rpartition(" ")
            if name:
                phases.append((name, float(secs)))
    total = sum(s for _, s in phases)
    print("\n== per-phase times")
    for name, secs in phases:
        print(f"  {name:<28} {fmt(secs):>8}")
    print(f"  {'total':<28} {fmt(total):>8}")
    if len(sys.argv) > 2:
        try:
            root = ET.parse(sys.argv[2]).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"  (no test report: {e})")
            return 0
        binaries = {}
        for suite in root.iter("testsuite"):
            name = suite.get("name", "?")
            cases = [(c.get("name", "?"), float(c.get("time", "0"))) for c in suite.iter("testcase")]
            if not cases:
                continue
            b = binaries.setdefault(name, [0, 0.0, ("", 0.0)])
            b[0] += len(cases)
            b[1] += sum(t for _, t in cases)
            slow = max(cases, key=lambda c: c[1])
            if slow[1] > b[2][1]:
                b[2] = slow
        print("\n== test binaries (sum of test times, slowest test)")
        for name, (n, secs, slow) in sorted(binaries.items(), key=lambda kv: -kv[1][1]):
            print(f"  {name:<44} {n:>4} tests {fmt(secs):>8}   slowest {fmt(slow[1]):>6} {slow[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Adds up the JUnit XML files of a test run and prints one closing line: 'tests: N passed, N failed, N skipped'.
Exits non-zero when anything failed or nothing ran."""
import glob
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sorted(glob.glob(f"{sys.argv[1]}/*.xml")):
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            skipped += 1
        else:
            passed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)

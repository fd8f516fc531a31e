#!/usr/bin/env python3
"""Cuts the payments sample in this folder from NHS Digital's published files.

Usage: python3 cut.py /path/to/nhs/payments
Every practice that in any year 2016/17-2018/19 was in CCG 06Q, 06T (both in
NHS England local office Q79) or 03W (Q78) and was a dispensing practice in
some year, and every fifth other practice of those CCGs (in file order), all
columns, rows in file order; headers, byte-order mark and line endings as in
the source.
"""
import csv, io, os, sys

src = sys.argv[1]
CCGS = {"06Q", "06T", "03W"}
YEARS = ["16-17", "17-18", "18-19"]

def rows(path):
    raw = open(path, "rb").read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    eol = "\r\n" if b"\r\n" in raw[:100000] else "\n"
    return (bom, eol), list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))

def write(path, form, table):
    bom, eol = form
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f, lineterminator=eol).writerows(table)

disp, other = set(), []
for y in YEARS:
    _, t = rows(os.path.join(src, f"payments_{y}.csv"))
    h = [c.strip() for c in t[0]]
    i, j, d = h.index("CCG Code"), h.index("Practice Code"), h.index("Dispensing Practice")
    for r in t[1:]:
        if r[i] in CCGS:
            if r[d].strip().lower().startswith("y"):
                disp.add(r[j])
            elif r[j] not in other:
                other.append(r[j])
codes = disp | {c for c in other[::5] if c not in disp}
for y in YEARS:
    form, t = rows(os.path.join(src, f"payments_{y}.csv"))
    j = [c.strip() for c in t[0]].index("Practice Code")
    write(f"payments_{y}.csv", form, [t[0]] + [r for r in t[1:] if r[j] in codes])

#!/usr/bin/env python3
"""Cuts the small samples in this folder from NHS England's published files.

Usage: python3 cut.py DIR   (DIR: a folder of the published files, as
docs/parameters.md's "Real-data calibration" lays them out)
Payments: every practice that, in any year 2014/15-2018/19, belonged to one
of the CCGs in CCGS (chosen for their mix of dispensing and merging
practices), all columns, rows in file order; the byte-order mark and line
endings are kept as in the source. Weighted populations and registrations:
every 25th practice of the file, in file order. Headers are unchanged.
"""
import csv, io, os, sys

src = sys.argv[1]
CCGS = {"00K", "00M", "01C", "02P", "03W", "04F", "05D", "06K", "10Q", "99F"}

def rows(path):
    raw = open(path, "rb").read()
    bom = raw.startswith(b"\xef\xbb\xbf")
    eol = "\r\n" if b"\r\n" in raw[:100000] else "\n"
    text = raw.decode("utf-8-sig")
    return (bom, eol), list(csv.reader(io.StringIO(text, newline="")))

def write(path, form, table):
    bom, eol = form
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f, lineterminator=eol).writerows(table)

os.makedirs("payments", exist_ok=True)
files = sorted(os.listdir(os.path.join(src, "payments")))
codes = set()
for fn in files:
    _, t = rows(os.path.join(src, "payments", fn))
    h = [c.strip() for c in t[0]]
    i, j = h.index("CCG Code"), h.index("Practice Code")
    codes |= {r[j] for r in t[1:] if r[i] in CCGS}
for fn in files:
    bom, t = rows(os.path.join(src, "payments", fn))
    j = [c.strip() for c in t[0]].index("Practice Code")
    write(os.path.join("payments", fn), bom, [t[0]] + [r for r in t[1:] if r[j] in codes])
for sub, names in (("weighted-populations", ["2022_2023.csv", "2024_2025.csv"]),
                   ("registrations", ["gp-reg-pat-prac-all_01Jan2021.csv", "gp-reg-pat-prac-all_01May2022.csv"])):
    os.makedirs(sub, exist_ok=True)
    for fn in names:
        bom, t = rows(os.path.join(src, sub, fn))
        write(os.path.join(sub, fn), bom, [t[0]] + t[1::25])

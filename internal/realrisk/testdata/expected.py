#!/usr/bin/env python3
"""Figures the tests expect on this sample, computed independently of the Go
code (plain Python, the method of docs/validation.md): for each pair of
years, practices open in both, dispensing in both, >= 1,000 patients,
|log list change| <= 0.2, >= 5 pounds a head of drugs in both; national
growth pooled; x = 1 - exp(residual) per holder. Prints the kept practices,
each pair's national growth, and SD, robust SD and P(x > 2%) of single
practices of 5,000 (3,500-7,000 people) and of geographic holders of 30,000
(consecutive practices by region, CCG, postcode, code, inside a CCG).

Usage: python3 expected.py
"""
import csv, math, statistics

def num(s):
    s = s.replace(",", "").replace("£", "").strip()
    return float(s) if s not in ("", "-") else 0.0

def load(y):
    out = {}
    with open(f"payments_{y}.csv", encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        h = [" ".join(x.split()).lower() for x in next(r)]
        ix = {k: i for i, k in enumerate(h)}
        for row in r:
            g = lambda k: row[ix[k]].strip()
            out[g("practice code")] = dict(
                region=g("nhs england (region) code"), ccg=g("ccg code"), pc=g("practice postcode"),
                open=g("practice close date") in ("", "-"), disp=g("dispensing practice").lower().startswith("y"),
                n=num(g("number of registered patients (last known figure)")), d=num(g("reimbursement of drugs")))
    return out

def pair(a, b):
    rows = []
    for c in sorted(a):
        if c not in b: continue
        r0, r1 = a[c], b[c]
        if not (r0["open"] and r1["open"] and r0["disp"] and r1["disp"]): continue
        if r0["n"] < 1000 or r1["n"] < 1000 or abs(math.log(r1["n"] / r0["n"])) > 0.2: continue
        if r0["d"] <= 0 or r1["d"] <= 0 or r0["d"] / r0["n"] < 5 or r1["d"] / r1["n"] < 5: continue
        rows.append((c, r1["region"], r1["ccg"], r1["pc"], r0["n"], r1["n"], r0["d"], r1["d"]))
    return rows

def x_of(rows, members, g):
    n0 = sum(rows[i][4] for i in members); n1 = sum(rows[i][5] for i in members)
    d0 = sum(rows[i][6] for i in members); d1 = sum(rows[i][7] for i in members)
    return 1 - math.exp(math.log(d1 / n1) - math.log(d0 / n0) - g)

def describe(x):
    m = sum(x) / len(x)
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / len(x))
    med = statistics.median(x)
    return sd, 1.4826 * statistics.median([abs(v - med) for v in x]), sum(v > 0.02 for v in x) / len(x), len(x)

years = ["16-17", "17-18", "18-19"]
data = {y: load(y) for y in years}
singles, geo = [], []
for y0, y1 in zip(years, years[1:]):
    rows = pair(data[y0], data[y1])
    g = math.log(sum(r[7] for r in rows) / sum(r[5] for r in rows)) - math.log(sum(r[6] for r in rows) / sum(r[4] for r in rows))
    print(y0, y1, "kept", len(rows), " ".join(r[0] for r in rows))
    print("  national growth %.15f" % g)
    singles += [x_of(rows, [i], g) for i, r in enumerate(rows) if 3500 <= r[4] <= 7000]
    order = sorted(range(len(rows)), key=lambda i: (rows[i][1], rows[i][2], rows[i][3], rows[i][0]))
    cur, tot, unit = [], 0, None
    for i in order:
        u = (rows[i][1], rows[i][2])
        if u != unit:
            cur, tot, unit = [], 0, u
        cur.append(i); tot += rows[i][4]
        if tot >= 30000:
            geo.append(x_of(rows, cur, g)); cur, tot = [], 0
print("singles 5000: sd %.15f robust %.15f p_over_2 %.15f holders %d" % describe(singles))
print("geographic 30000: sd %.15f robust %.15f p_over_2 %.15f holders %d" % describe(geo))

#!/usr/bin/env python3
"""A numpy peer of gpbudget's patient-level kernel (see bench/README.md).

Reads the kernel's model as tables (sim.KernelSpec, JSON) on stdin and
simulates every practice's patients year by year, vectorised over all
patients of all practices at once on one thread: each patient-year's five
event counts (negative binomial given age-sex cell and frailty state, drawn
as Poisson with a gamma-distributed mean), the costs of those events (gamma
sums by the additive property, lognormal mixtures as the kernel draws them),
and the year's demography (frailty transition, death, leaving, ageing,
births, joiners). No Python loop runs per patient or per event.

Prints one JSON object: patient-years simulated and patient-years per second
of thread CPU time (each (replication, year) step the fastest of --repeats
identical passes, as the Go kernel keeps each practice-year's fastest of 5).
With --validate it prints, per replication and practice, the list sizes,
events and spend summed over the years instead (bench's test compares them
with the Go kernel's).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"  # one thread, before numpy loads

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

NSTREAMS = 5
EXACT_COST_EVENTS = 32  # as sim/costsum.go: fewer events are costed one by one
COST_TAIL_Z = 3.0
FEMALE, MALE = 1, 0


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


class Part:
    """One lognormal cost part with the kernel's constants for sums
    (sim/costsum.go newLognormalPart: an exact tail beyond Z = 3 and a
    shifted gamma with the body's first three cumulants)."""

    def __init__(self, mean, cv):
        s2 = math.log(1 + cv * cv)
        self.sigma = math.sqrt(s2)
        self.mu = math.log(mean) - s2 / 2 if mean > 0 else -math.inf
        self.mean = mean
        self.theta = self.shape = self.shift = self.sd = 0.0
        if self.sigma == 0:
            return
        pc = phi(COST_TAIL_Z)
        self.tail = 1 - pc
        r = [0.0] * 4
        for j in range(1, 4):
            r[j] = math.exp(j * j * s2 / 2) * phi(COST_TAIL_Z - j * self.sigma) / pc
        k1, k2 = r[1], r[2] - r[1] ** 2
        k3 = r[3] - 3 * r[1] * r[2] + 2 * r[1] ** 3
        scale = math.exp(self.mu)
        if abs(k3) > 1e-6 * k2 ** 1.5:
            self.theta = k3 / (2 * k2)
            self.shape = k2 / self.theta ** 2
            self.shift = (k1 - self.shape * self.theta) * scale
            self.theta *= scale
        else:
            self.shift = k1 * scale
            self.sd = math.sqrt(max(k2, 0)) * scale


class Peer:
    def __init__(self, spec, totals=False):
        self.totals = totals
        self.K = K = spec["states"]
        self.B = B = spec["bands"]
        self.max_age = spec["max_age"]
        self.years = spec["years"]
        self.ncells = nc = 2 * B
        self.R = R = nc * K  # rows (cell, state) per practice
        self.count = np.array(spec["count"], dtype=np.int64)  # practice x cell
        self.P = P = len(self.count)
        self.disp = np.array(spec["dispersion"], dtype=float)
        self.base = np.array(spec["base_rate"], dtype=float).reshape(R, NSTREAMS)
        self.birth_rate = spec["birth_rate"]
        self.male_share = spec["male_birth_share"]
        self.turnover = spec["turnover"]
        self.reps = [r["rep"] for r in spec["reps"]]
        self.mult = [np.asarray(r["mult"], dtype=float) for r in spec["reps"]]  # practice x year x stream
        self.price = [np.asarray(r["price"], dtype=float) for r in spec["reps"]]
        # Demography: outcome = how many of a row's cumulative thresholds u
        # reaches (as the kernel), K+1 thresholds a row.
        self.trans = np.array(spec["trans_cum"], dtype=float).reshape(R, K + 1)
        self.trans_cols = [np.ascontiguousarray(self.trans[:, j]) for j in range(K + 1)]
        # State shares per cell (the last state's threshold omitted), and
        # newborns'; join mix per practice: searched with the row's index
        # added, so one searchsorted serves every cell or practice.
        cs = np.array(spec["cell_share"], dtype=float).reshape(nc, K)
        self.share_flat = (np.arange(nc)[:, None] + np.cumsum(cs, axis=1)[:, : K - 1]).ravel()
        self.newborn_cum = np.cumsum(spec["newborn_share"])[: K - 1]
        n = self.count.sum(axis=1)
        jc = np.cumsum(self.count, axis=1) / n[:, None]
        jc[:, -1] = 1
        self.join_flat = (np.arange(P)[:, None] + jc).ravel()
        # cell of (sex, age)
        ages = np.arange(self.max_age + 1)
        band = np.minimum(ages // 5, B - 1)
        self.cell_of = np.concatenate([band, B + band])  # sex*(MaxAge+1)+age -> cell; sex 0 male
        woman = np.zeros(2 * (self.max_age + 1), dtype=np.int64)
        woman[self.max_age + 1 + 15 : self.max_age + 1 + 45] = 1
        # A patient is one integer, code = ((practice*2 + sex)*(MaxAge+1) + age)*K
        # + state, so the list is one array (one compress and one
        # concatenate a year) and lookup tables by code give its table row,
        # the row in the practice's rates, its code a year older, and
        # whether it is a woman who may give birth.
        A = self.max_age + 1
        self.A = A
        code = np.arange(P * 2 * A * K)
        st, sa = code % K, (code // K) % (2 * A)  # sa = sex*A + age
        pc = code // (2 * A * K)
        self.lrow_of = self.cell_of[sa] * K + st
        self.grow_of = pc * R + self.lrow_of
        self.older = code - st + K * (sa % A < self.max_age)  # state 0, a year older
        self.woman_of = woman[sa]
        self.nb = [bool(r > 0 and math.isfinite(r)) for r in self.disp]
        # Inversion for streams under one event a patient-year on average
        # (the starting lists at the first replication's first-year rates).
        start_mean = (self.count[:, :, None] * self.base.reshape(nc, K, NSTREAMS).mean(axis=1)[None]).sum(axis=(0, 1))
        start_mean = start_mean * self.mult[0][:, 0, :].mean(axis=0) / self.count.sum() if self.mult else start_mean
        self.invert = [bool(m < 1) for m in start_mean]
        self.costs = []
        for c in spec["costs"]:
            parts = c["parts"]
            if c["gamma"]:
                cv, mean = parts[0]["cv"], parts[0]["mean"]
                self.costs.append(("gamma", mean, 1 / cv ** 2 if cv > 0 else 0.0, mean * cv * cv))
            else:
                shares = np.array([p["share"] for p in parts], dtype=float)
                shares /= shares.sum()
                self.costs.append(("lognormal", shares, [Part(p["mean"], p["cv"]) for p in parts]))

    # --- starting lists -------------------------------------------------
    def start(self, rng):
        cnt = self.count.ravel()
        tot = cnt.sum()
        cellp = np.repeat(np.arange(self.P * self.ncells), cnt)
        prac, cell = cellp // self.ncells, cellp % self.ncells
        sex = (cell >= self.B).astype(np.int64)  # cells: sex*Bands + band, male 0
        band = cell % self.B
        span = np.where(band == self.B - 1, 10, 5)
        age = 5 * band + (rng.random(tot) * span).astype(np.int64)
        state = self.state_in(rng, cell)
        return self.encode(prac, sex, age, state)

    def encode(self, prac, sex, age, state):
        return ((prac * 2 + sex) * self.A + age) * self.K + state

    def state_in(self, rng, cell):
        if self.K == 1:
            return np.zeros(len(cell), dtype=np.int64)
        u = rng.random(len(cell)) + cell
        return np.searchsorted(self.share_flat, u, side="right") - cell * (self.K - 1)

    # --- one year --------------------------------------------------------
    def year(self, rng, rep, y, pop):
        """Events and costs for the list as it stands, then demography.
        Returns the new list, the practices' events (P x 5), spend and list sizes."""
        code = pop
        K, P = self.K, self.P
        n = len(code)
        lrow = self.lrow_of.take(code)
        grow_ = self.grow_of.take(code)
        prac = code // (2 * self.A * K)
        mult, price = self.mult[rep], self.price[rep]
        sizes = np.bincount(prac, minlength=P)
        events = np.empty((P, NSTREAMS))
        spend = np.empty((P, NSTREAMS))
        for s in range(NSTREAMS):
            # The year's mean per (practice, row), then per patient.
            tab = (mult[:, y, s][:, None] * self.base[:, s][None, :]).ravel()
            if self.invert[s]:
                events[:, s] = self.counts_by_inversion(rng, s, tab, grow_, prac)
            elif self.totals:
                events[:, s] = self.totals_by_mixture(rng, s, tab, grow_, prac)
            else:
                events[:, s] = self.counts_by_mixture(rng, s, tab, grow_, prac)
            spend[:, s] = self.spend(rng, s, events[:, s].astype(np.int64)) * price[:, y, s]
        # Demography: next state, death (K) or leaving (K+1).
        u = rng.random(n)
        o = np.zeros(n, dtype=np.int64)
        for col in self.trans_cols:
            o += u >= col.take(lrow)
        keep = o < K
        code = (self.older.take(code) + o)[keep]
        women = np.bincount(code // (2 * self.A * K), weights=self.woman_of.take(code), minlength=P)
        births = rng.poisson(self.birth_rate * women)
        joiners = rng.poisson(self.turnover * sizes)
        # Births: age 0, sex by the boys' share, state from newborns' shares.
        nb = births.sum()
        bp = np.repeat(np.arange(P), births)
        bs = np.where(rng.random(nb) < self.male_share, MALE, FEMALE)
        bst = np.searchsorted(self.newborn_cum, rng.random(nb), side="right")
        # Joiners: the practice's own age-sex mix, ages uniform in band.
        nj = joiners.sum()
        jp = np.repeat(np.arange(P), joiners)
        jcell = np.searchsorted(self.join_flat, jp + rng.random(nj), side="right") - jp * self.ncells
        jband = jcell % self.B
        jage = 5 * jband + (rng.random(nj) * np.where(jband == self.B - 1, 10, 5)).astype(np.int64)
        jst = self.state_in(rng, jcell)
        pop = np.concatenate([code, self.encode(bp, bs, 0, bst), self.encode(jp, (jcell >= self.B).astype(np.int64), jage, jst)])
        return pop, events, spend, sizes

    # --- counts ---------------------------------------------------------
    # Two ways, each the faster where it is used (bench/README.md): streams
    # whose patients mostly have no event are drawn by inversion, one
    # uniform a patient, walking the pmf only for the few past zero; streams
    # with several events a patient (prescribing) as Poisson with a gamma
    # mean, numpy's own samplers. Both return the practices' totals.
    def counts_by_mixture(self, rng, s, tab, grow_, prac):
        m = tab.take(grow_)
        r = self.disp[s]
        if self.nb[s]:
            lam = rng.standard_gamma(r, len(m))
            lam *= m * (1 / r)
        else:
            lam = m
        return np.bincount(prac, weights=rng.poisson(lam), minlength=self.P)

    def totals_by_mixture(self, rng, s, tab, grow_, prac):
        """--totals: each patient's gamma mean, then one Poisson per practice
        in their sum (a sum of Poissons is Poisson): the same practice
        totals in distribution, but no patient's own count."""
        m = tab.take(grow_)
        if self.nb[s]:
            r = self.disp[s]
            m = rng.standard_gamma(r, len(m)) * m * (1 / r)
        return rng.poisson(np.bincount(prac, weights=m, minlength=self.P))

    def counts_by_inversion(self, rng, s, tab, grow_, prac):
        r = self.disp[s]
        if self.nb[s]:
            p0, q = (r / (r + tab)) ** r, tab / (r + tab)  # p(k+1) = p(k)·(k+r)/(k+1)·q
        else:
            p0, q = np.exp(-tab), tab  # p(k+1) = p(k)·q/(k+1)
        n = len(grow_)
        u = rng.random(n)
        c = p0.take(grow_)
        act = np.flatnonzero(u >= c)  # patients with at least j+1 events
        total = np.zeros(self.P)
        ua, p, qa = u[act], c[act], q.take(grow_[act])
        cum = p.copy()
        j = 0
        while len(act):
            j += 1
            p *= ((j - 1 + r) if self.nb[s] else 1) / j * qa
            cum += p
            total += np.bincount(prac.take(act), minlength=self.P)
            more = (ua >= cum) & (cum < 1 - 1e-13)  # the kernel's tail cut; rounding cannot loop
            if not more.all():
                act, ua, p, cum, qa = act[more], ua[more], p[more], cum[more], qa[more]
        return total

    # --- costs (per practice, from the year's count) -----------------------
    def spend(self, rng, s, n):
        c = self.costs[s]
        if c[0] == "gamma":
            _, mean, shape, scale = c
            if shape == 0:
                return n * mean
            return rng.standard_gamma(n * shape) * scale
        _, shares, parts = c
        split = rng.multinomial(n, shares)  # P x parts
        total = np.zeros(len(n))
        for j, lp in enumerate(parts):
            # The kernel costs a stream's events one by one below 32 events,
            # and a part's below 32 too; otherwise tail plus body.
            total += self.lognormal_sum(rng, lp, split[:, j], n < EXACT_COST_EVENTS)
        return total

    def lognormal_sum(self, rng, lp, n, exact_stream):
        P = len(n)
        if lp.sigma == 0:
            return n * lp.mean
        exact = exact_stream | (n < EXACT_COST_EVENTS)
        ne = np.where(exact, n, 0)
        idx = np.repeat(np.arange(P), ne)
        total = np.zeros(P)
        total += np.bincount(idx, weights=np.exp(lp.mu + lp.sigma * rng.standard_normal(len(idx))), minlength=P)
        na = np.where(exact, 0, n)
        t = rng.binomial(na, lp.tail)
        ti = np.repeat(np.arange(P), t)
        total += np.bincount(ti, weights=np.exp(lp.mu + lp.sigma * normal_tail(rng, COST_TAIL_Z, len(ti))), minlength=P)
        m = (na - t).astype(float)
        if lp.theta != 0:
            body = m * lp.shift + lp.theta * rng.standard_gamma(m * lp.shape)
        else:
            body = m * lp.shift + np.sqrt(m) * lp.sd * rng.standard_normal(P)
        return total + np.maximum(body, 0)


def normal_tail(rng, c, size):
    """Z given Z > c (Marsaglia 1964), vectorised with rejection."""
    out = np.empty(size)
    done = 0
    while done < size:
        want = size - done
        k = int(want * 1.2) + 8
        x = np.sqrt(c * c - 2 * np.log1p(-rng.random(k)))
        x = x[rng.random(k) * x <= c][:want]
        out[done : done + len(x)] = x
        done += len(x)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="identical timed passes; each step's fastest counts")
    ap.add_argument("--validate", action="store_true", help="print per (replication, practice) sums over the years")
    ap.add_argument("--totals", action="store_true", help="draw each patient's gamma mean but only practice totals of counts")
    a = ap.parse_args()
    spec = json.load(sys.stdin)
    peer = Peer(spec, a.totals)
    P = peer.P
    if a.validate:
        out = []
        for ri in range(len(peer.reps)):
            rng = np.random.Generator(np.random.PCG64([a.seed, ri]))
            pop = peer.start(rng)
            size, ev, sp = np.zeros(P), np.zeros((P, NSTREAMS)), np.zeros((P, NSTREAMS))
            for y in range(peer.years + 1):
                pop, e, s, n = peer.year(rng, ri, y, pop)
                size += n
                ev += e
                sp += s
            out.append({"rep": peer.reps[ri], "list_years": size.tolist(), "events": ev.tolist(), "spend": sp.tolist()})
        json.dump({"reps": out}, sys.stdout)
        print()
        return
    steps = len(peer.reps) * (peer.years + 1)
    best = [math.inf] * steps
    py = 0
    for _ in range(max(a.repeats, 1)):
        py = 0
        for ri in range(len(peer.reps)):
            rng = np.random.Generator(np.random.PCG64([a.seed, ri]))
            pop = peer.start(rng)  # untimed, as the kernel's Start
            for y in range(peer.years + 1):
                t0 = time.thread_time()
                pop2, _, _, n = peer.year(rng, ri, y, pop)
                el = time.thread_time() - t0
                i = ri * (peer.years + 1) + y
                best[i] = min(best[i], el)
                py += int(n.sum())
                pop = pop2
    sec = sum(best)
    json.dump({"patient_years": py, "seconds": sec, "patient_years_per_sec": py / sec if sec > 0 else None,
               "numpy": np.__version__, "python": sys.version.split()[0], "generator": "PCG64",
               "repeats": a.repeats, "totals": a.totals}, sys.stdout)
    print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Cross-checks `optimize --mode exact` against HiGHS (scipy.optimize.milp) on random instances.

An outside oracle, for people: the Rust tests never need Python. Requires scipy >= 1.9
(`pip install scipy`). HiGHS's default relative MIP gap is 1e-4, so it is set to 0 here.

    cargo build --release -p kol-examples --example optimize
    python3 kol-optimizer/scripts/crosscheck_highs.py target/release/examples/optimize --cases 200

Instances: 5 to 60 KOLs with 1 to 6 items, prices and reach up to 10^5, audience shares 0-100,
relevance with up to 4 decimals, budgets between 5% and 60% of what all dearest items cost, some
pins and exclusions, both weighting modes. Each optimum (reach, then spend for equal reach) must
match within 1e-6 people; exits 1 on any mismatch.
"""

import argparse
import json
import random
import subprocess
import sys

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


def instance(rng):
    n = rng.randint(5, 60)
    cands = []
    for k in range(n):
        names = rng.sample(["ig_post", "ig_story", "ig_reel", "tiktok_video", "youtube_video", "bundle"],
                           rng.randint(1, 6))
        items = [{"item": m, "price": rng.randint(0, 100_000), "est_reach": rng.randint(0, 100_000)}
                 for m in names]
        cands.append({"kol_id": rng.randint(-10**6, 10**6) * 1000 + k,
                      "audience_th_pct": rng.randint(0, 100),
                      "relevance": round(rng.uniform(0, 3), rng.randint(0, 4)),
                      "items": items})
    dearest = sum(max(i["price"] for i in c["items"]) for c in cands)
    budget = int(dearest * rng.uniform(0.05, 0.6))
    pinned, excluded = [], []
    for c in cands:
        roll = rng.random()
        if roll < 0.05:
            cheapest = min(c["items"], key=lambda i: i["price"])
            pinned.append({"kol_id": c["kol_id"], "item": cheapest["item"]})
        elif roll < 0.1:
            excluded.append(c["kol_id"])
    if sum(next(i["price"] for i in c["items"] if i["item"] == p["item"])
           for p in pinned for c in cands if c["kol_id"] == p["kol_id"]) > budget:
        pinned = []
    return {"budget": budget, "target_country_weighting": rng.random() < 0.7,
            "candidates": cands, "pinned": pinned, "excluded": excluded}


def micros(req, c, item):
    pct = c["audience_th_pct"] if req["target_country_weighting"] else 100
    rel = round(c["relevance"] * 10_000)
    return item["est_reach"] * pct * rel  # millionths of a person, exactly as the optimizer


def highs(req):
    """Max reach (in micro-people), then min spend, via two MILPs."""
    cols, prices, reach = [], [], []
    pins = {p["kol_id"]: p["item"] for p in req["pinned"]}
    for ci, c in enumerate(req["candidates"]):
        for item in c["items"]:
            cols.append((ci, c["kol_id"], item["item"]))
            prices.append(item["price"])
            reach.append(micros(req, c, item))
    n = len(cols)
    if n == 0:
        return 0, 0
    lo, hi = np.zeros(n), np.ones(n)
    for j, (_, kol, name) in enumerate(cols):
        if kol in req["excluded"]:
            hi[j] = 0
        if kol in pins:
            lo[j] = hi[j] = 1.0 if pins[kol] == name else 0.0
    kols = sorted({ci for ci, _, _ in cols})
    one = np.zeros((len(kols), n))
    for j, (ci, _, _) in enumerate(cols):
        one[kols.index(ci), j] = 1
    price = np.array(prices, dtype=float)
    scale = 1e-6  # people, so HiGHS works with moderate magnitudes
    r = np.array(reach, dtype=float) * scale
    opts = {"mip_rel_gap": 0.0, "presolve": True}
    cons = [LinearConstraint(one, 0, 1), LinearConstraint(price[None, :], 0, req["budget"])]
    res = milp(-r, integrality=np.ones(n), bounds=Bounds(lo, hi), constraints=cons, options=opts)
    if not res.success:
        raise RuntimeError(res.message)
    best = sum(reach[j] for j in range(n) if res.x[j] > 0.5)
    # Same reach (within rounding of the float model), least spend.
    cons.append(LinearConstraint(r[None, :], best * scale - 1e-6, np.inf))
    res2 = milp(price, integrality=np.ones(n), bounds=Bounds(lo, hi), constraints=cons, options=opts)
    x = res2.x if res2.success else res.x
    return sum(reach[j] for j in range(n) if x[j] > 0.5), sum(prices[j] for j in range(n) if x[j] > 0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", help="path to the built optimize example")
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    bad = 0
    for case in range(args.cases):
        req = instance(rng)
        out = subprocess.run([args.binary, "--mode", "exact"], input=json.dumps(req),
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"case {case}: optimize failed: {out.stderr.strip()}")
            bad += 1
            continue
        plan = json.loads(out.stdout)
        ours = sum(micros(req, next(c for c in req["candidates"] if c["kol_id"] == s["kol_id"]),
                          next(i for c in req["candidates"] if c["kol_id"] == s["kol_id"]
                               for i in c["items"] if i["item"] == s["item"]))
                   for s in plan["selections"])
        reach, spend = highs(req)
        if abs(ours - reach) > 1 or (ours == reach and plan["spent"] != spend):
            print(f"case {case}: optimize reach {ours} spent {plan['spent']}, HiGHS reach {reach} spent {spend}")
            bad += 1
    print(f"{args.cases - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

//! The solver with side constraints: a Lagrangian bound, a greedy that repairs, and a branch and
//! bound that proves.
//!
//! Every side constraint is a row `sum(a_i x_i) <= b` (see [`crate::constraints`]). For
//! multipliers `lambda >= 0` (one per row, on rows scaled to coefficients in `[-1, 1]`), the
//! Lagrangian relaxation moves the rows into the objective, `v_i - lambda . a_i`, and keeps the
//! budget and the one-item-per-KOL rule: a plain MCKP whose LP relaxation (hull increments by
//! slope, as in the unconstrained solver) plus `lambda . b` bounds every plan that meets the
//! rows. Any `lambda >= 0` gives a valid bound; a subgradient method (Polyak steps) looks for a
//! small one. The bound is computed in `f64` and reported rounded up after adding a margin of
//! `1e-9` of the magnitudes summed, which covers the rounding.
//!
//! Greedy: from the LP solution of each multiplier vector tried (and from the plain greedy), a
//! *repair* takes single moves (one KOL to another item or to nothing) that most reduce the
//! total scaled violation of the rows and the budget, ties to the best Lagrangian profit, until
//! the plan meets every row; then two *fill* passes take the moves that keep it feasible and gain
//! most (Lagrangian profit first, then raw value). When no repaired plan meets the rows, a
//! *feasibility phase* runs the branch and bound below until it finds a plan or proves that none
//! exists; then a deletion filter names a minimal set of rows that conflict.
//!
//! Exact: depth-first branch and bound over the KOLs (by decreasing Lagrangian profit), each
//! node bounded by the Lagrangian with the best multipliers and the budget multiplier of its LP
//! (O(1) per node with suffix sums) and pruned when a row can no longer be met (suffix sums of
//! each row's most favourable coefficients). It proves the optimum or stops at the work limit
//! (nodes) with the root bound as proven gap.
//!
//! Max reach maximizes reach; a reach target becomes one more row (`reach >= target`) and the
//! value is minus the price, so the same machinery finds the cheapest plan meeting it.

// Rows are parallel arrays (multipliers, sums, right-hand sides, scales): index loops read best.
#![allow(clippy::needless_range_loop)]

use crate::constraints::Compiled;
use crate::error::{OptimizerError, Result};
use crate::plan::{Mode, Plan, SideFigures, assemble_side};
use crate::problem::{Objective, Problem};
use crate::solve::{ExactOptions, OnWorkLimit};

const NO: u32 = u32::MAX;
/// Subgradient iterations of the greedy.
const GREEDY_ITERATIONS: usize = 60;
/// Nodes the greedy's feasibility phase may spend.
const FEASIBILITY_NODES: u64 = 2_000_000;

/// One KOL the plan may book: options `start..end` (sorted by price).
#[derive(Debug, Clone, Copy)]
struct Class {
    candidate: u32,
    start: u32,
    end: u32,
}

/// What to maximize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    MaxReach,
    /// Minimize the price (value = -price) subject to free reach >= target (a row).
    MinCost,
}

/// The constrained problem over free KOLs.
#[derive(Debug, Clone)]
struct Instance {
    goal: Goal,
    /// Budget left after pins.
    cap: u64,
    classes: Vec<Class>,
    price: Vec<u64>,
    value: Vec<i64>,
    reach: Vec<u64>,
    offer: Vec<u32>,
    /// Row-major: option `o`, row `j` at `o * rows + j`.
    coef: Vec<i64>,
    rows: usize,
    /// Right-hand sides after the pins' contributions.
    rhs: Vec<i128>,
    scale: Vec<f64>,
    labels: Vec<String>,
}

/// A choice of one option (or nothing) per class, with its sums.
#[derive(Debug, Clone)]
struct State {
    pick: Vec<u32>,
    spent: u64,
    value: i128,
    sums: Vec<i128>,
}

/// The LP of the Lagrangian for one multiplier vector.
struct Lp {
    /// The dual value (free part): an upper bound on the value of every feasible plan.
    dual: f64,
    /// The budget multiplier (the break slope, 0 if everything fits).
    mu: f64,
    /// The integer part of the LP solution.
    pick: Vec<u32>,
    /// Subgradient `b - A x` on scaled rows.
    grad: Vec<f64>,
}

impl Instance {
    fn new(problem: &Problem, side: &Compiled, goal: Goal, target: u128) -> Self {
        let rows_given = side.rows.len();
        let rows = rows_given + usize::from(goal == Goal::MinCost);
        let mut rhs: Vec<i128> = side.rows.iter().map(|r| r.rhs).collect();
        let mut labels: Vec<String> = side.rows.iter().map(|r| r.label.clone()).collect();
        let cap = problem.budget - problem.pinned_price;
        let mut pinned_reach = 0u128;
        let mut inst = Self {
            goal,
            cap,
            classes: Vec::new(),
            price: Vec::new(),
            value: Vec::new(),
            reach: Vec::new(),
            offer: Vec::new(),
            coef: Vec::new(),
            rows,
            rhs: Vec::new(),
            scale: Vec::new(),
            labels: Vec::new(),
        };
        let mut order: Vec<usize> = Vec::new();
        for ci in 0..problem.candidates.len() {
            if problem.excluded[ci] {
                continue;
            }
            let first = problem.first[ci] as usize;
            if let Some(oi) = problem.pinned[ci] {
                let i = first + oi as usize;
                pinned_reach += u128::from(problem.items[i].1);
                for (j, row) in side.rows.iter().enumerate() {
                    rhs[j] -= i128::from(row.coef[i]);
                }
                continue;
            }
            order.clear();
            order.extend(
                (first..problem.first[ci + 1] as usize)
                    .filter(|&i| !side.capped[i] && problem.items[i].0 <= cap),
            );
            if order.is_empty() {
                continue;
            }
            order.sort_by_key(|&i| (problem.items[i].0, i));
            let start = inst.price.len() as u32;
            for &i in &order {
                let (p, r) = problem.items[i];
                inst.price.push(p);
                inst.reach.push(r);
                inst.value.push(match goal {
                    Goal::MaxReach => r as i64,
                    Goal::MinCost => -(p as i64),
                });
                inst.offer.push((i - first) as u32);
                inst.coef.extend(side.rows.iter().map(|row| row.coef[i]));
                if goal == Goal::MinCost {
                    inst.coef.push(-(r as i64));
                }
            }
            inst.classes.push(Class {
                candidate: ci as u32,
                start,
                end: inst.price.len() as u32,
            });
        }
        if goal == Goal::MinCost {
            let free = target.saturating_sub(pinned_reach);
            rhs.push(-i128::try_from(free).unwrap_or(i128::MAX));
            labels.push(format!(
                "min_reach (at least {} effective reach)",
                crate::units::EffectiveReach::from_micros(target)
            ));
        }
        inst.rhs = rhs;
        inst.labels = labels;
        inst.scale = (0..rows)
            .map(|j| {
                let m = (0..inst.price.len())
                    .map(|o| inst.coef[o * rows + j].unsigned_abs())
                    .max()
                    .unwrap_or(1)
                    .max(1);
                m as f64
            })
            .collect();
        inst
    }

    /// The same instance with only rows `keep` and, when `unbounded`, no budget.
    fn restricted(&self, keep: &[usize], unbounded: bool) -> Self {
        let rows = keep.len();
        let mut coef = Vec::with_capacity(self.price.len() * rows);
        for o in 0..self.price.len() {
            coef.extend(keep.iter().map(|&j| self.coef[o * self.rows + j]));
        }
        Self {
            goal: self.goal,
            cap: if unbounded {
                self.price.iter().sum::<u64>().max(self.cap)
            } else {
                self.cap
            },
            classes: self.classes.clone(),
            price: self.price.clone(),
            value: self.value.clone(),
            reach: self.reach.clone(),
            offer: self.offer.clone(),
            coef,
            rows,
            rhs: keep.iter().map(|&j| self.rhs[j]).collect(),
            scale: keep.iter().map(|&j| self.scale[j]).collect(),
            labels: keep.iter().map(|&j| self.labels[j].clone()).collect(),
        }
    }

    fn a(&self, o: u32, j: usize) -> i64 {
        if o == NO {
            0
        } else {
            self.coef[o as usize * self.rows + j]
        }
    }

    fn empty(&self) -> State {
        State {
            pick: vec![NO; self.classes.len()],
            spent: 0,
            value: 0,
            sums: vec![0; self.rows],
        }
    }

    fn state_of(&self, pick: Vec<u32>) -> State {
        let mut s = self.empty();
        for (c, &o) in pick.iter().enumerate() {
            self.switch(&mut s, c, o);
        }
        s
    }

    fn switch(&self, s: &mut State, c: usize, o: u32) {
        let old = s.pick[c];
        if old == o {
            return;
        }
        if old != NO {
            let k = old as usize;
            s.spent -= self.price[k];
            s.value -= i128::from(self.value[k]);
            for j in 0..self.rows {
                s.sums[j] -= i128::from(self.coef[k * self.rows + j]);
            }
        }
        if o != NO {
            let k = o as usize;
            s.spent += self.price[k];
            s.value += i128::from(self.value[k]);
            for j in 0..self.rows {
                s.sums[j] += i128::from(self.coef[k * self.rows + j]);
            }
        }
        s.pick[c] = o;
    }

    fn feasible(&self, s: &State) -> bool {
        s.spent <= self.cap && s.sums.iter().zip(&self.rhs).all(|(x, b)| x <= b)
    }

    /// The least value any plan can have (every plan's value is at least this).
    fn floor(&self) -> f64 {
        match self.goal {
            Goal::MaxReach => 0.0,
            Goal::MinCost => -(self.cap as f64),
        }
    }

    /// Lagrangian profit of every option for multipliers `lambda` (on scaled rows).
    fn profits(&self, lambda: &[f64], q: &mut Vec<f64>) {
        q.clear();
        for o in 0..self.price.len() {
            let mut v = self.value[o] as f64;
            for j in 0..self.rows {
                if lambda[j] != 0.0 {
                    v -= lambda[j] * self.coef[o * self.rows + j] as f64 / self.scale[j];
                }
            }
            q.push(v);
        }
    }

    /// The LP of the Lagrangian relaxation for `lambda`.
    fn lp(&self, lambda: &[f64], q: &mut Vec<f64>, incs: &mut Vec<(f64, u32, u32, u32)>) -> Lp {
        self.profits(lambda, q);
        incs.clear();
        let mut pick = vec![NO; self.classes.len()];
        let mut base = 0.0;
        let mut hull: Vec<(u64, f64, u32)> = Vec::new();
        for (c, class) in self.classes.iter().enumerate() {
            // Start: nothing, or the best free option.
            let mut start = (0u64, 0.0f64, NO);
            for o in class.start..class.end {
                if self.price[o as usize] == 0 && q[o as usize] > start.1 {
                    start = (0, q[o as usize], o);
                }
            }
            base += start.1;
            pick[c] = start.2;
            hull.clear();
            hull.push(start);
            for o in class.start..class.end {
                let (p, v) = (self.price[o as usize], q[o as usize]);
                if p == 0 || v <= hull[hull.len() - 1].1 {
                    continue;
                }
                while hull.len() >= 2 {
                    let a = hull[hull.len() - 2];
                    let b = hull[hull.len() - 1];
                    // Keep b only if strictly above the chord from a to the new point.
                    let left = (b.1 - a.1) * (p - b.0) as f64;
                    let right = (v - b.1) * (b.0 - a.0) as f64;
                    if left > right {
                        break;
                    }
                    hull.pop();
                }
                hull.push((p, v, o));
            }
            for w in hull.windows(2) {
                let dp = (w[1].0 - w[0].0) as f64;
                incs.push(((w[1].1 - w[0].1) / dp, c as u32, w[0].2, w[1].2));
            }
        }
        incs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut left = self.cap;
        let mut dual = base;
        let mut mu = 0.0;
        let mut frac: Option<(usize, u32, u32, f64)> = None;
        for &(slope, c, from, to) in incs.iter() {
            let dp = self.price[to as usize]
                - if from == NO {
                    0
                } else {
                    self.price[from as usize]
                };
            if dp > left {
                let f = left as f64 / dp as f64;
                dual += slope * left as f64;
                mu = slope;
                frac = Some((c as usize, from, to, f));
                break;
            }
            left -= dp;
            dual += slope * dp as f64;
            pick[c as usize] = to;
        }
        let mut grad: Vec<f64> = (0..self.rows)
            .map(|j| self.rhs[j] as f64 / self.scale[j])
            .collect();
        for (c, &o) in pick.iter().enumerate() {
            let _ = c;
            if o != NO {
                for j in 0..self.rows {
                    grad[j] -= self.a(o, j) as f64 / self.scale[j];
                }
            }
        }
        if let Some((_, from, to, f)) = frac {
            for j in 0..self.rows {
                grad[j] -= f * (self.a(to, j) - self.a(from, j)) as f64 / self.scale[j];
            }
        }
        for j in 0..self.rows {
            dual += lambda[j] * self.rhs[j] as f64 / self.scale[j];
        }
        Lp {
            dual,
            mu,
            pick,
            grad,
        }
    }

    /// Scaled total violation of the rows and the budget.
    fn violation(&self, spent: u64, sums: &[i128]) -> f64 {
        let mut v = 0.0;
        if spent > self.cap {
            v += (spent - self.cap) as f64 / self.pscale();
        }
        for j in 0..self.rows {
            if sums[j] > self.rhs[j] {
                v += (sums[j] - self.rhs[j]) as f64 / self.scale[j];
            }
        }
        v
    }

    fn pscale(&self) -> f64 {
        self.price.iter().copied().max().unwrap_or(1).max(1) as f64
    }

    /// Moves single KOLs until every row and the budget hold; false if stuck.
    fn repair(&self, s: &mut State, q: &[f64], mu: f64) -> bool {
        let mut sums = vec![0i128; self.rows];
        let steps = 4 * self.classes.len() + 100;
        for _ in 0..steps {
            let now = self.violation(s.spent, &s.sums);
            if now == 0.0 {
                return true;
            }
            let mut best: Option<(f64, f64, usize, u32)> = None;
            for (c, class) in self.classes.iter().enumerate() {
                let cur = s.pick[c];
                let (cp, cq) = if cur == NO {
                    (0, 0.0)
                } else {
                    (self.price[cur as usize], q[cur as usize])
                };
                for o in (class.start..class.end).chain(std::iter::once(NO)) {
                    if o == cur {
                        continue;
                    }
                    let (p, qo) = if o == NO {
                        (0, 0.0)
                    } else {
                        (self.price[o as usize], q[o as usize])
                    };
                    let spent = s.spent - cp + p;
                    for j in 0..self.rows {
                        sums[j] = s.sums[j] - i128::from(self.a(cur, j)) + i128::from(self.a(o, j));
                    }
                    let gain = now - self.violation(spent, &sums);
                    if gain <= 1e-12 {
                        continue;
                    }
                    let tie = (qo - cq) - mu * (p as f64 - cp as f64);
                    let better = match best {
                        None => true,
                        Some((g, t, _, _)) => gain > g + 1e-12 || (gain >= g - 1e-12 && tie > t),
                    };
                    if better {
                        best = Some((gain, tie, c, o));
                    }
                }
            }
            match best {
                Some((_, _, c, o)) => self.switch(s, c, o),
                None => return false,
            }
        }
        self.violation(s.spent, &s.sums) == 0.0
    }

    /// Would moving class `c` to `o` keep the plan feasible?
    fn keeps(&self, s: &State, c: usize, o: u32) -> bool {
        let cur = s.pick[c];
        let cp = if cur == NO {
            0
        } else {
            self.price[cur as usize]
        };
        let p = if o == NO { 0 } else { self.price[o as usize] };
        if s.spent - cp + p > self.cap {
            return false;
        }
        (0..self.rows).all(|j| {
            s.sums[j] - i128::from(self.a(cur, j)) + i128::from(self.a(o, j)) <= self.rhs[j]
        })
    }

    /// Two passes of improving moves that keep a feasible plan feasible: the best Lagrangian
    /// gain per class (by decreasing class profit), then the best raw value gain.
    fn fill(&self, s: &mut State, q: &[f64], mu: f64, order: &[usize]) {
        for pass in 0..2 {
            for &c in order {
                let class = self.classes[c];
                let cur = s.pick[c];
                let (cv, cq, cp) = if cur == NO {
                    (0, 0.0, 0)
                } else {
                    let k = cur as usize;
                    (self.value[k], q[k], self.price[k])
                };
                let mut best: Option<(f64, u32)> = None;
                for o in (class.start..class.end).chain(std::iter::once(NO)) {
                    if o == cur {
                        continue;
                    }
                    let (v, qo, p) = if o == NO {
                        (0, 0.0, 0)
                    } else {
                        let k = o as usize;
                        (self.value[k], q[k], self.price[k])
                    };
                    if v <= cv {
                        continue;
                    }
                    let score = if pass == 0 {
                        (qo - cq) - mu * (p as f64 - cp as f64)
                    } else {
                        (v - cv) as f64
                    };
                    if score <= 0.0 || best.is_some_and(|(b, _)| score <= b) {
                        continue;
                    }
                    if self.keeps(s, c, o) {
                        best = Some((score, o));
                    }
                }
                if let Some((_, o)) = best {
                    self.switch(s, c, o);
                }
            }
        }
    }

    /// Classes by decreasing Lagrangian reduced profit.
    fn class_order(&self, q: &[f64], mu: f64) -> Vec<usize> {
        let u = self.reduced(q, mu);
        let mut order: Vec<usize> = (0..self.classes.len()).collect();
        order.sort_by(|&a, &b| u[b].total_cmp(&u[a]).then(a.cmp(&b)));
        order
    }

    /// Per class: the best `q - mu p` over its options and nothing.
    fn reduced(&self, q: &[f64], mu: f64) -> Vec<f64> {
        self.classes
            .iter()
            .map(|class| {
                (class.start..class.end)
                    .map(|o| q[o as usize] - mu * self.price[o as usize] as f64)
                    .fold(0.0f64, f64::max)
            })
            .collect()
    }

    /// A repaired and filled plan from `pick`, if it can be made feasible.
    fn heuristic(&self, pick: Vec<u32>, q: &[f64], mu: f64) -> Option<State> {
        let mut s = self.state_of(pick);
        if !self.repair(&mut s, q, mu) {
            return None;
        }
        let order = self.class_order(q, mu);
        self.fill(&mut s, q, mu, &order);
        Some(s)
    }

    /// A margin covering the floating-point error of a dual value with these multipliers.
    fn margin(&self, lambda: &[f64], mu: f64) -> f64 {
        let mut m = mu * self.cap as f64;
        for j in 0..self.rows {
            m += lambda[j] * (self.rhs[j] as f64 / self.scale[j]).abs();
        }
        for class in &self.classes {
            let worst = (class.start..class.end)
                .map(|o| {
                    let o = o as usize;
                    let mut w = (self.value[o] as f64).abs() + mu * self.price[o] as f64;
                    for j in 0..self.rows {
                        w +=
                            lambda[j] * (self.coef[o * self.rows + j] as f64 / self.scale[j]).abs();
                    }
                    w
                })
                .fold(0.0, f64::max);
            m += worst;
        }
        1e-9 * m + 1.0
    }
}

/// The outcome of the Lagrangian phase.
struct Dual {
    /// Best (smallest) proven upper bound on the free value, margin included.
    bound: f64,
    lambda: Vec<f64>,
    mu: f64,
    incumbent: Option<State>,
}

fn better(goal: Goal, a: &State, b: &State) -> bool {
    match goal {
        Goal::MaxReach => a.value > b.value || (a.value == b.value && a.spent < b.spent),
        Goal::MinCost => {
            let (ra, rb) = (reach_of(a), reach_of(b));
            a.value > b.value || (a.value == b.value && ra > rb)
        }
    }
}

/// Min cost: the reach row is the last, `-reach`.
fn reach_of(s: &State) -> i128 {
    s.sums.last().map_or(0, |r| -r)
}

fn offer(inst: &Instance, s: Option<State>, best: &mut Option<State>) {
    if let Some(s) = s {
        if inst.feasible(&s) && best.as_ref().is_none_or(|b| better(inst.goal, &s, b)) {
            *best = Some(s);
        }
    }
}

/// Subgradient optimization of the multipliers, with the repair heuristic along the way.
fn dual(inst: &Instance, iterations: usize, start: Option<State>) -> Dual {
    let mut q = Vec::new();
    let mut incs = Vec::new();
    let mut lambda = vec![0.0; inst.rows];
    let mut out = Dual {
        bound: f64::INFINITY,
        lambda: lambda.clone(),
        mu: 0.0,
        incumbent: None,
    };
    offer(inst, start, &mut out.incumbent);
    let mut theta = 1.0;
    let mut stall = 0;
    for it in 0..iterations.max(1) {
        let lp = inst.lp(&lambda, &mut q, &mut incs);
        let bound = lp.dual + inst.margin(&lambda, lp.mu);
        if bound < out.bound {
            out.bound = bound;
            out.lambda.clone_from(&lambda);
            out.mu = lp.mu;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 8 {
                theta /= 2.0;
                stall = 0;
            }
        }
        if it == 0 || it % 16 == 15 {
            let h = inst.heuristic(lp.pick.clone(), &q, lp.mu);
            offer(inst, h, &mut out.incumbent);
        }
        if out.bound < inst.floor() {
            break; // Proven infeasible.
        }
        let lower = out.incumbent.as_ref().map(|s| s.value as f64);
        if lower.is_some_and(|l| out.bound - l < 1.0) {
            break; // Proven optimal.
        }
        // Subgradient of the dual (to minimize): lambda <- max(0, lambda - t g).
        let mut norm = 0.0;
        for j in 0..inst.rows {
            let g = lp.grad[j];
            if lambda[j] > 0.0 || g < 0.0 {
                norm += g * g;
            }
        }
        if norm < 1e-18 {
            break; // The LP solution meets every row: no better multipliers in this direction.
        }
        let aim = match lower {
            Some(l) => l,
            None => lp.dual - 0.05 * lp.dual.abs() - 1.0,
        };
        let t = theta * (lp.dual - aim).max(1e-9 * lp.dual.abs() + 1.0) / norm;
        for j in 0..inst.rows {
            lambda[j] = (lambda[j] - t * lp.grad[j]).max(0.0);
        }
        if theta < 1e-4 {
            break;
        }
    }
    // A last repair from the best multipliers.
    let lp = inst.lp(&out.lambda, &mut q, &mut incs);
    let h = inst.heuristic(lp.pick, &q, lp.mu);
    offer(inst, h, &mut out.incumbent);
    out
}

/// The branch and bound's result.
struct Search {
    best: Option<State>,
    finished: bool,
}

/// Depth-first branch and bound with the Lagrangian bound of `lambda`, `mu`.
fn branch_and_bound(inst: &Instance, d: &Dual, incumbent: Option<State>, limit: u64) -> Search {
    let mut q = Vec::new();
    inst.profits(&d.lambda, &mut q);
    let mu = d.mu;
    let n = inst.classes.len();
    let rows = inst.rows;
    let u = inst.reduced(&q, mu);
    let order = inst.class_order(&q, mu);
    // Constant part of the bound: mu * cap + lambda . b (scaled).
    let mut constant = mu * inst.cap as f64;
    for j in 0..rows {
        constant += d.lambda[j] * inst.rhs[j] as f64 / inst.scale[j];
    }
    let margin = inst.margin(&d.lambda, mu);
    // Suffix sums over the order: best profit, and each row's most favourable coefficient.
    let mut suf_u = vec![0.0; n + 1];
    let mut suf_min = vec![0i128; (n + 1) * rows];
    for k in (0..n).rev() {
        let c = order[k];
        suf_u[k] = suf_u[k + 1] + u[c];
        let class = inst.classes[c];
        for j in 0..rows {
            let m = (class.start..class.end)
                .map(|o| inst.a(o, j))
                .fold(0i64, i64::min);
            suf_min[k * rows + j] = suf_min[(k + 1) * rows + j] + i128::from(m);
        }
    }
    // Options per depth, by decreasing reduced profit (nothing included).
    let options: Vec<Vec<(f64, u32)>> = order
        .iter()
        .map(|&c| {
            let class = inst.classes[c];
            let mut v: Vec<(f64, u32)> = (class.start..class.end)
                .map(|o| (q[o as usize] - mu * inst.price[o as usize] as f64, o))
                .chain(std::iter::once((0.0, NO)))
                .collect();
            v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            v
        })
        .collect();

    let mut best = incumbent;
    let mut s = inst.empty();
    let mut cursor = vec![0usize; n + 1];
    // Sum of reduced profits of the decided classes.
    let mut acc = vec![0.0f64; n + 1];
    let mut depth = 0usize;
    let mut work = 0u64;
    let prunes = |s: &State, depth: usize| -> bool {
        if s.spent > inst.cap {
            return true;
        }
        (0..rows).any(|j| s.sums[j] + suf_min[depth * rows + j] > inst.rhs[j])
    };
    if prunes(&s, 0) {
        return Search {
            best,
            finished: true,
        };
    }
    loop {
        if depth == n {
            if inst.feasible(&s) && best.as_ref().is_none_or(|b| better(inst.goal, &s, b)) {
                best = Some(s.clone());
            }
            // Back up.
            if depth == 0 {
                return Search {
                    best,
                    finished: true,
                };
            }
            depth -= 1;
            continue;
        }
        let opts = &options[depth];
        let k = cursor[depth];
        if k >= opts.len() {
            // Exhausted: undo this depth's pick and back up.
            inst.switch(&mut s, order[depth], NO);
            cursor[depth] = 0;
            if depth == 0 {
                return Search {
                    best,
                    finished: true,
                };
            }
            depth -= 1;
            continue;
        }
        let (r, o) = opts[k];
        let threshold = best.as_ref().map(|b| b.value as f64);
        let bound = acc[depth] + r + suf_u[depth + 1] + constant + margin;
        if threshold.is_some_and(|t| bound < t + 1.0) {
            // Options are sorted: none of the rest can do better.
            cursor[depth] = opts.len();
            continue;
        }
        cursor[depth] = k + 1;
        work += 1;
        if work > limit {
            return Search {
                best,
                finished: false,
            };
        }
        inst.switch(&mut s, order[depth], o);
        if prunes(&s, depth + 1) {
            continue;
        }
        acc[depth + 1] = acc[depth] + r;
        depth += 1;
        cursor[depth] = 0;
    }
}

/// Feasibility of an instance: `Some(true)` with a plan, `Some(false)` proven impossible, `None`
/// undecided within `limit` nodes.
fn decide(inst: &Instance, limit: u64) -> Option<bool> {
    let d = dual(inst, 20, None);
    if d.incumbent.is_some() {
        return Some(true);
    }
    if d.bound < inst.floor() {
        return Some(false);
    }
    let s = branch_and_bound(inst, &d, None, limit);
    match (s.best.is_some(), s.finished) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

/// A minimal set of rows (and the budget) that cannot be met together: a deletion filter.
fn conflict(inst: &Instance, limit: u64) -> Vec<String> {
    let mut keep: Vec<usize> = (0..inst.rows).collect();
    let mut i = 0;
    while i < keep.len() {
        let mut without = keep.clone();
        without.remove(i);
        if decide(&inst.restricted(&without, false), limit) == Some(false) {
            keep = without;
        } else {
            i += 1;
        }
    }
    let mut names: Vec<String> = keep.iter().map(|&j| inst.labels[j].clone()).collect();
    if decide(&inst.restricted(&keep, true), limit) != Some(false) {
        names.push(format!("budget (the {} THB left after pins)", inst.cap));
    }
    if names.is_empty() {
        names.push("pins and exclusions".to_owned());
    }
    names
}

/// Outcome of a constrained solve, before assembly.
struct Solved {
    state: State,
    bound: f64,
    mode: Mode,
}

fn solve_inst(inst: &Instance, exact: Option<u64>) -> Result<Solved> {
    let d = dual(inst, GREEDY_ITERATIONS, None);
    let infeasible = |limit| OptimizerError::InfeasibleConstraints {
        conflict: conflict(inst, limit),
    };
    if d.bound < inst.floor() {
        return Err(infeasible(FEASIBILITY_NODES));
    }
    match exact {
        None => {
            let incumbent = match d.incumbent.clone() {
                Some(s) => s,
                None => {
                    // Feasibility phase.
                    let s = branch_and_bound(inst, &d, None, FEASIBILITY_NODES);
                    match (s.best, s.finished) {
                        (Some(b), _) => b,
                        (None, true) => return Err(infeasible(FEASIBILITY_NODES)),
                        (None, false) => {
                            return Err(OptimizerError::ConstraintsUndecided {
                                limit: FEASIBILITY_NODES,
                            });
                        }
                    }
                }
            };
            Ok(Solved {
                bound: d.bound,
                state: incumbent,
                mode: Mode::Greedy,
            })
        }
        Some(limit) => {
            let s = branch_and_bound(inst, &d, d.incumbent.clone(), limit);
            match (s.best, s.finished) {
                (Some(b), true) => Ok(Solved {
                    bound: b.value as f64,
                    state: b,
                    mode: Mode::Exact,
                }),
                (Some(b), false) => Ok(Solved {
                    bound: d.bound,
                    state: b,
                    mode: Mode::ExactBestSoFar,
                }),
                (None, true) => Err(infeasible(limit)),
                (None, false) => Err(OptimizerError::ConstraintsUndecided { limit }),
            }
        }
    }
}

/// Solves `problem` with its side constraints, greedy (`exact` = `None`) or exact.
pub(crate) fn solve(
    problem: &Problem,
    side: &Compiled,
    exact: Option<&ExactOptions>,
) -> Result<Plan> {
    let limit = exact.map(|o| o.work_limit);
    let plan = match problem.objective {
        Objective::MaxReach => {
            let inst = Instance::new(problem, side, Goal::MaxReach, 0);
            let s = solve_inst(&inst, limit)?;
            assemble_plan(problem, &inst, &s, None)
        }
        Objective::MinCost { min_reach } => {
            let target = min_reach.micros();
            let inst = Instance::new(problem, side, Goal::MinCost, target);
            match solve_inst(&inst, limit) {
                Ok(s) => assemble_plan(problem, &inst, &s, Some(target)),
                Err(OptimizerError::InfeasibleConstraints { conflict })
                    if conflict.iter().any(|c| c.starts_with("min_reach")) =>
                {
                    // The target cannot be met: the best reach, with the shortfall.
                    let inst = Instance::new(problem, side, Goal::MaxReach, 0);
                    let s = solve_inst(&inst, limit)?;
                    assemble_plan(problem, &inst, &s, Some(target))
                }
                Err(e) => return Err(e),
            }
        }
    };
    if let Some(options) = exact {
        if plan.mode == Mode::ExactBestSoFar && options.on_work_limit == OnWorkLimit::Error {
            return Err(OptimizerError::WorkLimit {
                limit: options.work_limit,
                best: Box::new(plan),
            });
        }
    }
    Ok(plan)
}

fn assemble_plan(problem: &Problem, inst: &Instance, s: &Solved, target: Option<u128>) -> Plan {
    let picks: Vec<(usize, usize)> = s
        .state
        .pick
        .iter()
        .enumerate()
        .filter(|&(_, &o)| o != NO)
        .map(|(c, &o)| {
            (
                inst.classes[c].candidate as usize,
                inst.offer[o as usize] as usize,
            )
        })
        .collect();
    // Bound on the free value, rounded down to a whole micro-person (or THB).
    let bound = s.bound.floor();
    let figures = match inst.goal {
        Goal::MaxReach => SideFigures {
            mode: s.mode,
            reach_bound: if bound >= 0.0 {
                Some(bound as u128)
            } else {
                Some(0)
            },
            target,
            cost_bound: None,
        },
        Goal::MinCost => SideFigures {
            mode: s.mode,
            reach_bound: None,
            target,
            // value = -price <= bound, so price >= -bound.
            cost_bound: Some(if bound >= 0.0 { 0 } else { (-bound) as u64 }),
        },
    };
    assemble_side(problem, &picks, figures)
}

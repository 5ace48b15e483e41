//! The solver with side constraints: a Lagrangian bound, a greedy that repairs, and a dynamic
//! programme that proves.
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
//! Greedy: from the LP solution of each multiplier vector tried (and that solution with its
//! break increment taken whole), a *repair* first gives back, when only the budget is broken,
//! the options of least Lagrangian profit per THB, then takes single moves (one KOL to another
//! item or to nothing) that remove the most violation of the rows and the budget per unit of
//! reduced profit given up, until the plan meets every row; then *fills* spend what is left:
//! every move to a richer option by decreasing gain per extra THB (Lagrangian profit, then raw
//! value), then the best move per KOL. When no repaired plan meets the rows, a *feasibility
//! phase* finds one (a depth-first dive, then the dynamic programme below) or proves that none
//! exists; then a deletion filter names a minimal set of rows that conflict.
//!
//! Before solving, a presolve drops every option that alone breaks a row whose coefficients
//! are all `>= 0` (repeated until nothing changes): "at most 0 creators on TikTok" removes the
//! TikTok items, after which "at least 13 % of the spend on TikTok" is decided at once.
//!
//! Exact: a dynamic programme over the KOLs (dearest first), on partial plans (spend, row
//! sums, value). A child is dropped when it breaks the budget, when a row can no longer be met,
//! when its bound (Lagrangian profit so far plus the LP of the KOLs still to decide within the
//! budget it leaves, from Fenwick trees over their hull increments) cannot beat the incumbent,
//! or when another child dominates it (no more spend, no larger row sums, at least its value).
//! It runs with *aspirations*: first aiming just below the root bound (few partial plans
//! survive; the optimum, usually close to the bound, is found and proven at once), then lower,
//! down to the incumbent. A pass that fails proves the optimum below its aspiration, the bound
//! reported if the work limit (children made) stops the search.
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
/// Most single moves one repair takes (each looks at every option of every KOL).
const REPAIR_MOVES: usize = 200;
/// Subgradient iterations before a branch and bound (a tighter bound prunes more).
const EXACT_ITERATIONS: usize = 300;
/// Nodes the greedy's feasibility phase may spend.
const FEASIBILITY_NODES: u64 = 2_000_000;

/// What [`Instance::build`] lifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loosen {
    Nothing,
    /// No budget: every item may be bought.
    Budget,
    /// No per-creator cap: items above it may be bought.
    CreatorCap,
}

/// Where an instance comes from, to build it again loosened (conflicts).
#[derive(Clone, Copy)]
struct Source<'a> {
    problem: &'a Problem,
    side: &'a Compiled,
    goal: Goal,
    target: u128,
}

impl Source<'_> {
    fn instance(&self, loosen: Loosen) -> Instance {
        Instance::build(self.problem, self.side, self.goal, self.target, loosen)
    }
}

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
    /// The break: the class whose increment fits only in part, and the option it leads to.
    brk: Option<(usize, u32)>,
}

impl Instance {
    fn new(problem: &Problem, side: &Compiled, goal: Goal, target: u128) -> Self {
        Self::build(problem, side, goal, target, Loosen::Nothing)
    }

    /// [`Instance::new`], with the budget or the per-creator cap lifted when `loosen` says so
    /// (to tell whether they take part in a conflict).
    fn build(problem: &Problem, side: &Compiled, goal: Goal, target: u128, loosen: Loosen) -> Self {
        let rows_given = side.rows.len();
        let rows = rows_given + usize::from(goal == Goal::MinCost);
        let mut rhs: Vec<i128> = side.rows.iter().map(|r| r.rhs).collect();
        let mut labels: Vec<String> = side.rows.iter().map(|r| r.label.clone()).collect();
        let cap = match loosen {
            Loosen::Budget => problem
                .items
                .iter()
                .fold(0u64, |sum, item| sum.saturating_add(item.0)),
            _ => problem.budget - problem.pinned_price,
        };
        let capped = |i: usize| loosen != Loosen::CreatorCap && side.capped[i];
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
        // The pins' contributions first.
        for ci in 0..problem.candidates.len() {
            if let (false, Some(oi)) = (problem.excluded[ci], problem.pinned[ci]) {
                let i = problem.first[ci] as usize + oi as usize;
                pinned_reach += u128::from(problem.items[i].1);
                for (j, row) in side.rows.iter().enumerate() {
                    rhs[j] -= i128::from(row.coef[i]);
                }
            }
        }
        let free = |ci: usize| !problem.excluded[ci] && problem.pinned[ci].is_none();
        let mut order: Vec<usize> = Vec::new();
        for ci in (0..problem.candidates.len()).filter(|&ci| free(ci)) {
            let first = problem.first[ci] as usize;
            order.clear();
            order.extend(
                (first..problem.first[ci + 1] as usize)
                    .filter(|&i| !capped(i) && problem.items[i].0 <= cap),
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

    /// The same instance without the options no feasible plan can take: until nothing
    /// changes, every option that alone breaks a row whose every remaining coefficient is
    /// `>= 0` (nothing could make up for it: "at most 0 creators on TikTok" removes every
    /// TikTok item; then a minimum TikTok share has only coefficients `>= 0` left, and the
    /// root's row check decides it). KOLs left with no option are dropped.
    fn presolved(&self) -> Self {
        let rows = self.rows;
        let mut allowed = vec![true; self.price.len()];
        loop {
            let mut changed = false;
            for j in 0..rows {
                let monotone =
                    (0..allowed.len()).all(|o| !allowed[o] || self.coef[o * rows + j] >= 0);
                if !monotone {
                    continue;
                }
                for o in 0..allowed.len() {
                    if allowed[o] && i128::from(self.coef[o * rows + j]) > self.rhs[j] {
                        allowed[o] = false;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if allowed.iter().all(|&a| a) {
            return self.clone();
        }
        let mut out = Self {
            classes: Vec::new(),
            price: Vec::new(),
            value: Vec::new(),
            reach: Vec::new(),
            offer: Vec::new(),
            coef: Vec::new(),
            ..self.clone()
        };
        for class in &self.classes {
            let start = out.price.len() as u32;
            for o in (class.start..class.end).filter(|&o| allowed[o as usize]) {
                let o = o as usize;
                out.price.push(self.price[o]);
                out.value.push(self.value[o]);
                out.reach.push(self.reach[o]);
                out.offer.push(self.offer[o]);
                out.coef
                    .extend_from_slice(&self.coef[o * rows..(o + 1) * rows]);
            }
            if out.price.len() as u32 > start {
                out.classes.push(Class {
                    candidate: class.candidate,
                    start,
                    end: out.price.len() as u32,
                });
            }
        }
        out
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
        for (c, &class) in self.classes.iter().enumerate() {
            self.hull(class, q, &mut hull);
            base += hull[0].1;
            pick[c] = hull[0].2;
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
            brk: frac.map(|(c, _, to, _)| (c, to)),
        }
    }

    /// The best free option of `class` for profits `q` (value 0 and [`NO`] when none beats
    /// taking nothing): where its Lagrangian hull starts.
    fn start(&self, class: Class, q: &[f64]) -> (f64, u32) {
        let mut start = (0.0f64, NO);
        for o in class.start..class.end {
            if self.price[o as usize] == 0 && q[o as usize] > start.0 {
                start = (q[o as usize], o);
            }
        }
        start
    }

    /// The upper convex hull of `class`'s options for profits `q`, as (price, profit, option)
    /// from its start (see [`Instance::start`]): the points whose increments the Lagrangian's
    /// LP takes by slope.
    fn hull(&self, class: Class, q: &[f64], hull: &mut Vec<(u64, f64, u32)>) {
        let (v0, o0) = self.start(class, q);
        hull.clear();
        hull.push((0, v0, o0));
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
    }

    /// Suffix sums over the classes in `order`: per row, the most favourable (smallest)
    /// coefficient each class could add (row-major, `rows` per depth, `n + 1` depths), and the
    /// starts of their hulls for profits `q`.
    fn suffix_sums(&self, order: &[usize], q: &[f64]) -> (Vec<i128>, Vec<f64>) {
        let (n, rows) = (order.len(), self.rows);
        let mut suf_min = vec![0i128; (n + 1) * rows];
        let mut suf_start = vec![0.0; n + 1];
        for k in (0..n).rev() {
            let class = self.classes[order[k]];
            for j in 0..rows {
                let m = (class.start..class.end)
                    .map(|o| self.a(o, j))
                    .fold(0i64, i64::min);
                suf_min[k * rows + j] = suf_min[(k + 1) * rows + j] + i128::from(m);
            }
            suf_start[k] = suf_start[k + 1] + self.start(class, q).0;
        }
        (suf_min, suf_start)
    }

    /// Per row: whether every coefficient is `<= 0` (minimum counts, coverage), so a sum that
    /// meets the row keeps meeting it and "met" can be one state.
    fn only_going_down(&self) -> Vec<bool> {
        (0..self.rows)
            .map(|j| (0..self.price.len()).all(|o| self.coef[o * self.rows + j] <= 0))
            .collect()
    }

    /// Scaled total violation of the rows, and of the budget when `budget`.
    fn violation_of(&self, spent: u64, sums: &[i128], budget: bool) -> f64 {
        let mut v = 0.0;
        if budget && spent > self.cap {
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

    /// Makes the plan meet every row and the budget; false if stuck. The rows first (moves
    /// over every option, usually few), then the budget by [`Instance::give_back`] (one sort),
    /// then moves again for whatever is left.
    fn repair(&self, s: &mut State, q: &[f64], mu: f64) -> bool {
        if s.sums.iter().zip(&self.rhs).any(|(x, b)| x > b) {
            self.repair_moves(s, q, mu, false);
        }
        self.give_back(s, q);
        self.repair_moves(s, q, mu, true)
    }

    /// Single moves (one KOL to another option or to nothing), each the one that gives up the
    /// least reduced profit per unit of violation removed (of the rows, and of the budget when
    /// `budget`), until none is left; at most [`REPAIR_MOVES`] moves (each looks at every
    /// option). True when no violation is left.
    fn repair_moves(&self, s: &mut State, q: &[f64], mu: f64, budget: bool) -> bool {
        let mut sums = vec![0i128; self.rows];
        for _ in 0..REPAIR_MOVES {
            let now = self.violation_of(s.spent, &s.sums, budget);
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
                    let gain = now - self.violation_of(spent, &sums, budget);
                    if gain <= 1e-12 {
                        continue;
                    }
                    // The change of reduced profit; the move kept is the one that gives up the
                    // least of it per unit of violation removed (a free gain first).
                    let change = (qo - cq) - mu * (p as f64 - cp as f64);
                    let tie = if change >= 0.0 {
                        f64::INFINITY
                    } else {
                        gain / -change
                    };
                    let better = match best {
                        None => true,
                        Some((g, t, _, _)) => tie > t || (tie == t && gain > g),
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
        self.violation_of(s.spent, &s.sums, budget) == 0.0
    }

    /// When only the budget is broken: moves to cheaper options (or none) that keep every row,
    /// by increasing Lagrangian profit given up per THB saved, until the plan fits. One sort,
    /// where a move at a time over every option would cost a pass per move.
    fn give_back(&self, s: &mut State, q: &[f64]) {
        if s.spent <= self.cap || s.sums.iter().zip(&self.rhs).any(|(x, b)| x > b) {
            return;
        }
        let mut moves: Vec<(f64, u32, u32, u32)> = Vec::new();
        for (c, class) in self.classes.iter().enumerate() {
            let cur = s.pick[c];
            if cur == NO {
                continue;
            }
            let (cq, cp) = (q[cur as usize], self.price[cur as usize]);
            for o in (class.start..class.end).chain(std::iter::once(NO)) {
                let (qo, p) = if o == NO {
                    (0.0, 0)
                } else {
                    (q[o as usize], self.price[o as usize])
                };
                if p < cp {
                    moves.push(((cq - qo) / (cp - p) as f64, c as u32, cur, o));
                }
            }
        }
        moves.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for &(_, c, from, o) in &moves {
            if s.spent <= self.cap {
                break;
            }
            let c = c as usize;
            if s.pick[c] != from {
                continue;
            }
            let rows_hold = (0..self.rows).all(|j| {
                s.sums[j] - i128::from(self.a(from, j)) + i128::from(self.a(o, j)) <= self.rhs[j]
            });
            if rows_hold {
                self.switch(s, c, o);
            }
        }
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

    /// Spends what is left the way the MCKP greedy does: every move of one class to a richer
    /// option, by decreasing gain per extra THB (Lagrangian profit `q` in the first round, raw
    /// value in the second), taken when it keeps the plan feasible. Each round sorts the moves
    /// once and repeats while a move was taken (a class that moved offers new moves), at most
    /// three times.
    fn fill_by_efficiency(&self, s: &mut State, q: &[f64]) {
        let mut moves: Vec<(f64, u32, u32, u32)> = Vec::new();
        for round in 0..2 {
            let gain = |k: usize| {
                if round == 0 {
                    q[k]
                } else {
                    self.value[k] as f64
                }
            };
            for _ in 0..3 {
                moves.clear();
                for (c, class) in self.classes.iter().enumerate() {
                    let cur = s.pick[c];
                    let (cg, cp) = if cur == NO {
                        (0.0, 0)
                    } else {
                        (gain(cur as usize), self.price[cur as usize])
                    };
                    for o in class.start..class.end {
                        let (g, p) = (gain(o as usize), self.price[o as usize]);
                        if g <= cg
                            || self.value[o as usize]
                                < if cur == NO {
                                    0
                                } else {
                                    self.value[cur as usize]
                                }
                        {
                            continue;
                        }
                        let ratio = if p <= cp {
                            f64::INFINITY
                        } else {
                            (g - cg) / (p - cp) as f64
                        };
                        moves.push((ratio, c as u32, cur, o));
                    }
                }
                moves.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                let mut moved = false;
                for &(_, c, from, o) in &moves {
                    let c = c as usize;
                    if s.pick[c] == from && self.keeps(s, c, o) {
                        self.switch(s, c, o);
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
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
    /// The better of the repaired LP solution and the repaired LP solution with its break
    /// increment taken whole (the repair then gives back what the budget cannot hold).
    fn heuristics(&self, lp: &Lp, q: &[f64]) -> Option<State> {
        let mut best = None;
        offer(self, self.heuristic(lp.pick.clone(), q, lp.mu), &mut best);
        if let Some((c, to)) = lp.brk {
            let mut pick = lp.pick.clone();
            pick[c] = to;
            offer(self, self.heuristic(pick, q, lp.mu), &mut best);
        }
        best
    }

    fn heuristic(&self, pick: Vec<u32>, q: &[f64], mu: f64) -> Option<State> {
        let mut s = self.state_of(pick);
        if !self.repair(&mut s, q, mu) {
            return None;
        }
        let order = self.class_order(q, mu);
        self.fill_by_efficiency(&mut s, q);
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

/// Subgradient optimization of the multipliers, with the repair heuristic every `every`
/// iterations (and from the best multipliers at the end).
fn dual(inst: &Instance, iterations: usize, every: usize) -> Dual {
    let mut q = Vec::new();
    let mut incs = Vec::new();
    let mut lambda = vec![0.0; inst.rows];
    let mut out = Dual {
        bound: f64::INFINITY,
        lambda: lambda.clone(),
        mu: 0.0,
        incumbent: None,
    };
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
        if it % every == 0 {
            let h = inst.heuristics(&lp, &q);
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
    let h = inst.heuristics(&lp, &q);
    offer(inst, h, &mut out.incumbent);
    out
}

/// Fixed-point scale of the Lagrangian values in the suffix LP (`2^16` per micro-person or THB).
const FIX: f64 = 65_536.0;

/// The LP of the Lagrangian over the classes not yet decided, for any budget left: every
/// class's hull increments (for profits `q`) sorted once by slope, in two Fenwick trees (price
/// and value, the value in fixed point rounded up) from which a decided class's increments are
/// removed and put back as the search goes down and up. A query walks down the tree to the
/// longest prefix that fits and adds the next increment's fraction: `O(log m)` for `m`
/// increments. Integer sums, so no rounding drifts however often classes come and go.
struct SuffixLp {
    /// Per sorted position: price and fixed-point value of the increment, and its slope.
    dp: Vec<u64>,
    dv: Vec<i128>,
    slope: Vec<f64>,
    /// Fenwick trees (1-based) over the active positions.
    tree_p: Vec<u128>,
    tree_v: Vec<i128>,
    /// Per class: its increments' sorted positions.
    of_class: Vec<Vec<u32>>,
    /// Per sorted position: its class.
    class_of: Vec<u32>,
    /// Per class: whether its increments are active.
    on: Vec<bool>,
    /// Highest power of two not above the number of positions.
    top: usize,
}

impl SuffixLp {
    fn new(inst: &Instance, q: &[f64]) -> Self {
        let mut incs: Vec<(f64, u64, f64, u32)> = Vec::new();
        let mut hull = Vec::new();
        for (c, &class) in inst.classes.iter().enumerate() {
            inst.hull(class, q, &mut hull);
            for w in hull.windows(2) {
                let dp = w[1].0 - w[0].0;
                let dv = w[1].1 - w[0].1;
                incs.push((dv / dp as f64, dp, dv, c as u32));
            }
        }
        Self::from_increments(incs, inst.classes.len())
    }

    /// The suffix LP of increments `(slope, price, value, class)` of `classes` classes, every
    /// class active.
    fn from_increments(mut incs: Vec<(f64, u64, f64, u32)>, classes: usize) -> Self {
        incs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.3.cmp(&b.3)));
        let m = incs.len();
        let mut lp = Self {
            dp: Vec::with_capacity(m),
            dv: Vec::with_capacity(m),
            slope: Vec::with_capacity(m),
            tree_p: vec![0; m + 1],
            tree_v: vec![0; m + 1],
            of_class: vec![Vec::new(); classes],
            class_of: Vec::with_capacity(m),
            on: vec![true; classes],
            top: if m == 0 { 0 } else { 1 << m.ilog2() },
        };
        for (k, &(slope, dp, dv, c)) in incs.iter().enumerate() {
            lp.dp.push(dp);
            // Rounded up: the sums bound the real values from above.
            lp.dv.push((dv * FIX).ceil() as i128 + 1);
            lp.slope.push(slope);
            lp.class_of.push(c);
            lp.of_class[c as usize].push(k as u32);
        }
        // Linear-time Fenwick construction with every increment active.
        for k in 0..m {
            let i = k + 1;
            lp.tree_p[i] += u128::from(lp.dp[k]);
            lp.tree_v[i] += lp.dv[k];
            let parent = i + (i & i.wrapping_neg());
            if parent <= m {
                let (tp, tv) = (lp.tree_p[i], lp.tree_v[i]);
                lp.tree_p[parent] += tp;
                lp.tree_v[parent] += tv;
            }
        }
        lp
    }

    /// Puts back every class removed.
    fn reset(&mut self) {
        for c in 0..self.on.len() {
            self.set(c, true);
        }
    }

    /// Removes (`on == false`) or puts back the increments of class `c`.
    fn set(&mut self, c: usize, on: bool) {
        if self.on[c] == on {
            return;
        }
        self.on[c] = on;
        let m = self.dp.len();
        for &k in &self.of_class[c] {
            let (p, v) = (u128::from(self.dp[k as usize]), self.dv[k as usize]);
            let mut i = k as usize + 1;
            while i <= m {
                if on {
                    self.tree_p[i] += p;
                    self.tree_v[i] += v;
                } else {
                    self.tree_p[i] -= p;
                    self.tree_v[i] -= v;
                }
                i += i & i.wrapping_neg();
            }
        }
    }

    /// An upper bound on the Lagrangian value the active classes' hulls add (beyond their
    /// starts) within `cap`, and the slope of the LP there (that of the increment `cap` ends
    /// in, 0 past the last).
    fn value(&self, cap: u64) -> (f64, f64) {
        let m = self.dp.len();
        let (mut pos, mut used, mut got) = (0usize, 0u128, 0i128);
        let mut step = self.top;
        while step > 0 {
            let next = pos + step;
            if next <= m && used + self.tree_p[next] <= u128::from(cap) {
                pos = next;
                used += self.tree_p[next];
                got += self.tree_v[next];
            }
            step >>= 1;
        }
        // `pos` increments fit; the next one (position `pos`, 0-based) is active and does not.
        let mut v = got as f64 / FIX;
        let mut slope = 0.0;
        if pos < m {
            slope = self.slope[pos];
            v += slope * (u128::from(cap) - used) as f64;
        }
        (v, slope)
    }
}

/// The [`SuffixLp`] of one set of active classes, flattened for many queries: the prefix sums
/// of the active increments in slope order, so a query is one binary search over
/// contiguous memory (the dynamic programme asks thousands per layer between two changes).
#[derive(Default)]
struct FrozenLp {
    /// Per active increment: the price of it and all before it (only the prefixes that fit in
    /// a `u64`; the rest can never fit).
    price: Vec<u64>,
    /// Per active increment: the value of it and all before it, as [`SuffixLp::value`] rounds.
    value: Vec<f64>,
    /// Per active increment: its slope; one more entry (0 or the slope of the first increment
    /// whose prefix does not fit in a `u64`) after the last.
    slope: Vec<f64>,
}

impl FrozenLp {
    /// Refills `self` with the active increments of `lp`.
    fn freeze(&mut self, lp: &SuffixLp) {
        self.price.clear();
        self.value.clear();
        self.slope.clear();
        let (mut used, mut got) = (0u64, 0i128);
        for k in 0..lp.dp.len() {
            if !lp.on[lp.class_of[k] as usize] {
                continue;
            }
            self.slope.push(lp.slope[k]);
            let Some(p) = used.checked_add(lp.dp[k]) else {
                return;
            };
            used = p;
            got += lp.dv[k];
            self.price.push(used);
            self.value.push(got as f64 / FIX);
        }
        self.slope.push(0.0);
    }

    /// [`SuffixLp::value`] within `cap`, with the slope of the LP at `cap` (from the right): the
    /// value within `cap - p` is at most the value within `cap` less `p` times that slope.
    fn value(&self, cap: u64) -> (f64, f64) {
        let pos = self.price.partition_point(|&c| c <= cap);
        let (used, got) = if pos == 0 {
            (0, 0.0)
        } else {
            (self.price[pos - 1], self.value[pos - 1])
        };
        let slope = self.slope[pos];
        (got + slope * (cap - used) as f64, slope)
    }
}

/// Multiples of the root's multiplier of the widest row tried as further bounds in
/// [`dynamic_programme`] (a partial plan's bound is the least of them all). Of the grids tried
/// on 21 Thai instances of 300 and 1,000 creators (`[0, 2]`, `[0, 2, 4]`, `[0, 2, 4, 8]`,
/// `[0, 1.5, 3, 6, 12]`, finer ones), this one took the least time in total; finer grids cost
/// more queries than they save.
const WIDE_FACTORS: [f64; 4] = [0.0, 1.5, 3.0, 6.0];

/// One Lagrangian relaxation of the KOLs still to decide, for [`dynamic_programme`]: the
/// multipliers, per position in the order the sum of the hull starts of the KOLs after it,
/// and the suffix LP, flattened ([`FrozenLp`]) for layers whose queries (about one per partial
/// plan) would cost more on the Fenwick trees (`log m` each) than flattening (`m`).
struct Relaxation {
    lambda: Vec<f64>,
    /// `lambda` times the right-hand sides, plus the floating-point margin.
    constant: f64,
    /// Per position `k` in the order: the hull starts of the KOLs from `k` on.
    start: Vec<f64>,
    lp: SuffixLp,
    frozen: FrozenLp,
    /// Whether `frozen` holds the current active increments.
    flat: bool,
}

impl Relaxation {
    /// The relaxation of `lambda` (budget multiplier `mu`, for the margin) over the KOLs in
    /// `order`; `q` is filled with the options' Lagrangian profits.
    fn new(inst: &Instance, lambda: Vec<f64>, mu: f64, order: &[usize], q: &mut Vec<f64>) -> Self {
        inst.profits(&lambda, q);
        let constant = (0..inst.rows)
            .map(|j| lambda[j] * inst.rhs[j] as f64 / inst.scale[j])
            .sum::<f64>()
            + inst.margin(&lambda, mu);
        let (_, start) = inst.suffix_sums(order, q);
        Self {
            constant,
            start,
            lp: SuffixLp::new(inst, q),
            frozen: FrozenLp::default(),
            flat: false,
            lambda,
        }
    }

    /// Takes KOL `c` out of the suffix LP; `queries` is about how many the layer will ask.
    fn decide(&mut self, c: usize, queries: usize) {
        self.lp.set(c, false);
        let m = self.lp.dp.len();
        // Flattening costs `m`; a query on the Fenwick trees about `log m` cache misses.
        self.flat = queries * (m.max(2).ilog2() as usize) >= m;
        if self.flat {
            self.frozen.freeze(&self.lp);
        }
    }

    /// The suffix LP's value within `cap`, and its slope there (see [`FrozenLp::value`]).
    fn within(&self, cap: u64) -> (f64, f64) {
        if self.flat {
            self.frozen.value(cap)
        } else {
            self.lp.value(cap)
        }
    }

    /// The bound of a partial plan of layer `k` (KOLs `0..=k` decided) of `value` and row
    /// `sums`, leaving `left` of the budget.
    fn bound(&self, inst: &Instance, k: usize, value: i128, sums: &[i128], left: u64) -> f64 {
        let mut l = value as f64;
        for (j, &x) in sums.iter().enumerate() {
            if self.lambda[j] != 0.0 {
                l -= self.lambda[j] * x as f64 / inst.scale[j];
            }
        }
        l + self.start[k + 1] + self.within(left).0 + self.constant
    }
}

/// Bytes of the branch and bound's table of visited states (its slots grow with the rows).
const MEMO_BYTES: usize = 16 << 20;

/// Visited states of the branch and bound, as a cache: per (depth, spent, row sums) the best
/// value seen. Two partial plans at the same depth with the same spend and the same row sums
/// have the same completions, feasible alike, so the one of lower value cannot lead anywhere
/// the other does not lead to with more: it is pruned. Rows whose coefficients are all `<= 0`
/// (minimum counts, coverage) only go down, so once met their sums are stored as the
/// right-hand side: "met" is one state. Keys are compared whole (no false match); a full slot
/// is overwritten, which only forgets.
struct Memo {
    /// Per slot: `[depth, spent, sums.., value]`; depth `-1` marks an empty slot.
    slots: Vec<i128>,
    stride: usize,
    /// Per row: clamp the sum at the right-hand side.
    clamp: Vec<bool>,
    key: Vec<i128>,
}

impl Memo {
    fn new(inst: &Instance, bytes: usize) -> Self {
        let rows = inst.rows;
        // A power of two of slots within `bytes`, at least 1,024.
        let fit = (bytes / ((rows + 3) * 16)).max(1_024);
        let slots = 1usize << fit.ilog2();
        let clamp = inst.only_going_down();
        let stride = rows + 3;
        let mut table = vec![0i128; slots * stride];
        for slot in table.chunks_exact_mut(stride) {
            slot[0] = -1;
        }
        Self {
            slots: table,
            stride,
            clamp,
            key: vec![0; rows + 2],
        }
    }

    /// True when a state at `depth` with the same key and at least `s`'s value was seen;
    /// otherwise records `s`.
    fn seen(&mut self, inst: &Instance, depth: usize, s: &State) -> bool {
        self.key[0] = depth as i128;
        self.key[1] = i128::from(s.spent);
        for j in 0..inst.rows {
            let x = s.sums[j];
            self.key[2 + j] = if self.clamp[j] { x.max(inst.rhs[j]) } else { x };
        }
        let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
        for &k in &self.key {
            h = (h ^ (k as u64) ^ ((k >> 64) as u64)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            h ^= h >> 31;
        }
        let n = self.slots.len() / self.stride;
        let slot = (h as usize) & (n - 1);
        let at = slot * self.stride;
        let entry = &mut self.slots[at..at + self.stride];
        let last = self.stride - 1;
        if entry[..last] == self.key[..] {
            if entry[last] >= s.value {
                return true;
            }
            entry[last] = s.value;
            return false;
        }
        entry[..last].copy_from_slice(&self.key);
        entry[last] = s.value;
        false
    }
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
    // Suffix sums over the order: best profit, each row's most favourable coefficient, and
    // the suffix LP's starts (best free option per class).
    let mut suf_u = vec![0.0; n + 1];
    for k in (0..n).rev() {
        suf_u[k] = suf_u[k + 1] + u[order[k]];
    }
    let (suf_min, suf_start) = inst.suffix_sums(&order, &q);
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

    // The suffix LP's hull increments, in the Fenwick trees.
    let mut suffix_lp = SuffixLp::new(inst, &q);
    let lambda_b = constant - mu * inst.cap as f64;

    let mut memo = Memo::new(inst, MEMO_BYTES);
    let mut best = incumbent;
    let mut s = inst.empty();
    let mut cursor = vec![0usize; n + 1];
    // Sums over the decided classes: reduced profits (`q - mu p`), and Lagrangian profits.
    let mut acc = vec![0.0f64; n + 1];
    let mut acc_q = vec![0.0f64; n + 1];
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
        if k == 0 {
            // Deciding this class: it leaves the suffix LP.
            suffix_lp.set(order[depth], false);
        }
        if k >= opts.len() {
            // Exhausted: undo this depth's pick, put the class back and back up.
            inst.switch(&mut s, order[depth], NO);
            suffix_lp.set(order[depth], true);
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
        // The stronger bound: the suffix LP within the budget this option leaves.
        let c = order[depth];
        let held = s.pick[c];
        let before = s.spent
            - if held == NO {
                0
            } else {
                inst.price[held as usize]
            };
        let (p, qo) = if o == NO {
            (0, 0.0)
        } else {
            (inst.price[o as usize], q[o as usize])
        };
        let Some(left) = inst.cap.checked_sub(before + p) else {
            continue;
        };
        if let Some(t) = threshold {
            let strong = acc_q[depth]
                + qo
                + suf_start[depth + 1]
                + suffix_lp.value(left).0
                + lambda_b
                + margin;
            if strong < t + 1.0 {
                continue;
            }
        }
        work += 1;
        if work > limit {
            return Search {
                best,
                finished: false,
            };
        }
        inst.switch(&mut s, c, o);
        if prunes(&s, depth + 1) || memo.seen(inst, depth + 1, &s) {
            continue;
        }
        acc[depth + 1] = acc[depth] + r;
        acc_q[depth + 1] = acc_q[depth] + qo;
        depth += 1;
        cursor[depth] = 0;
    }
}

/// What every pass of [`dynamic_programme`] on one instance shares: the order of the KOLs
/// (dearest first), the root's profits, each row's suffix sums of its most favourable
/// coefficient, the rows that only go down, the widest row, and the relaxations (built once,
/// their classes put back before each pass).
struct Bounds {
    order: Vec<usize>,
    q: Vec<f64>,
    clamp: Vec<bool>,
    /// The widest row (largest scale above 1, not clamped): compared as an order in the
    /// dominance; the other rows by equality (the group).
    wide: Option<usize>,
    suf_min: Vec<i128>,
    root: Relaxation,
    /// The root's multipliers with the widest row's (the spend share, typically) times
    /// [`WIDE_FACTORS`]: bounds as valid, and much tighter for partial plans far from the
    /// share on either side (the root's multiplier prices the row for a plan that just meets
    /// it). None when the root does not price the widest row, or when their suffix LPs would
    /// take more than a quarter of [`DP_BYTES`].
    others: Vec<Relaxation>,
}

impl Bounds {
    fn new(inst: &Instance, d: &Dual) -> Self {
        let (n, rows) = (inst.classes.len(), inst.rows);
        let dearest = |c: usize| {
            let k = inst.classes[c];
            (k.start..k.end)
                .map(|o| inst.price[o as usize])
                .max()
                .unwrap_or(0)
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| dearest(b).cmp(&dearest(a)).then(a.cmp(&b)));
        let clamp = inst.only_going_down();
        let wide = (0..rows)
            .filter(|&j| !clamp[j] && inst.scale[j] > 1.0)
            .max_by(|&a, &b| inst.scale[a].total_cmp(&inst.scale[b]));
        let mut q = Vec::new();
        let root = Relaxation::new(inst, d.lambda.clone(), d.mu, &order, &mut q);
        let (suf_min, _) = inst.suffix_sums(&order, &q);
        let mut others = Vec::new();
        // Per increment: its price, value, slope and class, two tree nodes, and the flat copy.
        let bytes = root.lp.dp.len() * 100 * WIDE_FACTORS.len();
        if let Some(w) = wide.filter(|&w| d.lambda[w] > 0.0 && bytes <= DP_BYTES / 4) {
            for f in WIDE_FACTORS {
                let mut lambda = d.lambda.clone();
                lambda[w] *= f;
                others.push(Relaxation::new(inst, lambda, d.mu, &order, &mut Vec::new()));
            }
        }
        Self {
            order,
            q,
            clamp,
            wide,
            suf_min,
            root,
            others,
        }
    }

    /// Puts every KOL back into the relaxations' suffix LPs, for a new pass.
    fn reset(&mut self) {
        for r in std::iter::once(&mut self.root).chain(self.others.iter_mut()) {
            r.lp.reset();
        }
    }
}

/// The exact search: a dynamic programme over the KOLs, one at a time, on partial plans
/// (spend, row sums, value), in the spirit of the unconstrained solver's core programme.
///
/// The KOLs go in by decreasing price of their dearest option (the big decisions first; the
/// many small KOLs at the end, where partial plans merge most). Each partial plan of the
/// previous KOLs is extended by every option of the next (or none). A child is dropped when it
/// breaks the budget, when a row can no longer be met (suffix sums of each row's most
/// favourable coefficients), when one of its bounds (its Lagrangian profit plus the suffix LP of
/// the KOLs still to decide within the budget it leaves, see [`SuffixLp`], for each
/// [`Relaxation`] of `bounds`) cannot beat the incumbent, or when it is dominated: another
/// child has no more spend, at least its value and
/// no larger sum in any row (rows that only go down counted as met once met), so every
/// completion of the dropped one completes the other, as feasible and worth more. Children are
/// grouped by their sums in every row but the widest; in a group, sorted by spend up and value
/// down, a Fenwick tree over the widest row's sums holds the best value seen at or below each
/// sum, so each check is `O(log m)`. A layer whose children all skip the KOL keeps them without
/// that pass (they are the previous layer's plans, none dominating another). Children that
/// meet every row as they are update the incumbent; when the last KOL is done the incumbent is
/// optimal. The work (children made) is checked against `limit` before each KOL.
///
/// With an `aspiration` above the incumbent, children that cannot reach it are dropped too:
/// the search is then much smaller, and its result says either "the optimum" (when its best
/// reaches the aspiration) or "no plan reaches the aspiration" (a proven bound); see
/// [`exact_by_aspiration`]. `work` counts the children made, against `limit`.
fn dynamic_programme(
    inst: &Instance,
    bounds: &mut Bounds,
    incumbent: Option<State>,
    limit: u64,
    aspiration: f64,
    work: &mut u64,
) -> Search {
    let n = inst.classes.len();
    let rows = inst.rows;
    bounds.reset();
    let Bounds {
        order,
        q,
        clamp,
        wide,
        suf_min,
        root,
        others,
    } = bounds;
    let (order, q, clamp, wide, suf_min) = (&*order, &*q, &*clamp, *wide, &*suf_min);

    // Per layer: each kept partial plan's parent in the previous layer and its option.
    let mut trail: Vec<Vec<(u32, u32)>> = Vec::with_capacity(n);
    let rebuild = |trail: &[Vec<(u32, u32)>], layer: usize, mut at: u32, last: u32| -> Vec<u32> {
        let mut pick = vec![NO; n];
        pick[order[layer]] = last;
        for k in (0..layer).rev() {
            let (parent, o) = trail[k][at as usize];
            pick[order[k]] = o;
            at = parent;
        }
        pick
    };
    let mut best = incumbent;
    // The current layer: spend, value, Lagrangian profit, row sums (flat).
    let mut now = Layer::default();
    now.push(0, 0, 0.0, &vec![0; rows]);
    let mut next = Layer::default();
    let mut from: Vec<(u32, u32)> = Vec::new();
    let mut groups: std::collections::HashMap<Box<[i128]>, u32, FastHash> = Default::default();
    let mut key: Vec<i128> = Vec::with_capacity(rows);
    let mut sorted: Vec<(u32, u64, std::cmp::Reverse<i128>, u32)> = Vec::new();
    let mut by_wide: Vec<(i128, u32)> = Vec::new();
    let mut rank: Vec<usize> = Vec::new();
    let mut fenwick: Vec<i128> = Vec::new();
    let mut row: Vec<i128> = vec![0; rows];
    // Bytes per child while a layer is built (sums in `next` and `now`, a group key, spend,
    // value, profit, parent, sort entry), and per kept plan in the trail.
    let per_child = 48 * rows + 96;
    let mut trail_bytes = 0usize;
    for k in 0..n {
        if *work > limit {
            return Search {
                best,
                finished: false,
            };
        }
        let class = inst.classes[order[k]];
        // About one query per plan: the options' are mostly screened out by the slope.
        root.decide(order[k], now.spent.len());
        for x in others.iter_mut() {
            x.decide(order[k], now.spent.len());
        }
        next.clear();
        from.clear();
        let mut grown = false;
        let threshold = aspiration.max(
            best.as_ref()
                .map_or(f64::NEG_INFINITY, |b| b.value as f64 + 1.0),
        );
        let after = &suf_min[(k + 1) * rows..(k + 2) * rows];
        for si in 0..now.spent.len() {
            // The limit holds within a layer too (one layer can hold many children).
            if *work > limit || next.spent.len() * per_child + trail_bytes > DP_BYTES {
                return Search {
                    best,
                    finished: false,
                };
            }
            let base = &now.sums[si * rows..(si + 1) * rows];
            let room = inst.cap - now.spent[si];
            // The bound of skipping this KOL; with the LP's slope at `room`, an upper bound on
            // each option's (the suffix LP is concave in the budget), so most options are
            // dropped without a query of their own.
            let head = now.lagr[si] + root.start[k + 1] + root.constant;
            let (within, slope) = root.within(room);
            let top = head + within;
            for o in (class.start..class.end).chain(std::iter::once(NO)) {
                *work += 1;
                let (p, v, qo) = if o == NO {
                    (0, 0, 0.0)
                } else {
                    let i = o as usize;
                    (inst.price[i], inst.value[i], q[i])
                };
                let Some(left) = room.checked_sub(p) else {
                    continue;
                };
                // The bound first (it drops most children), then the rows.
                if top + qo - p as f64 * slope < threshold {
                    continue;
                }
                if o != NO && head + qo + root.within(left).0 < threshold {
                    continue;
                }
                let lagr = now.lagr[si] + qo;
                let mut ok = true;
                let mut met = true;
                for j in 0..rows {
                    let x = base[j] + i128::from(inst.a(o, j));
                    ok &= x + after[j] <= inst.rhs[j];
                    met &= x <= inst.rhs[j];
                    row[j] = x;
                }
                if !ok {
                    continue;
                }
                let value = now.value[si] + i128::from(v);
                if others
                    .iter()
                    .any(|x| x.bound(inst, k, value, &row, left) < threshold)
                {
                    continue;
                }
                if met && best.as_ref().is_none_or(|b| value > b.value) {
                    // Meets every row with nothing more: a better plan.
                    best = Some(inst.state_of(rebuild(&trail, k, si as u32, o)));
                }
                next.push(now.spent[si] + p, value, lagr, &row);
                from.push((si as u32, o));
                grown |= o != NO;
            }
        }
        if !grown {
            // Only plans skipping this KOL: the layer's plans unchanged, none dominating
            // another (dominance was checked when they were made).
            std::mem::swap(&mut now, &mut next);
            trail_bytes += from.len() * std::mem::size_of::<(u32, u32)>();
            trail.push(std::mem::take(&mut from));
            if now.spent.is_empty() {
                break;
            }
            continue;
        }
        // Dominance: group, then per group by spend up and value down, a Fenwick tree of the
        // best value at or below each sum of the widest row.
        groups.clear();
        sorted.clear();
        for i in 0..next.spent.len() {
            key.clear();
            for j in 0..rows {
                if wide != Some(j) {
                    let x = next.sums[i * rows + j];
                    key.push(if clamp[j] { x.max(inst.rhs[j]) } else { x });
                }
            }
            let fresh = groups.len() as u32;
            let g = match groups.get(key.as_slice()) {
                Some(&g) => g,
                None => {
                    groups.insert(key.clone().into_boxed_slice(), fresh);
                    fresh
                }
            };
            sorted.push((g, next.spent[i], std::cmp::Reverse(next.value[i]), i as u32));
        }
        sorted.sort_unstable();
        let wide_of = |l: &Layer, i: usize| wide.map_or(0, |w| l.sums[i * rows + w]);
        let mut kept: Vec<u32> = Vec::with_capacity(sorted.len());
        let mut g = 0;
        while g < sorted.len() {
            let mut e = g + 1;
            while e < sorted.len() && sorted[e].0 == sorted[g].0 {
                e += 1;
            }
            // Rank of each member's widest-row sum (1-based, equal sums equal ranks), by one
            // sort of (sum, position in the group).
            by_wide.clear();
            by_wide.extend(
                sorted[g..e]
                    .iter()
                    .enumerate()
                    .map(|(at, t)| (wide_of(&next, t.3 as usize), at as u32)),
            );
            by_wide.sort_unstable();
            rank.clear();
            rank.resize(e - g, 0);
            let mut r = 0;
            for (k, &(x, at)) in by_wide.iter().enumerate() {
                if k == 0 || by_wide[k - 1].0 != x {
                    r += 1;
                }
                rank[at as usize] = r;
            }
            fenwick.clear();
            fenwick.resize(r + 1, i128::MIN);
            for (at, t) in sorted[g..e].iter().enumerate() {
                let i = t.3 as usize;
                let value = next.value[i];
                let r = rank[at];
                let mut seen = i128::MIN;
                let mut at = r;
                while at > 0 {
                    seen = seen.max(fenwick[at]);
                    at &= at - 1;
                }
                if seen >= value {
                    continue;
                }
                let mut at = r;
                while at < fenwick.len() {
                    fenwick[at] = fenwick[at].max(value);
                    at += at & at.wrapping_neg();
                }
                kept.push(t.3);
            }
            g = e;
        }
        kept.sort_unstable();
        now.clear();
        let mut layer = Vec::with_capacity(kept.len());
        for &i in &kept {
            let i = i as usize;
            now.push(
                next.spent[i],
                next.value[i],
                next.lagr[i],
                &next.sums[i * rows..(i + 1) * rows],
            );
            layer.push(from[i]);
        }
        trail_bytes += layer.len() * std::mem::size_of::<(u32, u32)>();
        trail.push(layer);
        if now.spent.is_empty() {
            break;
        }
    }
    Search {
        best,
        finished: true,
    }
}

/// Memory [`dynamic_programme`] may hold: one layer's children (their sums twice, group keys,
/// sort entries) and the trail of every layer's kept partial plans. Past it the search stops as
/// at the work limit, whatever the limit.
const DP_BYTES: usize = 1 << 29;

/// Aspirations tried before the plain search: the root bound less these fractions of its
/// magnitude (those above the incumbent; from 0.001 % to about 1 % by factors of `sqrt 2`), then the
/// incumbent itself. A pass above the optimum costs little unless it is close; the one just
/// below finds it, and its cost grows steeply with its distance below the optimum (on the
/// Thai families often tenfold from one power of two to the next), hence the fine steps.
fn aspirations() -> impl Iterator<Item = f64> {
    (0..=20).map(|k| 1e-5 * std::f64::consts::SQRT_2.powi(k))
}

/// Exact mode with an incumbent: [`dynamic_programme`] with aspirations from just below the
/// root bound down to the incumbent. The optimum is usually much closer to the bound than the
/// heuristic's plan, and a search that aims high keeps few partial plans: the first
/// aspiration the optimum reaches finds it, proven (every plan that could beat it was
/// examined); each one that fails proves the optimum below it, a tighter bound reported when
/// the work limit stops the search.
fn exact_by_aspiration(inst: &Instance, d: &Dual, incumbent: State, limit: u64) -> Solved {
    let mut best = incumbent;
    let mut bound = d.bound;
    let mut work = 0u64;
    let mut bounds = Bounds::new(inst, d);
    let steps = aspirations()
        .map(|f| d.bound - d.bound.abs() * f)
        .chain(std::iter::once(f64::NEG_INFINITY));
    for aspiration in steps {
        if bound - (best.value as f64) < 1.0 {
            break;
        }
        if aspiration <= best.value as f64 && aspiration > f64::NEG_INFINITY {
            continue;
        }
        let s = dynamic_programme(
            inst,
            &mut bounds,
            Some(best.clone()),
            limit,
            aspiration,
            &mut work,
        );
        if let Some(b) = s.best {
            if better(inst.goal, &b, &best) {
                best = b;
            }
        }
        if !s.finished {
            return Solved {
                bound,
                state: best,
                mode: Mode::ExactBestSoFar,
            };
        }
        if best.value as f64 >= aspiration {
            break; // Reached: optimal.
        }
        // No plan reaches the aspiration.
        bound = bound.min(aspiration);
    }
    Solved {
        bound: best.value as f64,
        state: best,
        mode: Mode::Exact,
    }
}

/// A fast hasher for the dynamic programme's group keys (small arrays of row sums; the keys
/// come from the instance, not from an adversary who could aim at collisions, and a collision
/// only costs time).
#[derive(Default, Clone, Copy)]
struct FastHash;

impl std::hash::BuildHasher for FastHash {
    type Hasher = FastHasher;

    fn build_hasher(&self) -> FastHasher {
        FastHasher(0x9E37_79B9_7F4A_7C15)
    }
}

/// The hasher of [`FastHash`]: multiply and rotate per word.
struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            .rotate_left(31);
    }

    fn write_u128(&mut self, x: u128) {
        self.write_u64(x as u64);
        self.write_u64((x >> 64) as u64);
    }

    fn write_i128(&mut self, x: i128) {
        self.write_u128(x as u128);
    }

    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
}

/// Partial plans of one layer of [`dynamic_programme`], as parallel arrays.
#[derive(Default)]
struct Layer {
    spent: Vec<u64>,
    value: Vec<i128>,
    /// Sum of the Lagrangian profits `q` of the options taken.
    lagr: Vec<f64>,
    /// Row sums, `rows` per plan.
    sums: Vec<i128>,
}

impl Layer {
    fn clear(&mut self) {
        self.spent.clear();
        self.value.clear();
        self.lagr.clear();
        self.sums.clear();
    }

    fn push(&mut self, spent: u64, value: i128, lagr: f64, sums: &[i128]) {
        self.spent.push(spent);
        self.value.push(value);
        self.lagr.push(lagr);
        self.sums.extend_from_slice(sums);
    }
}

/// Nodes of the depth-first dive for a first plan before the dynamic programme decides.
const DIVE_NODES: u64 = 200_000;

/// A first plan meeting every row, or the proof that none exists: a depth-first dive (it finds
/// a plan fast when plans are plentiful), then, if it neither found one nor finished, the
/// dynamic programme (which decides in far fewer steps when plans are rare or absent, merging
/// the partial plans the dive would visit one by one). `best` is `None` and `finished` true
/// when no plan exists.
fn first_plan(inst: &Instance, d: &Dual, limit: u64) -> Search {
    let s = branch_and_bound(inst, d, None, limit.min(DIVE_NODES));
    if s.best.is_some() || s.finished {
        return s;
    }
    let mut work = 0;
    let mut bounds = Bounds::new(inst, d);
    dynamic_programme(inst, &mut bounds, None, limit, f64::NEG_INFINITY, &mut work)
}

/// Feasibility of an instance: `Some(true)` with a plan, `Some(false)` proven impossible, `None`
/// undecided within `limit` nodes.
fn decide(inst: &Instance, limit: u64) -> Option<bool> {
    let inst = &inst.presolved();
    let d = dual(inst, 20, 32);
    if d.incumbent.is_some() {
        return Some(true);
    }
    if d.bound < inst.floor() {
        return Some(false);
    }
    let s = first_plan(inst, &d, limit);
    match (s.best.is_some(), s.finished) {
        (true, _) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
    }
}

/// A minimal set of rows (and the budget) that cannot be met together: a deletion filter.
///
/// A quarter of the work `limit` is shared: each decision gets an equal part (a row left undecided
/// stays in the set, which is then a conflicting set, minimal where decided). The budget and
/// the per-creator cap are named when lifting them makes the kept rows feasible.
fn conflict(src: Source<'_>, inst: &Instance, limit: u64) -> Vec<String> {
    let share = (limit / 4 / (inst.rows as u64 + 3)).max(10_000);
    let mut keep: Vec<usize> = (0..inst.rows).collect();
    let mut i = 0;
    while i < keep.len() {
        let mut without = keep.clone();
        without.remove(i);
        if decide(&inst.restricted(&without, false), share) == Some(false) {
            keep = without;
        } else {
            i += 1;
        }
    }
    let mut names: Vec<String> = keep.iter().map(|&j| inst.labels[j].clone()).collect();
    let lifted = |loosen| decide(&src.instance(loosen).restricted(&keep, false), share);
    if lifted(Loosen::Budget) != Some(false) {
        names.push(format!("budget (the {} THB left after pins)", inst.cap));
    }
    if let Some(pct) = src.problem.constraints.max_creator_share_pct {
        if src.side.capped.iter().any(|&c| c) && lifted(Loosen::CreatorCap) != Some(false) {
            names.push(format!(
                "constraints.max_creator_share_pct (no item above {pct} % of the budget)"
            ));
        }
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

/// Solves the instance of `src` presolved (see [`Instance::presolved`]); returns the instance
/// solved, which the plan's indices refer to. Conflicts are named on the instance as built.
fn solve_inst(src: Source<'_>, exact: Option<u64>) -> Result<(Instance, Solved)> {
    let original = src.instance(Loosen::Nothing);
    let inst = original.presolved();
    let solved = solve_presolved(src, &original, &inst, exact)?;
    Ok((inst, solved))
}

fn solve_presolved(
    src: Source<'_>,
    original: &Instance,
    inst: &Instance,
    exact: Option<u64>,
) -> Result<Solved> {
    // Exact mode's aspirations need few heuristic plans; the greedy's plan is one of them.
    let (iterations, every) = if exact.is_some() {
        (EXACT_ITERATIONS, 100)
    } else {
        (GREEDY_ITERATIONS, 32)
    };
    let d = dual(inst, iterations, every);
    let infeasible = |limit| OptimizerError::InfeasibleConstraints {
        conflict: conflict(src, original, limit),
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
                    let s = first_plan(inst, &d, FEASIBILITY_NODES);
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
            let incumbent = match d.incumbent.clone() {
                Some(s) => s,
                None => {
                    let s = first_plan(inst, &d, limit);
                    match (s.best, s.finished) {
                        (Some(b), true) => {
                            return Ok(Solved {
                                bound: b.value as f64,
                                state: b,
                                mode: Mode::Exact,
                            });
                        }
                        (Some(b), false) => b,
                        (None, true) => return Err(infeasible(limit)),
                        (None, false) => {
                            return Err(OptimizerError::ConstraintsUndecided { limit });
                        }
                    }
                }
            };
            Ok(exact_by_aspiration(inst, &d, incumbent, limit))
        }
    }
}

/// A proven upper bound on the free (not pinned) effective reach, in micro-people, of every
/// plan that meets the side constraints: the Lagrangian bound of the greedy's subgradient phase
/// (0 when that proves no plan meets them).
pub(crate) fn reach_bound(problem: &Problem, side: &Compiled) -> u128 {
    let inst = Instance::new(problem, side, Goal::MaxReach, 0).presolved();
    let d = dual(&inst, GREEDY_ITERATIONS, 32);
    if d.bound < inst.floor() {
        0
    } else {
        d.bound.floor() as u128
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
            let src = Source {
                problem,
                side,
                goal: Goal::MaxReach,
                target: 0,
            };
            let (inst, s) = solve_inst(src, limit)?;
            assemble_plan(problem, &inst, &s, None)
        }
        Objective::MinCost { min_reach } => {
            let target = min_reach.micros();
            let src = Source {
                problem,
                side,
                goal: Goal::MinCost,
                target,
            };
            match solve_inst(src, limit) {
                Ok((inst, s)) => assemble_plan(problem, &inst, &s, Some(target)),
                Err(OptimizerError::InfeasibleConstraints { conflict })
                    if conflict.iter().any(|c| c.starts_with("min_reach")) =>
                {
                    // The target cannot be met: the best reach, with the shortfall.
                    let src = Source {
                        problem,
                        side,
                        goal: Goal::MaxReach,
                        target: 0,
                    };
                    let (inst, s) = solve_inst(src, limit)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The flattened suffix LP answers every query as the Fenwick trees do, whatever
        /// classes are taken out.
        #[test]
        fn frozen_lp_agrees_with_the_fenwick_trees(
            incs in prop::collection::vec((1u64..5_000, 0.0f64..1e6, 0u32..12), 0..60),
            off in prop::collection::vec(any::<bool>(), 12),
            caps in prop::collection::vec(0u64..200_000, 1..20),
        ) {
            let incs: Vec<_> = incs.into_iter().map(|(p, v, c)| (v / p as f64, p, v, c)).collect();
            let mut lp = SuffixLp::from_increments(incs, 12);
            for (c, &o) in off.iter().enumerate() {
                if o {
                    lp.set(c, false);
                }
            }
            let mut frozen = FrozenLp::default();
            frozen.freeze(&lp);
            for cap in caps.into_iter().chain([0, u64::MAX]) {
                let (a, sa) = lp.value(cap);
                let (b, sb) = frozen.value(cap);
                prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "cap {cap}: {a} vs {b}");
                prop_assert_eq!(sa, sb);
            }
        }
    }
}

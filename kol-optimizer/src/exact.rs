//! The exact solver: a core dynamic programme over undominated (price, reach) states, pruned by
//! the LP bound, in the spirit of Pisinger's mcknap.
//!
//! It starts from the relaxation's break solution `x` and its break slope `s` (an increment's
//! reach per THB). Every class's hull is concave with slopes `>= s` before `x` and `<= s` after,
//! so for every item `i` of class `c`: `reach(i) - reach(x_c) <= s * (price(i) - price(x_c))`.
//! Summed over the classes not yet decided, that gives, for any partial solution of price `p` and
//! reach `r`:
//!
//! - every completion reaches at most `r + s * (capacity - p)` (max reach), and
//! - every completion reaching `R` costs at least `p + (R - r) / s` (min cost).
//!
//! The solver first drops each item whose one-item change of `x` cannot beat the incumbent by
//! those bounds (most items, on most instances), takes the classes with survivors as the core,
//! most promising first, and adds them one at a time to a list of states sorted by price with
//! strictly increasing reach (dominated states removed), dropping every state whose bound cannot
//! beat the incumbent. All bound tests are exact integer arithmetic (`i128`), so pruning never
//! loses an optimum; when the list is exhausted or every core class is added, the incumbent is
//! optimal. The number of states generated is the work, checked against a limit before each class.

use crate::model::{Choice, Inc, Model, NONE};

/// What the search optimizes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Goal {
    /// Largest reach within the capacity; then lowest price.
    MaxReach,
    /// Lowest price within the capacity reaching `target`; then largest reach.
    MinCost { target: u128 },
}

/// What a search found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The best plan found (for max reach, never `None` when an incumbent was given).
    pub(crate) best: Option<Choice>,
    /// True when `best` is proven optimal (or, for min cost with `best == None`, proven that no
    /// plan reaches the target within the capacity).
    pub(crate) finished: bool,
    /// Max reach: a proven upper bound on the reach of every plan.
    pub(crate) reach_bound: u128,
    /// Min cost: a proven lower bound on the price of every plan reaching the target.
    pub(crate) cost_bound: u64,
}

#[derive(Debug, Clone, Copy)]
struct State {
    p: u64,
    r: u128,
    /// The last recorded change from the anchor, or [`NONE`].
    node: u32,
    /// A change made while adding the current class, not yet recorded as a node.
    pend: u32,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    parent: u32,
    class: u32,
    point: u32,
}

struct Search<'m> {
    model: &'m Model,
    goal: Goal,
    cap: i128,
    num: i128,
    den: i128,
    /// The incumbent, as price and reach; `None` only for min cost before a plan is found.
    best: Option<(u64, u128)>,
}

impl Search<'_> {
    /// Can a completion of a state of price `p` and reach `r` beat the incumbent?
    fn keep(&self, p: u64, r: u128) -> bool {
        let (p, r) = (i128::from(p), r as i128);
        let (num, den, cap) = (self.num, self.den, self.cap);
        match (self.goal, self.best) {
            (Goal::MaxReach, Some((bp, br))) => {
                let (bp, br) = (i128::from(bp), br as i128);
                // More reach: r + s (cap - p) >= br + 1.
                (r - br - 1) * den + (cap - p) * num >= 0
                // Same reach, cheaper: p + (br - r) / s < bp.
                    || (p - bp) * num + (br - r) * den < 0
            }
            (Goal::MaxReach, None) => true,
            (Goal::MinCost { target }, best) => {
                let t = target as i128;
                match best {
                    // Any plan within the capacity: p + (t - r) / s <= cap.
                    None => (p - cap) * num + (t - r) * den <= 0,
                    Some((bp, br)) => {
                        let (bp, br) = (i128::from(bp), br as i128);
                        // Cheaper: p + (t - r) / s <= bp - 1.
                        (p - bp + 1) * num + (t - r) * den <= 0
                        // Same price, more reach: r + s (bp - p) >= br + 1.
                            || (r - br - 1) * den + (bp - p) * num >= 0
                    }
                }
            }
        }
    }

    /// Is a state of price `p` and reach `r` a plan, and better than the incumbent?
    fn improves(&self, p: u64, r: u128) -> bool {
        if p > self.model.capacity {
            return false;
        }
        match (self.goal, self.best) {
            (Goal::MaxReach, None) => true,
            (Goal::MaxReach, Some((bp, br))) => r > br || (r == br && p < bp),
            (Goal::MinCost { target }, _) if r < target => false,
            (Goal::MinCost { .. }, None) => true,
            (Goal::MinCost { .. }, Some((bp, br))) => p < bp || (p == bp && r > br),
        }
    }

    /// Max reach: the bound `r + s (cap - p)`, rounded down.
    fn reach_bound(&self, p: u64, r: u128) -> u128 {
        let v = (r as i128) * self.den + (self.cap - i128::from(p)) * self.num;
        u128::try_from(v.div_euclid(self.den)).unwrap_or(0)
    }

    /// Min cost: the bound `p + (t - r) / s`, rounded up, at least 0.
    fn cost_bound(&self, p: u64, r: u128, target: u128) -> u64 {
        let v = i128::from(p) * self.num + (target as i128 - r as i128) * self.den;
        let ceil = -((-v).div_euclid(self.num));
        u64::try_from(ceil.max(0)).unwrap_or(u64::MAX)
    }
}

/// Solves exactly from `anchor` (the relaxation's break solution) and its break increment `brk`,
/// starting from `incumbent`, within `limit` generated states.
pub(crate) fn search(
    model: &Model,
    goal: Goal,
    anchor: &Choice,
    brk: &Inc,
    incumbent: Option<&Choice>,
    limit: u64,
) -> Outcome {
    let mut s = Search {
        model,
        goal,
        cap: i128::from(model.capacity),
        num: i128::from(brk.dr),
        den: i128::from(brk.dp),
        best: incumbent.map(|c| (c.spent, c.reach)),
    };
    let points = &model.points;

    // Reduction: keep the items whose one-item change of the anchor may beat the incumbent.
    let slope = brk.dr as f64 / brk.dp as f64;
    let mut core: Vec<(f64, u32, u32, u32)> = Vec::new(); // (promise, class, survivors range)
    let mut survivors: Vec<u32> = Vec::new();
    for (c, class) in model.classes.iter().enumerate() {
        let x = points[anchor.points[c] as usize];
        let first = survivors.len() as u32;
        let mut promise = f64::INFINITY;
        for j in class.start..class.end {
            if j == anchor.points[c] {
                continue;
            }
            let pt = points[j as usize];
            let p = anchor.spent - x.price + pt.price;
            let r = anchor.reach - u128::from(x.reach) + u128::from(pt.reach);
            if s.keep(p, r) {
                survivors.push(j);
                // How far below the line through the anchor (ordering only; floats are fine).
                #[allow(clippy::cast_precision_loss)]
                let below = (x.reach as f64 - pt.reach as f64)
                    + slope * (pt.price as f64 - x.price as f64);
                promise = promise.min(below);
            }
        }
        let last = survivors.len() as u32;
        if last > first {
            core.push((promise, c as u32, first, last));
        }
    }
    core.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut best_node: Option<u32> = None; // Some(node) once the search found a better plan.
    let mut nodes: Vec<Node> = Vec::new();
    let mut states = vec![State {
        p: anchor.spent,
        r: anchor.reach,
        node: NONE,
        pend: NONE,
    }];
    if s.improves(anchor.spent, anchor.reach) {
        s.best = Some((anchor.spent, anchor.reach));
        best_node = Some(NONE);
    }
    let mut acc: Vec<State> = Vec::new();
    let mut out: Vec<State> = Vec::new();
    let mut opts: Vec<u32> = Vec::new();
    let mut work = 0u64;
    let mut finished = true;

    for &(_, c, first, last) in &core {
        if states.is_empty() {
            break;
        }
        let x = points[anchor.points[c as usize] as usize];
        opts.clear();
        for &j in &survivors[first as usize..last as usize] {
            let pt = points[j as usize];
            let p = anchor.spent - x.price + pt.price;
            let r = anchor.reach - u128::from(x.reach) + u128::from(pt.reach);
            if s.keep(p, r) {
                opts.push(j);
            }
        }
        if opts.is_empty() {
            continue;
        }
        let cost = states.len() as u64 * (opts.len() as u64 + 1);
        if work + cost > limit {
            finished = false;
            break;
        }
        work += cost;

        acc.clear();
        acc.extend_from_slice(&states);
        for &j in &opts {
            let pt = points[j as usize];
            merge(&mut out, &acc, &states, x.price, x.reach, pt, j);
            std::mem::swap(&mut acc, &mut out);
        }
        // Incumbent first, so the filter below uses it.
        let mut found: Option<usize> = None;
        for (k, st) in acc.iter().enumerate() {
            if s.improves(st.p, st.r) {
                s.best = Some((st.p, st.r));
                found = Some(k);
            }
        }
        states.clear();
        for (k, st) in acc.iter().enumerate() {
            let keep = s.keep(st.p, st.r);
            if !keep && found != Some(k) {
                continue;
            }
            let node = if st.pend == NONE {
                st.node
            } else {
                nodes.push(Node {
                    parent: st.node,
                    class: c,
                    point: st.pend,
                });
                (nodes.len() - 1) as u32
            };
            if found == Some(k) {
                best_node = Some(node);
            }
            if keep {
                states.push(State {
                    p: st.p,
                    r: st.r,
                    node,
                    pend: NONE,
                });
            }
        }
    }

    let best = match best_node {
        Some(node) => Some(rebuild(model, anchor, &nodes, node)),
        None => incumbent.cloned(),
    };
    let (reach_bound, cost_bound) = if finished {
        let r = best.as_ref().map_or(0, |b| b.reach);
        let p = best.as_ref().map_or(0, |b| b.spent);
        (r, p)
    } else {
        let mut rb = best.as_ref().map_or(0, |b| b.reach);
        let mut cb = best.as_ref().map_or(u64::MAX, |b| b.spent);
        for st in &states {
            rb = rb.max(s.reach_bound(st.p, st.r));
            if let Goal::MinCost { target } = goal {
                cb = cb.min(s.cost_bound(st.p, st.r, target));
            }
        }
        (rb, cb)
    };
    Outcome {
        best,
        finished,
        reach_bound,
        cost_bound,
    }
}

/// Merges `acc` with `states` shifted from point `x` (price `xp`, reach `xr`) to point `to`
/// (index `j`), into `out`: sorted by price, reach strictly increasing, ties to `acc`.
fn merge(
    out: &mut Vec<State>,
    acc: &[State],
    states: &[State],
    xp: u64,
    xr: u64,
    to: crate::model::Point,
    j: u32,
) {
    out.clear();
    let shift = |st: &State| State {
        p: st.p - xp + to.price,
        r: st.r - u128::from(xr) + u128::from(to.reach),
        node: st.node,
        pend: j,
    };
    let (mut a, mut b) = (0, 0);
    let mut last: Option<u128> = None;
    while a < acc.len() || b < states.len() {
        let take_a = if b == states.len() {
            true
        } else if a == acc.len() {
            false
        } else {
            let sb = shift(&states[b]);
            acc[a].p < sb.p || (acc[a].p == sb.p && acc[a].r >= sb.r)
        };
        let st = if take_a {
            a += 1;
            acc[a - 1]
        } else {
            b += 1;
            shift(&states[b - 1])
        };
        if last.is_none_or(|l| st.r > l) {
            last = Some(st.r);
            out.push(st);
        }
    }
}

/// The anchor with the changes recorded along a node chain.
fn rebuild(model: &Model, anchor: &Choice, nodes: &[Node], mut node: u32) -> Choice {
    let mut choice = anchor.clone();
    while node != NONE {
        let n = nodes[node as usize];
        choice.switch(&model.points, n.class as usize, n.point);
        node = n.parent;
    }
    choice
}

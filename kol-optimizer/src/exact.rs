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

/// A non-negative slope `num / den` (reach per THB), or infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slope {
    num: i128,
    /// 0 means infinity.
    den: i128,
}

impl Slope {
    const ZERO: Self = Self { num: 0, den: 1 };
    const INFINITE: Self = Self { num: 1, den: 0 };

    fn new(dr: u128, dp: u64) -> Self {
        Self {
            num: dr as i128,
            den: i128::from(dp),
        }
    }

    fn is_infinite(self) -> bool {
        self.den == 0
    }

    /// `self < other`, exactly.
    fn less(self, other: Self) -> bool {
        match (self.is_infinite(), other.is_infinite()) {
            (_, true) => !self.is_infinite(),
            (true, false) => false,
            _ => self.num * other.den < other.num * self.den,
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn approx(self) -> f64 {
        if self.is_infinite() {
            f64::INFINITY
        } else {
            self.num as f64 / self.den as f64
        }
    }
}

/// How much the classes not yet in the core can still change a state: reach gained per THB
/// added is at most `up`; reach lost per THB saved is at least `down` (`up <= down`). So a
/// change of `d` THB changes reach by at most `up * d` (`d >= 0`) or `down * d` (`d < 0`).
#[derive(Debug, Clone, Copy)]
struct Gradients {
    up: Slope,
    down: Slope,
}

struct Search<'m> {
    model: &'m Model,
    goal: Goal,
    cap: i128,
    /// The incumbent, as price and reach; `None` only for min cost before a plan is found.
    best: Option<(u64, u128)>,
}

impl Search<'_> {
    /// Is `r + g(d) >= want` possible, for a price change `d` and the gradient bound `g`?
    fn can_reach(g: Gradients, r: i128, d: i128, want: i128) -> bool {
        if d >= 0 {
            (r - want) * g.up.den + d * g.up.num >= 0
        } else if g.down.is_infinite() {
            false
        } else {
            (r - want) * g.down.den + d * g.down.num >= 0
        }
    }

    /// Is there a price change `d <= limit` with `r + g(d) >= want`? (`p + d` stays within
    /// `p + limit`.) Equivalent to [`Self::can_reach`] at `d = limit`, as `g` increases.
    fn can_reach_within(g: Gradients, r: i128, limit: i128, want: i128) -> bool {
        Self::can_reach(g, r, limit, want)
    }

    /// Can a completion of a state of price `p` and reach `r` beat the incumbent, when the
    /// undecided classes move as `g` allows?
    fn keep(&self, g: Gradients, p: u64, r: u128) -> bool {
        let (p, r) = (i128::from(p), r as i128);
        match (self.goal, self.best) {
            (Goal::MaxReach, None) => true,
            (Goal::MaxReach, Some((bp, br))) => {
                let (bp, br) = (i128::from(bp), br as i128);
                // More reach within the capacity, or the same reach for less.
                Self::can_reach_within(g, r, self.cap - p, br + 1)
                    || Self::can_reach_within(g, r, bp - 1 - p, br)
            }
            (Goal::MinCost { target }, best) => {
                let t = target as i128;
                match best {
                    None => Self::can_reach_within(g, r, self.cap - p, t),
                    Some((bp, br)) => {
                        let (bp, br) = (i128::from(bp), br as i128);
                        // The target for less, or more reach for the same price.
                        Self::can_reach_within(g, r, bp - 1 - p, t)
                            || Self::can_reach_within(g, r, bp - p, br + 1)
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

    /// Max reach: the most any completion of the state can reach within the capacity.
    fn reach_bound(&self, g: Gradients, p: u64, r: u128) -> u128 {
        let d = self.cap - i128::from(p);
        let v = if d >= 0 {
            ((r as i128) * g.up.den + d * g.up.num).div_euclid(g.up.den)
        } else if g.down.is_infinite() {
            0
        } else {
            ((r as i128) * g.down.den + d * g.down.num).div_euclid(g.down.den)
        };
        u128::try_from(v).unwrap_or(0)
    }

    /// Min cost: the least price at which a completion of the state reaches `target`.
    fn cost_bound(&self, g: Gradients, p: u64, r: u128, target: u128) -> u64 {
        let need = target as i128 - r as i128;
        let p = i128::from(p);
        let v = if need > 0 {
            if g.up.num == 0 {
                return u64::MAX;
            }
            p + (need * g.up.den + g.up.num - 1).div_euclid(g.up.num)
        } else if g.down.is_infinite() {
            p
        } else {
            // need <= 0: may save up to -need / down; the bound is p + need / down, rounded up.
            p - ((-need) * g.down.den).div_euclid(g.down.num)
        };
        u64::try_from(v.max(0)).unwrap_or(u64::MAX)
    }
}

/// One core class: its survivors and how they move reach per THB around the anchor.
#[derive(Debug, Clone, Copy)]
struct CoreClass {
    class: u32,
    first: u32,
    last: u32,
    /// Best reach gained per THB added, over the survivors dearer than the anchor point.
    up: Slope,
    /// Least reach lost per THB saved, over the survivors cheaper than the anchor point.
    down: Slope,
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
        best: incumbent.map(|c| (c.spent, c.reach)),
    };
    let points = &model.points;
    // Every class moves reach by at most the break slope per THB either way (hull concavity).
    let line = Gradients {
        up: Slope::new(u128::from(brk.dr), u64::from(brk.dp)),
        down: Slope::new(u128::from(brk.dr), u64::from(brk.dp)),
    };

    // Reduction: keep the items whose one-item change of the anchor may beat the incumbent.
    let mut core: Vec<CoreClass> = Vec::new();
    let mut survivors: Vec<u32> = Vec::new();
    for (c, class) in model.classes.iter().enumerate() {
        let x = points[anchor.points[c] as usize];
        let first = survivors.len() as u32;
        let (mut up, mut down) = (Slope::ZERO, Slope::INFINITE);
        for j in class.start..class.end {
            if j == anchor.points[c] {
                continue;
            }
            let pt = points[j as usize];
            let p = anchor.spent - u64::from(x.price) + u64::from(pt.price);
            let r = anchor.reach - u128::from(x.reach) + u128::from(pt.reach);
            if s.keep(line, p, r) {
                survivors.push(j);
                // Frontier points: dearer means more reach, cheaper means less.
                if pt.price > x.price {
                    let slope = Slope::new(
                        u128::from(pt.reach - x.reach),
                        u64::from(pt.price - x.price),
                    );
                    if up.less(slope) {
                        up = slope;
                    }
                } else {
                    let slope = Slope::new(
                        u128::from(x.reach - pt.reach),
                        u64::from(x.price - pt.price),
                    );
                    if slope.less(down) {
                        down = slope;
                    }
                }
            }
        }
        let last = survivors.len() as u32;
        if last > first {
            core.push(CoreClass {
                class: c as u32,
                first,
                last,
                up,
                down,
            });
        }
    }
    // Classes by decreasing `up` and by increasing `down`: the bound of the undecided classes is
    // the first unprocessed entry of each list, and tightens as the core grows.
    let mut by_up: Vec<u32> = (0..core.len() as u32).collect();
    by_up.sort_by(|&a, &b| {
        let (x, y) = (core[a as usize].up, core[b as usize].up);
        if y.less(x) {
            std::cmp::Ordering::Less
        } else if x.less(y) {
            std::cmp::Ordering::Greater
        } else {
            a.cmp(&b)
        }
    });
    let mut by_down: Vec<u32> = (0..core.len() as u32).collect();
    by_down.sort_by(|&a, &b| {
        let (x, y) = (core[a as usize].down, core[b as usize].down);
        if x.less(y) {
            std::cmp::Ordering::Less
        } else if y.less(x) {
            std::cmp::Ordering::Greater
        } else {
            a.cmp(&b)
        }
    });
    let mut done = vec![false; core.len()];
    let (mut iu, mut id) = (0usize, 0usize);
    let gradients = |done: &[bool], iu: &mut usize, id: &mut usize| {
        while *iu < by_up.len() && done[by_up[*iu] as usize] {
            *iu += 1;
        }
        while *id < by_down.len() && done[by_down[*id] as usize] {
            *id += 1;
        }
        Gradients {
            up: by_up.get(*iu).map_or(Slope::ZERO, |&k| core[k as usize].up),
            down: by_down
                .get(*id)
                .map_or(Slope::INFINITE, |&k| core[k as usize].down),
        }
    };
    let pivot = line.up.approx();

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
    let mut g = gradients(&done, &mut iu, &mut id);

    loop {
        states.retain(|st| s.keep(g, st.p, st.r));
        if states.is_empty() {
            break;
        }
        // The next class: whichever extreme gradient is closer to the break slope.
        let k = match (by_up.get(iu), by_down.get(id)) {
            (None, None) => break,
            (Some(&u), None) => u,
            (None, Some(&d)) => d,
            (Some(&u), Some(&d)) => {
                let up = core[u as usize].up.approx() / pivot;
                let down = pivot / core[d as usize].down.approx();
                if up >= down { u } else { d }
            }
        } as usize;
        let cc = core[k];
        done[k] = true;
        g = gradients(&done, &mut iu, &mut id);

        let c = cc.class;
        let x = points[anchor.points[c as usize] as usize];
        opts.clear();
        for &j in &survivors[cc.first as usize..cc.last as usize] {
            let pt = points[j as usize];
            let p = anchor.spent - u64::from(x.price) + u64::from(pt.price);
            let r = anchor.reach - u128::from(x.reach) + u128::from(pt.reach);
            if s.keep(line, p, r) {
                opts.push(j);
            }
        }
        if opts.is_empty() {
            continue;
        }
        let cost = states.len() as u64 * (opts.len() as u64 + 1);
        if work + cost > limit {
            finished = false;
            done[k] = false;
            g = gradients(&done, &mut { 0 }, &mut { 0 });
            break;
        }
        work += cost;

        acc.clear();
        acc.extend_from_slice(&states);
        for &j in &opts {
            let pt = points[j as usize];
            merge(&mut out, &acc, &states, u64::from(x.price), x.reach, pt, j);
            std::mem::swap(&mut acc, &mut out);
        }
        // Incumbent first, so the filter below uses it.
        let mut found: Option<usize> = None;
        for (i, st) in acc.iter().enumerate() {
            if s.improves(st.p, st.r) {
                s.best = Some((st.p, st.r));
                found = Some(i);
            }
        }
        states.clear();
        for (i, st) in acc.iter().enumerate() {
            let keep = s.keep(g, st.p, st.r);
            if !keep && found != Some(i) {
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
            if found == Some(i) {
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
            rb = rb.max(s.reach_bound(g, st.p, st.r));
            if let Goal::MinCost { target } = goal {
                cb = cb.min(s.cost_bound(g, st.p, st.r, target));
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
        p: st.p - xp + u64::from(to.price),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_compare_exactly_with_infinity() {
        let third = Slope::new(1, 3);
        let almost = Slope::new(333_333_333, 1_000_000_000);
        assert!(almost.less(third));
        assert!(!third.less(almost));
        assert!(third.less(Slope::INFINITE));
        assert!(!Slope::INFINITE.less(third));
        assert!(!Slope::INFINITE.less(Slope::INFINITE));
        assert!(Slope::ZERO.less(third));
    }

    #[test]
    fn gradient_bounds_are_one_sided() {
        let g = Gradients {
            up: Slope::new(2, 1),
            down: Slope::new(3, 1),
        };
        // Adding 5 THB gains at most 10 reach; saving 5 THB loses at least 15.
        assert!(Search::can_reach(g, 100, 5, 110));
        assert!(!Search::can_reach(g, 100, 5, 111));
        assert!(Search::can_reach(g, 100, -5, 85));
        assert!(!Search::can_reach(g, 100, -5, 86));
        let no_savings = Gradients {
            up: Slope::ZERO,
            down: Slope::INFINITE,
        };
        assert!(!Search::can_reach(no_savings, 100, -1, 0));
        assert!(Search::can_reach(no_savings, 100, 7, 100));
        assert!(!Search::can_reach(no_savings, 100, 7, 101));
    }
}

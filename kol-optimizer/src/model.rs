//! The solvers' internal form of a [`Problem`]: per KOL, the undominated (price, reach) frontier
//! with a "nothing" point, its upper convex hull as increments, and the LP relaxation.
//!
//! All quantities are integers: prices in THB (`u32` for one item or step, at most `i32::MAX`;
//! `u64` for sums and budgets), one point's reach in micro-people (`u64`, below `2^61`), sums of
//! reach in `u128`. Slopes are compared by cross products in `u128`, never
//! by division.

use std::cmp::Ordering;

use crate::problem::Problem;

/// Marks "no rate-card item" (the nothing point) or "no node".
pub(crate) const NONE: u32 = u32::MAX;

/// One undominated option of a class (16 bytes: a million-item model is mostly these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) reach: u64,
    /// In THB: a rate-card price, at most `i32::MAX`.
    pub(crate) price: u32,
    /// Index of the offer in its (canonical) candidate, or [`NONE`] for "nothing".
    pub(crate) offer: u32,
}

impl Point {
    /// A sort key ordering points by price up, reach down, "nothing" first, then offer:
    /// price (< 2^32) in the top 32 bits, `u64::MAX - reach` in the next 64, offer + 1 last.
    fn key(price: u64, reach: u64, offer: u32) -> u128 {
        (u128::from(price) << 96)
            | (u128::from(u64::MAX - reach) << 32)
            | u128::from(offer.wrapping_add(1))
    }

    #[allow(clippy::cast_possible_truncation)]
    fn from_key(key: u128) -> Self {
        Self {
            price: (key >> 96) as u32,
            reach: u64::MAX - (key >> 32) as u64,
            offer: (key as u32).wrapping_sub(1),
        }
    }
}

/// A KOL that the solver may choose an item of (not pinned, not excluded, with some use).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Class {
    /// Canonical candidate index.
    pub(crate) candidate: u32,
    /// Its frontier is `points[start..end]`: prices and reaches strictly increasing, the first
    /// point's price is 0 (nothing, or a free item).
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// One step along a class's upper convex hull, from point `from` to point `to` (24 bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inc {
    pub(crate) dr: u64,
    /// The price step, in THB (a difference of two prices, so below 2^31).
    pub(crate) dp: u32,
    pub(crate) class: u32,
    pub(crate) from: u32,
    pub(crate) to: u32,
}

impl Inc {
    /// Decreasing slope `dr / dp`, then class (so KOL id), then position along the hull.
    pub(crate) fn order(&self, other: &Self) -> Ordering {
        let mine = u128::from(self.dr) * u128::from(other.dp);
        let theirs = u128::from(other.dr) * u128::from(self.dp);
        theirs
            .cmp(&mine)
            .then(self.class.cmp(&other.class))
            .then(self.from.cmp(&other.from))
    }
}

/// A choice of one frontier point per class, with its totals (pinned items not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub(crate) points: Vec<u32>,
    pub(crate) spent: u64,
    pub(crate) reach: u128,
}

/// The LP relaxation after sorting increments: the break solution and the break increment.
#[derive(Debug, Clone)]
pub(crate) struct Relaxation {
    /// Every increment before `brk` applied (the break solution).
    pub(crate) choice: Choice,
    /// Index of the first increment (in sorted order) that does not fit, if any.
    pub(crate) brk: Option<usize>,
    /// The LP value, rounded down (integer plans cannot exceed it).
    pub(crate) bound: u128,
}

/// The cover relaxation for a reach target: cheapest fractional way to reach it.
#[derive(Debug, Clone)]
pub(crate) struct CoverRelaxation {
    /// Every increment before `brk` applied.
    pub(crate) choice: Choice,
    /// The increment that crosses the target, if the base does not already reach it.
    pub(crate) brk: Option<usize>,
    /// Lower bound on the cost of any plan reaching the target (LP value, rounded up), or `None`
    /// when no plan reaches it at any price.
    pub(crate) cost_bound: Option<u64>,
}

/// The compiled problem.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) budget: u64,
    /// Budget left for free classes after the pins, clamped to the most they could cost.
    pub(crate) capacity: u64,
    /// The capacity items were filtered at: every point costs at most this. Equal to
    /// `capacity` except while a budget frontier lowers `capacity` on a model built for its
    /// largest budget.
    pub(crate) filtered: u64,
    pub(crate) pinned_price: u64,
    pub(crate) pinned_reach: u128,
    pub(crate) classes: Vec<Class>,
    /// Every class's frontier points; shared by the models [`Model::lowered`] derives.
    pub(crate) points: std::sync::Arc<Vec<Point>>,
    /// Whether some class's first point is a free item rather than "nothing" (else a class on
    /// its first point books nothing).
    pub(crate) free_first: bool,
    /// Increments of every class's hull, sorted by [`Inc::order`].
    pub(crate) incs: Vec<Inc>,
    /// `min_dp[k]`: the cheapest increment from `k` on (`u32::MAX` past the end), so a fill
    /// stops as soon as nothing left can fit.
    pub(crate) min_dp: Vec<u32>,
    /// The cheapest move of any class to its next frontier point (`u64::MAX` if none), or less
    /// for a [lowered](Model::lower_into) model: an upgrade pass with less left than this has
    /// nothing to do.
    pub(crate) min_step: u64,
}

impl Model {
    /// Compiles a problem: drops excluded KOLs, fixes pinned ones, keeps per class the items that
    /// fit the budget and are not dominated, builds hulls and sorts their increments.
    pub(crate) fn new(problem: &Problem) -> Self {
        Self::at_budget(problem, problem.budget)
    }

    /// [`Model::new`] for another budget, at least the pinned price.
    pub(crate) fn at_budget(problem: &Problem, budget: u64) -> Self {
        // Clamped to what the free candidates could ever cost together (at most 2^63), so bound
        // arithmetic stays far from overflow whatever the budget.
        let capacity = budget
            .saturating_sub(problem.pinned_price)
            .min(problem.free_price_total);
        let mut pinned_reach = 0u128;
        let mut classes = Vec::with_capacity(problem.candidates.len());
        let mut points: Vec<Point> = Vec::with_capacity(problem.item_count() + classes.capacity());
        let mut incs: Vec<Inc> = Vec::with_capacity(problem.item_count());
        let mut keys: Vec<(u32, u32)> = Vec::with_capacity(problem.item_count());
        let mut scratch: Vec<u128> = Vec::new();
        let mut sorted: Vec<u128> = Vec::new();
        let mut hull: Vec<u32> = Vec::new();
        // The smallest step along any frontier (while the points are at hand).
        let mut min_step = u64::MAX;
        let mut free_first = false;
        for ci in 0..problem.candidates.len() {
            if problem.excluded[ci] {
                continue;
            }
            if let Some(oi) = problem.pinned[ci] {
                pinned_reach += u128::from(problem.micros(ci, oi as usize));
                continue;
            }
            // Points as sort keys: price up, reach down; among equal points "nothing" first, then
            // by item name (the canonical offer order).
            scratch.clear();
            scratch.push(Point::key(0, 0, NONE));
            for (oi, &(price, reach)) in problem.items_of(ci).iter().enumerate() {
                if price <= capacity {
                    scratch.push(Point::key(price, reach, oi as u32));
                }
            }
            sort_small(&mut scratch, &mut sorted);
            let start = points.len();
            let mut best: Option<u64> = None;
            for p in sorted.iter().map(|&k| Point::from_key(k)) {
                if best.is_none_or(|b| p.reach > b) {
                    best = Some(p.reach);
                    points.push(p);
                }
            }
            if points.len() == start + 1 && points[start].offer == NONE {
                // Nothing useful to buy from this KOL.
                points.truncate(start);
                continue;
            }
            free_first |= points[start].offer != NONE;
            let class = classes.len() as u32;
            let end = points.len();
            for w in points[start..end].windows(2) {
                min_step = min_step.min(u64::from(w[1].price - w[0].price));
            }
            classes.push(Class {
                candidate: ci as u32,
                start: start as u32,
                end: end as u32,
            });
            let before = incs.len();
            push_hull(&points, start..end, class, &mut hull, &mut incs);
            // Their sort keys, while they are in cache.
            keys.extend((before..incs.len()).map(|i| (slope_key(&incs[i]), i as u32)));
        }
        sort_increments_by_key(&mut incs, keys);
        let min_dp = suffix_min_dp(&incs);
        Self {
            budget,
            capacity,
            filtered: capacity,
            pinned_price: problem.pinned_price,
            pinned_reach,
            classes,
            points: std::sync::Arc::new(points),
            free_first,
            min_dp,
            min_step,
            incs,
        }
    }

    /// Every class at its first frontier point (price 0).
    pub(crate) fn base(&self) -> Choice {
        Choice {
            points: self.classes.iter().map(|c| c.start).collect(),
            spent: 0,
            reach: self.base_reach(),
        }
    }

    /// The reach of [`Model::base`]: 0 unless some first point is a free item (then read off
    /// the first points).
    pub(crate) fn base_reach(&self) -> u128 {
        if !self.free_first {
            return 0;
        }
        self.classes
            .iter()
            .map(|c| u128::from(self.points[c.start as usize].reach))
            .sum()
    }

    /// The LP relaxation (Sinha-Zoltners): apply increments by decreasing slope while they fit.
    pub(crate) fn relaxation(&self) -> Relaxation {
        self.relaxation_after(self.base(), 0)
    }

    /// The relaxation continued from `choice`, the base with the increments before `from`
    /// applied (a break solution of a lower capacity: those still fit).
    pub(crate) fn relaxation_after(&self, mut choice: Choice, from: usize) -> Relaxation {
        for (k, inc) in self.incs.iter().enumerate().skip(from) {
            let left = self.capacity - choice.spent;
            if u64::from(inc.dp) > left {
                let frac = u128::from(left) * u128::from(inc.dr) / u128::from(inc.dp);
                let bound = choice.reach + frac;
                return Relaxation {
                    choice,
                    brk: Some(k),
                    bound,
                };
            }
            choice.apply(inc);
        }
        let bound = choice.reach;
        Relaxation {
            choice,
            brk: None,
            bound,
        }
    }

    /// The cover relaxation for `target` (free-class reach): apply increments by decreasing
    /// slope until the target is met; the crossing increment is the fractional one.
    pub(crate) fn cover_relaxation(&self, target: u128) -> CoverRelaxation {
        let mut choice = self.base();
        if choice.reach >= target {
            return CoverRelaxation {
                choice,
                brk: None,
                cost_bound: Some(0),
            };
        }
        for (k, inc) in self.incs.iter().enumerate() {
            if choice.reach + u128::from(inc.dr) >= target {
                let missing = target - choice.reach;
                let extra = (missing * u128::from(inc.dp)).div_ceil(u128::from(inc.dr));
                // extra <= inc.dp, so it fits u64.
                let extra = u64::try_from(extra).unwrap_or(u64::MAX);
                return CoverRelaxation {
                    cost_bound: Some(choice.spent + extra),
                    choice,
                    brk: Some(k),
                };
            }
            choice.apply(inc);
        }
        CoverRelaxation {
            choice,
            brk: None,
            cost_bound: None,
        }
    }

    /// Lowers the budget of a model built for a larger one (items above it stay in the model;
    /// the solvers check prices against `capacity`).
    pub(crate) fn lower_budget(&mut self, budget: u64) {
        self.budget = budget;
        self.capacity = budget.saturating_sub(self.pinned_price).min(self.filtered);
    }

    /// This model at a lower budget, as [`Model::at_budget`] would build it (but for
    /// `min_step`, kept from this model: a lower bound), without rebuilding it; see
    /// [`Model::lower_into`].
    pub(crate) fn lowered(&self, budget: u64) -> Self {
        let mut out = Self {
            budget,
            capacity: 0,
            filtered: 0,
            pinned_price: self.pinned_price,
            pinned_reach: self.pinned_reach,
            classes: Vec::new(),
            points: std::sync::Arc::clone(&self.points),
            free_first: self.free_first,
            incs: Vec::new(),
            min_dp: Vec::new(),
            min_step: self.min_step,
        };
        self.lower_into(budget, &mut out);
        out
    }

    /// Makes `out` this model at a lower budget, reusing `out`'s buffers for its classes,
    /// increments and suffix minima (a frontier lowers the shared model point after point, so
    /// those pages are faulted in once). The classes with points the budget cannot buy lose
    /// them and get the hull of what is left, sorted as a build sorts; the other classes'
    /// increments keep their sorted order, merged with the new ones. `O(n)` for the copy plus
    /// the affected classes' own work: a budget just below the dearest item affects a few
    /// classes, a budget near 0 most of them (but leaves them few points). A class left with
    /// only its first point stays (it adds nothing).
    ///
    /// `min_step` stays this model's: lowering only drops frontier points, so it is at most
    /// the lowered model's, which is all the upgrade pass needs.
    pub(crate) fn lower_into(&self, budget: u64, out: &mut Self) {
        let capacity = budget.saturating_sub(self.pinned_price).min(self.filtered);
        out.classes.clear();
        out.classes.extend_from_slice(&self.classes);
        // A bit per class: whether it lost points.
        let mut affected = vec![0u64; self.classes.len().div_ceil(64)];
        let mut extra: Vec<Inc> = Vec::new();
        let mut hull: Vec<u32> = Vec::new();
        for (c, class) in out.classes.iter_mut().enumerate() {
            let (start, end) = (class.start as usize, class.end as usize);
            // Most classes keep every point: one read decides.
            if u64::from(self.points[end - 1].price) <= capacity {
                continue;
            }
            let keep = self.points[start..end].partition_point(|p| u64::from(p.price) <= capacity);
            affected[c / 64] |= 1 << (c % 64);
            class.end = (start + keep.max(1)) as u32;
            push_hull(
                &self.points,
                start..class.end as usize,
                c as u32,
                &mut hull,
                &mut extra,
            );
        }
        sort_increments(&mut extra);
        out.incs.clear();
        out.incs.reserve(self.incs.len());
        let mut new = extra.into_iter().peekable();
        for inc in self.incs.iter() {
            let c = inc.class as usize;
            if affected[c / 64] >> (c % 64) & 1 == 1 {
                continue;
            }
            while let Some(e) = new.next_if(|e| e.order(inc) == Ordering::Less) {
                out.incs.push(e);
            }
            out.incs.push(*inc);
        }
        out.incs.extend(new);
        suffix_min_dp_into(&out.incs, &mut out.min_dp);
        out.budget = budget;
        out.capacity = capacity;
        out.filtered = capacity;
        out.pinned_price = self.pinned_price;
        out.pinned_reach = self.pinned_reach;
        out.points = std::sync::Arc::clone(&self.points);
        out.free_first = self.free_first;
        out.min_step = self.min_step;
    }

    /// The frontier of a class.
    pub(crate) fn frontier(&self, class: usize) -> &[Point] {
        let c = self.classes[class];
        &self.points[c.start as usize..c.end as usize]
    }
}

impl Choice {
    /// Moves a class along one hull increment.
    pub(crate) fn apply(&mut self, inc: &Inc) {
        self.points[inc.class as usize] = inc.to;
        self.spent += u64::from(inc.dp);
        self.reach += u128::from(inc.dr);
    }

    /// Moves class `class` from its current point to point `to`.
    pub(crate) fn switch(&mut self, points: &[Point], class: usize, to: u32) {
        let from = points[self.points[class] as usize];
        let next = points[to as usize];
        self.points[class] = to;
        self.spent = self.spent - u64::from(from.price) + u64::from(next.price);
        self.reach = self.reach - u128::from(from.reach) + u128::from(next.reach);
    }
}

/// Appends the increments of the upper convex hull (strict: a middle point stays only if it lies
/// strictly above the chord of its neighbours) of the frontier `points[range]` of `class`.
fn push_hull(
    points: &[Point],
    range: std::ops::Range<usize>,
    class: u32,
    hull: &mut Vec<u32>,
    incs: &mut Vec<Inc>,
) {
    hull.clear();
    for j in range {
        while hull.len() >= 2 {
            let a = points[hull[hull.len() - 2] as usize];
            let b = points[hull[hull.len() - 1] as usize];
            let c = points[j];
            let left = u128::from(b.reach - a.reach) * u128::from(c.price - b.price);
            let right = u128::from(c.reach - b.reach) * u128::from(b.price - a.price);
            if left > right {
                break;
            }
            hull.pop();
        }
        hull.push(j as u32);
    }
    for w in hull.windows(2) {
        let (a, b) = (points[w[0] as usize], points[w[1] as usize]);
        incs.push(Inc {
            dp: b.price - a.price,
            dr: b.reach - a.reach,
            class,
            from: w[0],
            to: w[1],
        });
    }
}

/// Suffix minima of the increments' prices.
fn suffix_min_dp(incs: &[Inc]) -> Vec<u32> {
    let mut out = Vec::new();
    suffix_min_dp_into(incs, &mut out);
    out
}

/// [`suffix_min_dp`] into `out`'s buffer.
fn suffix_min_dp_into(incs: &[Inc], out: &mut Vec<u32>) {
    out.clear();
    out.resize(incs.len() + 1, u32::MAX);
    for k in (0..incs.len()).rev() {
        out[k] = out[k + 1].min(incs[k].dp);
    }
}

/// Sorts the few distinct keys of one rate card into `out`. Up to 32 keys, each goes to its rank
/// (how many keys are smaller), counted without branches: faster than a comparison sort's
/// unpredictable branches on random prices.
fn sort_small(keys: &mut [u128], out: &mut Vec<u128>) {
    out.clear();
    if keys.len() > 32 {
        keys.sort_unstable();
        out.extend_from_slice(keys);
        return;
    }
    out.resize(keys.len(), 0);
    for &k in keys.iter() {
        let rank: usize = keys.iter().map(|&other| usize::from(other < k)).sum();
        out[rank] = k;
    }
}

/// The radix key of an increment: decreasing slope is increasing complement of the (positive)
/// float's bits; the top 32 bits keep 20 bits of mantissa.
#[allow(clippy::cast_precision_loss)]
fn slope_key(inc: &Inc) -> u32 {
    let bits = (inc.dr as f64 / inc.dp as f64).to_bits();
    !((bits >> 32) as u32)
}

/// Sorts increments exactly by [`Inc::order`].
fn sort_increments(incs: &mut Vec<Inc>) {
    let keys = incs
        .iter()
        .enumerate()
        .map(|(i, inc)| (slope_key(inc), i as u32))
        .collect();
    sort_increments_by_key(incs, keys);
}

/// [`sort_increments`], given every increment's `(slope_key, index)`.
///
/// Increments arrive in class order, then hull order: the tie-break order. A stable radix sort on
/// the float key puts them in order except, at most, among slopes closer than the float's
/// precision: equal keys are ordered exactly, and a key one above its neighbour's is checked
/// exactly. Keys further apart cannot be out of order: the slope is the quotient of the reach
/// (rounded to a float with a relative error of at most 2^-53) by the price (exact), rounded
/// again, so a float slope is within 2^-52 of the exact one, while two keys that differ by 2 or
/// more are floats more than 2^-21 apart. If a check fails, an exact stable sort fixes the
/// whole slice, so the result never depends on rounding. The radix sort is there for speed: the
/// greedy at a million items is about this sort.
fn sort_increments_by_key(incs: &mut Vec<Inc>, mut keys: Vec<(u32, u32)>) {
    if incs.len() <= 64 {
        incs.sort_by(Inc::order);
        return;
    }
    radix_sort(&mut keys);
    let mut sorted: Vec<Inc> = keys.iter().map(|&(_, i)| incs[i as usize]).collect();
    // Runs of equal keys: order them exactly.
    let mut start = 0;
    for end in 1..=keys.len() {
        if end == keys.len() || keys[end].0 != keys[start].0 {
            // Equal slopes are already in order (the radix sort is stable): most runs.
            let run = &mut sorted[start..end];
            if run.len() > 1 && !run.is_sorted_by(|a, b| a.order(b) == Ordering::Less) {
                run.sort_by(Inc::order);
            }
            start = end;
        }
    }
    let misplaced = keys
        .windows(2)
        .zip(sorted.windows(2))
        .any(|(k, w)| k[1].0 == k[0].0.wrapping_add(1) && w[0].order(&w[1]) == Ordering::Greater);
    if misplaced {
        // Rounding put two nearly equal slopes across a key boundary: fix it exactly.
        sorted.sort_by(Inc::order);
    }
    *incs = sorted;
}

/// Stable LSD radix sort of `(key, payload)` pairs by key, 8 bits at a time: one pass counts
/// every digit, then one scatter per digit that not every key shares. Byte digits keep the
/// scatter's 256 open destinations within the TLB, which 2,048 (11-bit digits) overflow at a
/// million keys.
fn radix_sort(items: &mut Vec<(u32, u32)>) {
    const BITS: u32 = 8;
    const BUCKETS: usize = 1 << BITS;
    const DIGITS: usize = (32 / BITS) as usize;
    let mut counts = [[0usize; BUCKETS]; DIGITS];
    for &(k, _) in items.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (BITS as usize * d)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    let mut other: Vec<(u32, u32)> = Vec::new();
    for (d, c) in counts.iter_mut().enumerate() {
        if c.contains(&items.len()) {
            continue; // Every key has this digit.
        }
        let mut sum = 0;
        for n in c.iter_mut() {
            let here = *n;
            *n = sum;
            sum += here;
        }
        other.resize(items.len(), (0, 0));
        let shift = BITS as usize * d;
        for &item in items.iter() {
            let b = ((item.0 >> shift) as usize) & (BUCKETS - 1);
            other[c[b]] = item;
            c[b] += 1;
        }
        std::mem::swap(items, &mut other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `lowered` is `built` (the model built at the same budget) in every way a
    /// solver can see.
    fn assert_same_model(built: &Model, lowered: &Model, what: &str) {
        use crate::greedy;
        let (a, b) = (built.relaxation(), lowered.relaxation());
        assert_eq!(a.bound, b.bound, "{what}");
        let (ga, gb) = (greedy::max_reach(built, &a), greedy::max_reach(lowered, &b));
        assert_eq!((ga.reach, ga.spent), (gb.reach, gb.spent), "{what}");
        // The same items booked (classes are numbered alike, but a build drops the KOLs with
        // nothing affordable, which a lowered model keeps).
        let booked = |m: &Model, c: &Choice| -> Vec<(u32, u32)> {
            (m.classes.iter().zip(&c.points))
                .map(|(class, &p)| (class.candidate, m.points[p as usize].offer))
                .filter(|&(_, offer)| offer != NONE)
                .collect()
        };
        assert_eq!(booked(built, &ga), booked(lowered, &gb), "{what}");
        assert!(lowered.min_step <= built.min_step, "{what}");
        assert_eq!(
            (
                built.capacity,
                built.filtered,
                built.budget,
                built.free_first
            ),
            (
                lowered.capacity,
                lowered.filtered,
                lowered.budget,
                lowered.free_first
            ),
            "{what}"
        );
        assert_eq!(built.min_dp, lowered.min_dp, "{what}");
        // The same increments in the same order (the classes a lowered model keeps with nothing
        // have no increments).
        let key = |m: &Model, i: &Inc| {
            let c = m.classes[i.class as usize].candidate;
            (c, i.dp, i.dr)
        };
        let ka: Vec<_> = built.incs.iter().map(|i| key(built, i)).collect();
        let kb: Vec<_> = lowered.incs.iter().map(|i| key(lowered, i)).collect();
        assert_eq!(ka, kb, "{what}");
    }

    #[test]
    fn a_lowered_model_is_the_model_built_at_that_budget() {
        for seed in 1..4 {
            let problem = Problem::new(crate::instances::thai_market(400, 0.1, seed)).unwrap();
            let top = Model::new(&problem);
            let dearest = top.points.iter().map(|p| p.price).max().unwrap();
            let shares = [0.0, 0.01, 0.1, 0.3, 0.7, 0.99, 1.0];
            let budget = |share: f64| (f64::from(dearest) * share) as u64;
            for share in shares {
                let b = budget(share);
                let built = Model::at_budget(&problem, b);
                assert_same_model(&built, &top.lowered(b), &format!("seed {seed} budget {b}"));
            }
            // One model lowered again and again, budgets up then down: nothing of an earlier
            // budget stays behind.
            let mut reused = top.lowered(budget(0.5));
            for share in shares.into_iter().chain(shares.into_iter().rev()) {
                let b = budget(share);
                top.lower_into(b, &mut reused);
                let built = Model::at_budget(&problem, b);
                assert_same_model(&built, &reused, &format!("seed {seed} reused at {b}"));
            }
        }
    }

    #[test]
    fn radix_sort_is_a_stable_sort() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut items: Vec<(u32, u32)> = (0..5_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Few distinct high bits and many repeats, as slopes have.
                (((x % 97) << 24 | (x % 13)) as u32, i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|&(k, _)| k);
        radix_sort(&mut items);
        assert_eq!(items, expected);
    }

    /// Sorts `first` (in this order) followed by many increments of far-apart slopes and
    /// asserts the exact order.
    fn assert_sorts_exactly(first: Vec<Inc>) {
        let mut incs = first;
        incs.extend((2..100u32).map(|i| Inc {
            dp: i,
            dr: 1_000 * u64::from(i * i),
            class: i,
            from: 0,
            to: 1,
        }));
        let mut expected = incs.clone();
        expected.sort_by(Inc::order);
        sort_increments(&mut incs);
        let key = |i: &Inc| (i.class, i.dp, i.dr);
        assert_eq!(
            incs.iter().map(key).collect::<Vec<_>>(),
            expected.iter().map(key).collect::<Vec<_>>()
        );
    }

    #[test]
    fn increments_sort_exactly_where_rounding_crosses_a_key() {
        // Slope a = 216172988272213994 / 3 is above slope b = 144115325514809328 / 2, but the
        // reach rounds to a float so that a's key is one above b's: the radix sort puts b first,
        // and the exact check must catch it. Many other increments around them, far apart.
        let a = Inc {
            dp: 3,
            dr: 216_172_988_272_213_994,
            class: 0,
            from: 0,
            to: 1,
        };
        let b = Inc {
            dp: 2,
            dr: 144_115_325_514_809_328,
            class: 1,
            from: 0,
            to: 1,
        };
        assert_eq!(slope_key(&a), slope_key(&b) + 1);
        assert_eq!(a.order(&b), Ordering::Less);
        assert_sorts_exactly(vec![b, a]);
    }

    #[test]
    fn equal_slopes_on_neighbouring_keys_sort_by_class() {
        // Slopes (B - 3) / 1 and (3B - 9) / 3 are equal, but the first reach is exact and the
        // second rounds so that its key is one above: the radix sort puts class 1 first, the
        // tie-break (class) wants class 0 first.
        let big = (1u64 << 55) + (1 << 35);
        let a = Inc {
            dp: 1,
            dr: big - 3,
            class: 1,
            from: 0,
            to: 1,
        };
        let b = Inc {
            dp: 3,
            dr: 3 * big - 9,
            class: 0,
            from: 0,
            to: 1,
        };
        assert_eq!(slope_key(&a) + 1, slope_key(&b));
        assert_eq!(b.order(&a), Ordering::Less);
        assert_sorts_exactly(vec![b, a]);
    }

    proptest::proptest! {
        /// Near-equal slopes with reaches beyond 2^53 (rounded as floats): the sort is still
        /// the exact order.
        #[test]
        fn increments_sort_as_the_exact_order(
            slope in 1u64 << 20..1 << 28,
            raw in proptest::collection::vec((1u32..1 << 30, -2_000i64..2_000), 65..300),
        ) {
            let mut incs: Vec<Inc> = raw
                .iter()
                .enumerate()
                .map(|(i, &(dp, noise))| Inc {
                    dp,
                    dr: (slope * u64::from(dp)).saturating_add_signed(noise).max(1),
                    class: i as u32,
                    from: 0,
                    to: 1,
                })
                .collect();
            let mut expected = incs.clone();
            expected.sort_by(Inc::order);
            sort_increments(&mut incs);
            let key = |i: &Inc| (i.class, i.dp, i.dr);
            proptest::prop_assert_eq!(
                incs.iter().map(key).collect::<Vec<_>>(),
                expected.iter().map(key).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn increments_sort_exactly_even_where_floats_tie() {
        // Slopes 2^53+1 / 1 and 2^53 / 1 round to the same float; exact order must still win.
        let big = 1u64 << 53;
        let mut incs: Vec<Inc> = (0..100u32)
            .map(|i| Inc {
                dp: 1,
                dr: big + u64::from(i % 2),
                class: i,
                from: 0,
                to: 1,
            })
            .collect();
        sort_increments(&mut incs);
        assert!(incs.windows(2).all(|w| w[0].order(&w[1]) == Ordering::Less));
        assert!(incs[..50].iter().all(|i| i.dr == big + 1));
    }
}

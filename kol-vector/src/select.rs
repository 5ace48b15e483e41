//! Bounded top-k selection by `(distance, id)`: the k best media, or the k best distinct KOLs
//! (each represented by its best media), plus the candidate sets of scans that only know each
//! distance up to a proven error bound.

use std::cmp::Ordering;
use std::collections::HashMap;

/// One kept row: its sort key, the group it counts for (media id or KOL id), its media id (to
/// break ties inside a group) and its row number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    pub(crate) key: f64,
    pub(crate) group: i64,
    pub(crate) media: i64,
    pub(crate) row: usize,
}

impl Slot {
    /// Order between groups: by key, then by group id.
    #[inline]
    fn cmp_rank(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.group.cmp(&other.group))
    }

    /// Order inside a group: by key, then by media id.
    #[inline]
    fn better_in_group(&self, other: &Self) -> bool {
        self.key
            .total_cmp(&other.key)
            .then(self.media.cmp(&other.media))
            .is_lt()
    }
}

/// The `k` best distinct groups seen so far, each with its best row.
///
/// A binary max-heap (worst kept group at the root) with, when groups can repeat (KOL-level
/// search), a map from group to heap position so a better row of a kept KOL updates it in place.
/// Memory is `O(k)`; a row that cannot enter costs one comparison (see [`TopGroups::threshold`]).
#[derive(Debug)]
pub(crate) struct TopGroups {
    k: usize,
    heap: Vec<Slot>,
    positions: Option<HashMap<i64, usize>>,
}

impl TopGroups {
    /// Keeps `k` groups; `groups_repeat` is `false` when every row is its own group (media-level
    /// search), which skips the group map.
    pub(crate) fn new(k: usize, groups_repeat: bool) -> Self {
        let cap = k.min(4096);
        Self {
            k,
            heap: Vec::with_capacity(cap),
            positions: groups_repeat.then(|| HashMap::with_capacity(cap)),
        }
    }

    /// Rows with a key above this cannot enter; rows at or below it might (ties are decided by
    /// id in [`TopGroups::offer`]). Infinite until `k` groups are kept.
    #[inline]
    pub(crate) fn threshold(&self) -> f64 {
        if self.heap.len() < self.k {
            f64::INFINITY
        } else {
            self.heap[0].key
        }
    }

    /// Number of groups kept.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Offers a row; keeps it if its group is among the `k` best so far.
    pub(crate) fn offer(&mut self, slot: Slot) {
        if let Some(positions) = &self.positions {
            if let Some(&p) = positions.get(&slot.group) {
                if slot.better_in_group(&self.heap[p]) {
                    self.heap[p] = slot;
                    self.sift_down(p);
                }
                return;
            }
        }
        if self.heap.len() < self.k {
            self.heap.push(slot);
            let last = self.heap.len() - 1;
            self.set_position(last);
            self.sift_up(last);
        } else if self.k > 0 && slot.cmp_rank(&self.heap[0]).is_lt() {
            let evicted = self.heap[0].group;
            if let Some(positions) = &mut self.positions {
                positions.remove(&evicted);
            }
            self.heap[0] = slot;
            self.set_position(0);
            self.sift_down(0);
        }
    }

    /// The kept rows, best first.
    pub(crate) fn into_sorted(self) -> Vec<Slot> {
        let mut slots = self.heap;
        slots.sort_unstable_by(Slot::cmp_rank);
        slots
    }

    #[inline]
    fn set_position(&mut self, index: usize) {
        if let Some(positions) = &mut self.positions {
            positions.insert(self.heap[index].group, index);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.set_position(a);
        self.set_position(b);
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[i].cmp_rank(&self.heap[parent]).is_gt() {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut largest = i;
            if l < n && self.heap[l].cmp_rank(&self.heap[largest]).is_gt() {
                largest = l;
            }
            if r < n && self.heap[r].cmp_rank(&self.heap[largest]).is_gt() {
                largest = r;
            }
            if largest == i {
                break;
            }
            self.swap(i, largest);
            i = largest;
        }
    }
}

/// Rows that might belong to the result of a scan whose distances are only known within a
/// bound: each with a lower bound of its key. Rows whose lower bound exceeds the current
/// threshold are dropped as the threshold falls, so the set stays small.
#[derive(Debug)]
pub(crate) struct Candidates {
    items: Vec<(f64, usize)>,
    limit: usize,
}

impl Candidates {
    pub(crate) fn new(k: usize) -> Self {
        let limit = k.saturating_mul(8).clamp(64, 1 << 16);
        Self {
            items: Vec::with_capacity(limit.min(1024)),
            limit,
        }
    }

    /// Adds a row with lower bound `lower`; `threshold` is the current upper-bound threshold.
    #[inline]
    pub(crate) fn push(&mut self, lower: f64, row: usize, threshold: f64) {
        self.items.push((lower, row));
        if self.items.len() >= self.limit {
            self.items.retain(|&(l, _)| l <= threshold);
            // Many rows really are that close: grow, so pruning stays amortized O(1) per row.
            if self.items.len() > self.limit / 2 {
                self.limit = self.limit.saturating_mul(2);
            }
        }
    }

    /// The rows whose lower bound is at most `threshold`.
    pub(crate) fn into_rows(self, threshold: f64) -> impl Iterator<Item = usize> {
        self.items
            .into_iter()
            .filter(move |&(l, _)| l <= threshold)
            .map(|(_, row)| row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(key: f64, group: i64, media: i64) -> Slot {
        Slot {
            key,
            group,
            media,
            row: media as usize,
        }
    }

    fn keys(t: TopGroups) -> Vec<(f64, i64, i64)> {
        t.into_sorted()
            .into_iter()
            .map(|s| (s.key, s.group, s.media))
            .collect()
    }

    #[test]
    fn keeps_the_k_smallest_with_ties_by_group() {
        let mut t = TopGroups::new(3, false);
        for (i, key) in [5.0, 1.0, 3.0, 3.0, 0.5, 3.0, 9.0].into_iter().enumerate() {
            t.offer(slot(key, 10 - i as i64, i as i64));
        }
        // Keys 0.5, 1.0, then the three 3.0 (groups 8, 7, 5): the smallest group id wins.
        assert_eq!(keys(t), vec![(0.5, 6, 4), (1.0, 9, 1), (3.0, 5, 5)]);
    }

    #[test]
    fn a_group_counts_once_with_its_best_row() {
        let mut t = TopGroups::new(2, true);
        t.offer(slot(4.0, 1, 10));
        t.offer(slot(2.0, 1, 11));
        t.offer(slot(2.0, 1, 9)); // same key, smaller media id: represents the group
        t.offer(slot(3.0, 2, 12));
        t.offer(slot(5.0, 3, 13)); // worse than both kept groups
        t.offer(slot(1.0, 2, 14)); // improves group 2 in place
        assert_eq!(t.threshold(), 2.0);
        t.offer(slot(1.5, 3, 15)); // evicts group 1
        assert_eq!(keys(t), vec![(1.0, 2, 14), (1.5, 3, 15)]);
    }

    #[test]
    fn an_evicted_group_can_come_back() {
        let mut t = TopGroups::new(1, true);
        t.offer(slot(2.0, 1, 1));
        t.offer(slot(1.0, 2, 2));
        t.offer(slot(0.5, 1, 3));
        assert_eq!(keys(t), vec![(0.5, 1, 3)]);
    }

    #[test]
    fn candidates_prune_by_threshold() {
        let mut c = Candidates::new(1);
        for i in 0..1000 {
            c.push(i as f64, i, 10.0);
        }
        let rows: Vec<usize> = c.into_rows(10.0).collect();
        assert_eq!(rows, (0..=10).collect::<Vec<_>>());
    }
}

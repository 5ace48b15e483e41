//! Which KOLs a search may return: a caller's predicate or id set, applied during the scan.
//!
//! A filter is consulted only for rows close enough to enter the current top-k, and a row that
//! fails it never takes a place in the result, so a filtered top-k returns `k` results whenever
//! at least `k` rows (or KOLs) pass, for exact and IVF search alike.

use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasher;

use kol_core::KolId;

/// Decides, by id, whether rows of a KOL may appear in a result.
///
/// kol-core's `KolFilter` (platforms, countries, followers...) describes creators by their
/// attributes; this matrix knows only ids, so a caller turns such a filter into an id set or a
/// closure over its catalogue (`|id| catalogue[&id].matches(...)`).
///
/// Implemented for closures `Fn(KolId) -> bool`, for `HashSet<KolId>` and `BTreeSet<KolId>`
/// (allow-lists), for [`AnyKol`] (no filter) and [`ExceptKols`] (a deny-list).
/// It must be a pure function of the id during one search.
pub trait KolIdFilter {
    /// `true` when rows of `kol` may be returned.
    fn accepts(&self, kol: KolId) -> bool;
}

/// Accepts every KOL (no filter).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnyKol;

impl KolIdFilter for AnyKol {
    #[inline]
    fn accepts(&self, _kol: KolId) -> bool {
        true
    }
}

/// Accepts every KOL except those of a set (for example, creators already contacted).
#[derive(Debug, Clone, Copy)]
pub struct ExceptKols<'a, S>(pub &'a S);

impl<S: KolIdFilter> KolIdFilter for ExceptKols<'_, S> {
    #[inline]
    fn accepts(&self, kol: KolId) -> bool {
        !self.0.accepts(kol)
    }
}

impl<F: Fn(KolId) -> bool> KolIdFilter for F {
    #[inline]
    fn accepts(&self, kol: KolId) -> bool {
        self(kol)
    }
}

impl<S: BuildHasher> KolIdFilter for HashSet<KolId, S> {
    #[inline]
    fn accepts(&self, kol: KolId) -> bool {
        self.contains(&kol)
    }
}

impl KolIdFilter for BTreeSet<KolId> {
    #[inline]
    fn accepts(&self, kol: KolId) -> bool {
        self.contains(&kol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(filter: &impl KolIdFilter, expected: [bool; 3]) {
        let got = [1, 2, 3].map(|i| filter.accepts(KolId(i)));
        assert_eq!(got, expected);
    }

    #[test]
    fn filters() {
        let set: HashSet<KolId> = [KolId(1), KolId(3)].into();
        let tree: BTreeSet<KolId> = [KolId(2)].into();
        check(&AnyKol, [true, true, true]);
        check(&set, [true, false, true]);
        check(&tree, [false, true, false]);
        check(&ExceptKols(&set), [false, true, false]);
        check(&|k: KolId| k.get() >= 2, [false, true, true]);
    }
}

#!/usr/bin/env python3
"""Unit tests of the CI checks in this folder, on made-up inputs (no cargo, no network).

Run: python3 -m unittest discover -s .ci -p 'test_*.py'
"""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import check_rust_version as crv  # noqa: E402


def package(name, rust_version=None, edition="2021", publish=None):
    return {"id": f"{name}-id", "name": name, "version": "1.0.0", "rust_version": rust_version,
            "edition": edition, "publish": publish}


def edge(name, *kinds):
    return {"pkg": f"{name}-id", "dep_kinds": [{"kind": k} for k in kinds]}


def metadata(packages, edges, members):
    return {
        "packages": packages,
        "workspace_members": [f"{m}-id" for m in members],
        "resolve": {"nodes": [{"id": p["id"], "deps": edges.get(p["name"], [])}
                              for p in packages]},
    }


class RustVersionTest(unittest.TestCase):
    def verdict(self, meta, name):
        return next(v for v in crv.verdicts(meta) if v.name == name)

    def test_versions_compare_without_trailing_zeros(self):
        self.assertEqual(crv.parse_version("1.86"), crv.parse_version("1.86.0"))
        self.assertLess(crv.parse_version("1.85"), crv.parse_version("1.86.0"))
        self.assertLess(crv.parse_version("1.9"), crv.parse_version("1.10"))

    def test_a_transitive_normal_dependency_raises_the_floor(self):
        meta = metadata(
            [package("lib", "1.85", "2024"), package("a", "1.70"), package("b", "1.88")],
            {"lib": [edge("a", None)], "a": [edge("b", None)]},
            ["lib"],
        )
        v = self.verdict(meta, "lib")
        self.assertFalse(v.ok)
        self.assertEqual(v.needed, (1, 88))
        self.assertEqual(v.because, ["lib 1.0.0", "a 1.0.0", "b 1.0.0"])

    def test_build_dependencies_count(self):
        meta = metadata([package("lib", "1.80"), package("cc", "1.81")],
                        {"lib": [edge("cc", "build")]}, ["lib"])
        self.assertFalse(self.verdict(meta, "lib").ok)

    def test_dev_dependencies_count_only_for_unpublished_members(self):
        packages = [package("lib", "1.80"), package("bench", "1.80", publish=[]),
                    package("criterion", "1.86")]
        edges = {"lib": [edge("criterion", "dev")], "bench": [edge("criterion", "dev")]}
        meta = metadata(packages, edges, ["lib", "bench"])
        self.assertTrue(self.verdict(meta, "lib").ok)
        self.assertFalse(self.verdict(meta, "bench").ok)

    def test_dev_dependencies_of_dependencies_are_never_built(self):
        meta = metadata([package("lib", "1.80"), package("a", "1.70"), package("b", "1.90")],
                        {"lib": [edge("a", None)], "a": [edge("b", "dev")]}, ["lib"])
        self.assertTrue(self.verdict(meta, "lib").ok)

    def test_the_edition_sets_a_floor(self):
        meta = metadata([package("lib", "1.84", "2024")], {}, ["lib"])
        v = self.verdict(meta, "lib")
        self.assertFalse(v.ok)
        self.assertEqual(v.needed, (1, 85))

    def test_a_missing_rust_version_fails(self):
        meta = metadata([package("lib", None)], {}, ["lib"])
        self.assertFalse(self.verdict(meta, "lib").ok)

    def test_declaring_more_than_needed_passes(self):
        meta = metadata([package("lib", "1.90"), package("a", "1.70")],
                        {"lib": [edge("a", None)]}, ["lib"])
        self.assertTrue(self.verdict(meta, "lib").ok)


if __name__ == "__main__":
    unittest.main()

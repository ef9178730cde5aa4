"""The case map itself: every catalogue case has tests, and every mapped test exists."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET

from tests.reliability.matrix import PROJECT, load_cases, read_junit, render

CATALOGUE = {"A": 13, "B": 8, "C": 3, "D": 5, "E": 3}  # cases per section of reliability.md


def test_every_catalogue_case_is_mapped_once_with_tests() -> None:
    cases = load_cases()
    ids = [c["id"] for c in cases]
    expected = [f"{s}{i}" for s, n in CATALOGUE.items() for i in range(1, n + 1)]
    assert ids == expected
    for case in cases:
        assert case["tests"], f"{case['id']} has no test"
        assert case["asserts"].strip(), f"{case['id']} says nothing about what is asserted"


def test_every_mapped_test_exists() -> None:
    missing = []
    for case in load_cases():
        for test_id in case["tests"]:
            path, *scope = test_id.split("::")
            source = PROJECT / path
            if not source.exists():
                missing.append(f"{case['id']}: {path} does not exist")
                continue
            tree = ast.parse(source.read_text(encoding="utf-8"))
            names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            if scope[-1] not in names:
                missing.append(f"{case['id']}: no {scope[-1]} in {path}")
    assert not missing, "\n".join(missing)


def test_render_fails_on_a_test_that_did_not_run(tmp_path) -> None:
    cases = [
        {"id": "A1", "case": "c", "tests": ["tests/x/test_a.py::test_ran"], "asserts": "a"},
        {"id": "A2", "case": "d", "tests": ["tests/x/test_a.py::test_absent"], "asserts": "b"},
        {"id": "A3", "case": "e", "tests": [], "asserts": "c"},
    ]
    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase classname="tests.x.test_a" name="test_ran[p]" time="1.5"/>'
        '<testcase classname="tests.x.test_a" name="test_ran[q]" time="1"><skipped message="why"/>'
        "</testcase></testsuite></testsuites>"
    )
    ET.parse(xml)
    page, problems = render(cases, read_junit(xml))
    assert problems == [
        "A2: mapped test tests/x/test_a.py::test_absent did not run",
        "A3 (e): no test mapped",
    ]
    assert "| **A1** c | `x/test_a.py::test_ran` ×2 | passed | 2.5 | a |" in page

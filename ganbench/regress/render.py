"""The stability check's output: a readable table and JUnit XML for CI."""

from __future__ import annotations

from ganbench.metrics.naming import higher_is_better
from ganbench.regress.check import RULE, Result

COLUMNS = ("benchmark", "variant", "metric", "baseline", "now", "tolerance", "verdict")


def render_table(result: Result) -> str:
    """Every check as a fixed-width table, then the rule, reproducibility and the verdict."""
    rows = [COLUMNS] + [(c.benchmark, c.variant, _label(c.metric), c.baseline, c.now, c.tolerance, c.verdict)
                        for c in result.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [c for c in result.checks if c.verdict == "FAIL"]
    same, total = result.identical
    env = ("no baseline to compare with" if not total else
           "environment differs from the baseline: runs are fresh draws, tolerances apply"
           if not result.same_environment else
           "same environment as the baseline (CPU model, torch, numpy, python), so all should be"
           + ("" if same == total else ": the code changed what training computes"))
    lines += ["", RULE, f"reproducibility: {same}/{total} seeds bit-identical to the baseline; {env}.",
              f"suite: {sum(len(e['seeds']) for e in result.entries.values())} runs in {result.seconds:.0f} s"
              + (f"; rerun after a worker crash: {', '.join(result.retried)}" if result.retried else "")]
    lines += [f"FAIL {c.benchmark}/{c.variant} {c.metric}: {c.detail}" for c in failed]
    lines.append(f"result: {'FAIL' if failed else 'PASS'} ({len(result.checks)} checks, {len(failed)} failed)")
    return "\n".join(lines)


def _label(metric: str) -> str:
    better = higher_is_better(metric) if metric != "diverged" else False
    return f"{metric} {'↑' if better else '↓'}"


def junit_xml(result: Result) -> bytes:
    """JUnit XML: one testcase per check (classname stability.<benchmark>.<variant>, name the metric)."""
    import xml.etree.ElementTree as ET

    counts = {"tests": str(len(result.checks)), "failures": str(sum(c.verdict == "FAIL" for c in result.checks)),
              "errors": "0", "skipped": str(sum(c.verdict == "NEW" for c in result.checks)),
              "time": f"{result.seconds:.1f}"}
    suites = ET.Element("testsuites", name="ganbench regress", **counts)
    suite = ET.SubElement(suites, "testsuite", name="stability", **counts)
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"stability.{c.benchmark}.{c.variant}", name=c.metric,
                             time="0")
        summary = f"{c.metric}: baseline {c.baseline}, now {c.now}, tolerance {c.tolerance}"
        if c.verdict == "FAIL":
            ET.SubElement(case, "failure", message=summary, type="StabilityRegression").text = c.detail
        elif c.verdict == "NEW":
            ET.SubElement(case, "skipped", message=c.detail)
        else:
            ET.SubElement(case, "system-out").text = f"{c.verdict}: {summary}. {c.detail}".strip()
    ET.SubElement(suite, "system-out").text = RULE
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"

"""Published numbers to show beside ours, each with its exact source.

Policy: a number goes in only when it was read from the source itself (the
paper's table, or the authors' repository) and the entry names that table.
Numbers remembered, or copied from a third party's re-quote, stay out: a
wrong literature number is worse than none. The numbers live in data files
(``ganbench/report/data/*.toml``), never typed into code.

``pacgan-table1.toml``: PacGAN (Lin, Khetan, Fanti, Oh, NeurIPS 2018,
arXiv:1712.04086), Table 1, read from the table image in the authors'
repository (fjxmlzn/PacGAN, synthetic_data_experiments/results/Table1.png),
with its caption and the setting read from the same repository's code.
Metric keys are ours (``modes``, ``high_quality`` in percent, ``reverse_kl``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

DATA_PACKAGE = "ganbench.report"


@dataclass(frozen=True)
class LiteratureResult:
    """One method's published numbers on one of our datasets."""

    dataset: str                 # our dataset name, e.g. "ring8"
    method: str                  # as the source names it, e.g. "GAN", "PacGAN2"
    source: str                  # citation with table number
    setting: str                 # what differs from our setting (architecture, steps)
    metrics: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    error: str = ""              # what the ± means, e.g. "standard error over 10 trials"
    note: str = ""               # unit conversions and caveats


@dataclass(frozen=True)
class LiteratureTable:
    """One published table as its data file holds it."""

    name: str                    # the data file's stem, e.g. "pacgan-table1"
    source: str
    caption: str                 # verbatim, from the file's header
    trials: int
    spread: str                  # what the second number of each pair is
    cells: dict[str, dict[str, dict[str, tuple[float, float]]]]  # dataset -> method -> metric -> (mean, spread)


#: Benchmarks that train in a published table's own setting: benchmark -> (literature
#: data file, its dataset section). The Reproduction section compares them with it.
REPRODUCED_BY = {"pacgan-ring8": ("pacgan-table1", "ring8"), "pacgan-grid25": ("pacgan-table1", "grid25")}

# What the main ring8 / grid25 benchmarks do differently from PacGAN's Table 1.
PACGAN_SETTING = ("PacGAN's own networks (generator 4 x 400 with batch norm, maxout "
                  "critic 3 x 200 x 5), Adam(1e-4, beta1 0.8), batch 100, 400 epochs of 100,000 packs (m x 100,000 points for PacGANm; 100,000 for GAN); "
                  "ganbench's ring8 / grid25 benchmarks train smaller MLPs under equal FLOP budgets. "
                  "Ours in their setting: the Reproduction section (benchmarks pacgan-ring8 / pacgan-grid25)")


@lru_cache(maxsize=None)
def load_table(name: str) -> LiteratureTable:
    """Read ``data/<name>.toml``: numbers, source and the verbatim caption."""
    text = resources.files(DATA_PACKAGE).joinpath("data", f"{name}.toml").read_text()
    data = tomllib.loads(text)
    comments = " ".join(line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#"))
    match = re.search(r'Caption, verbatim: "(.*?)"', comments)
    cells = {ds: {method: {m: tuple(v) for m, v in metrics.items()} for method, metrics in table.items()}
             for ds, table in data.items() if isinstance(table, dict)}
    return LiteratureTable(name, data["source"], match.group(1) if match else "", data["trials"],
                           data["spread"], cells)


def _pacgan_results() -> tuple[LiteratureResult, ...]:
    table = load_table("pacgan-table1")
    return tuple(
        LiteratureResult(dataset=ds, method=method, source=f"{table.source}, in a different setting",
                         setting=PACGAN_SETTING,
                         metrics=dict(metrics), error=f"{table.spread} over {table.trials} trials",
                         note="high_quality in percent, as ours")
        for ds, methods in table.cells.items() for method, metrics in methods.items())


# Checked entries only (see the module docstring).
RESULTS: tuple[LiteratureResult, ...] = _pacgan_results()

PACGAN_CITATION = ("Lin, Khetan, Fanti, Oh 2018, PacGAN: The power of two samples in "
                   "generative adversarial networks (NeurIPS 2018, arXiv:1712.04086)")

# Datasets for which a literature comparison was sought: shown when no entry
# matches (e.g. a report given its own, empty, results).
SOUGHT = {
    "ring8": f"{PACGAN_CITATION}, Table 1 (ganbench/report/data/pacgan-table1.toml)",
    "grid25": f"{PACGAN_CITATION}, Table 1 (ganbench/report/data/pacgan-table1.toml)",
}


def for_dataset(dataset: str, results=None) -> list[LiteratureResult]:
    """The literature entries for one of our datasets, in source order."""
    return [r for r in (RESULTS if results is None else results) if r.dataset == dataset]

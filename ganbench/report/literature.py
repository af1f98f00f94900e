"""Published numbers to show beside ours, each with its exact source.

Policy: a number goes in only when it was read from the source itself (the
paper's table, or the authors' repository) and the entry names that table.
Numbers remembered, or copied from a third party's re-quote, stay out: a
wrong literature number is worse than none.

Values use the units of our metric keys (see ``ganbench.metrics``); say so in
``note`` when the source reports another unit (e.g. percent).

Status (issue 5): the target was PacGAN (Lin, Khetan, Fanti, Oh, "PacGAN: The
power of two samples in generative adversarial networks", NeurIPS 2018,
arXiv:1712.04086), the 2-D grid/ring table (modes, % high-quality samples,
reverse KL). Its table is only an image in the authors' repository
(fjxmlzn/PacGAN, synthetic_data_experiments/results/Table1.png) and the
paper's text was not readable from the development machines, so no value
could be checked and ``RESULTS`` is empty. Add entries here once checked
against the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


# Checked entries only (see the module docstring). Empty: nothing verified yet.
RESULTS: tuple[LiteratureResult, ...] = ()

PACGAN_CITATION = ("Lin, Khetan, Fanti, Oh 2018, PacGAN: The power of two samples in "
                   "generative adversarial networks (NeurIPS 2018, arXiv:1712.04086)")

# Datasets for which a literature comparison was sought, and why it is absent.
SOUGHT = {
    "ring8": f"{PACGAN_CITATION}, 2-D table: numbers not yet verified against the paper",
    "grid25": f"{PACGAN_CITATION}, 2-D table: numbers not yet verified against the paper",
}


def for_dataset(dataset: str, results=None) -> list[LiteratureResult]:
    """The literature entries for one of our datasets, in source order."""
    return [r for r in (RESULTS if results is None else results) if r.dataset == dataset]

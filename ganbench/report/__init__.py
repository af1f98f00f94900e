"""Result tables and figures: a pure function of the run records.

Entry point: :func:`write_report`. ``ganbench report`` (``ganbench.cli.report``)
is a thin wrapper around it.

The names below load on first use (PEP 562): importing the package, or its light
:mod:`.formats`, does not import pandas, matplotlib or seaborn.
"""

from __future__ import annotations

from ganbench.core.lazy import lazy_getattr

# Eager, and light: ``ganbench.report.select`` is also a submodule, whose import would
# rebind the package attribute to the module if the function were resolved lazily.
from .select import select

_LAZY = {
    **dict.fromkeys(("NoRecordsError", "Records", "RecordWarning", "load_records"), "ganbench.report.load"),
    "FORMATS": "ganbench.report.formats",
    "write_report": "ganbench.report.write",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


__all__ = ["FORMATS", "NoRecordsError", "RecordWarning", "Records", "load_records",
           "select", "write_report"]

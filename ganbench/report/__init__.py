"""Result tables and figures: a pure function of the run records.

Entry point: :func:`write_report`. ``ganbench report`` (``ganbench.cli.report``)
is a thin wrapper around it.
"""

from .load import NoRecordsError, Records, RecordWarning, load_records
from .select import select
from .write import FORMATS, write_report

__all__ = ["FORMATS", "NoRecordsError", "RecordWarning", "Records", "load_records",
           "select", "write_report"]

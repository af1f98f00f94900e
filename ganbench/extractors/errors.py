"""The error type of the metrics layer (``ganbench.metrics`` and ``ganbench.extractors``).

It lives here, in the lower of the two packages, so that extractors can raise it
without importing ``ganbench.metrics`` (which imports the extractors).
"""

from ganbench.core.errors import GanbenchError


class MetricError(GanbenchError, ValueError):
    """Bad input to a metric or extractor: the message names the problem and the fix.

    A ``ValueError`` for callers that catch those, and a ``GanbenchError`` so the
    CLI prints it without a traceback.
    """

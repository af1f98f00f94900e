"""The one exception family users see: every message names the problem and the fix."""


class GanbenchError(Exception):
    """Base class for errors caused by user input or environment, not by a bug.

    The CLI prints these without a traceback; anything else is a bug.
    """


class UnknownNameError(GanbenchError, KeyError):
    """A variant, dataset, benchmark or extractor name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ConfigError(GanbenchError, ValueError):
    """A malformed benchmark file, budget string or option value."""


class DatasetError(GanbenchError):
    """Missing, truncated or corrupt dataset files."""


class ForeignRecordError(GanbenchError):
    """A run record this ganbench cannot use (another schema version, not a JSON
    object, required keys missing): never overwritten without --force."""


class CheckpointError(GanbenchError):
    """A checkpoint that cannot be loaded safely."""


class GanbenchWarning(UserWarning):
    """Input that works but does less than it seems to ask (e.g. a budget whose snapshots repeat).

    The CLI prints these as ``warning: ...``.
    """

"""Storage-level failures.  None of these reach a client as such: the broker
turns them into ``InternalFailure`` (or refuses to start)."""


class StorageError(Exception):
    """The store could not do what was asked."""


class DataDirLocked(StorageError):
    """Another process holds the data directory."""

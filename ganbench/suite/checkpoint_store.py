"""``--checkpoint-dir``: where a cluster run's checkpoints outlive its node.

A Ray worker trains in node-local scratch; after each checkpoint it copies the
last two checkpoints and any new generator snapshots (evaluation needs them, and a
resumed run does not retake them) to ``ROOT/<benchmark>/<variant>/seed<k>/``.
A retried run, on whichever node, first pulls them back into its scratch and
resumes. ROOT is a path (shared storage mounted on every node) or, with the
``fsspec`` extra installed, a URL such as ``s3://bucket/ganbench``. Use one
ROOT per results directory: runs are keyed by benchmark, variant and seed.
"""

from __future__ import annotations

from pathlib import Path

from ganbench.core.errors import ConfigError
from ganbench.core.io import atomic_write_bytes
from ganbench.training.checkpoint import LATEST, PREVIOUS


class CheckpointStore:
    """The stored files of one run: checkpoint and snapshots, pulled and pushed whole."""

    def __init__(self, root: str, run_id: str):
        self.url = "://" in str(root)
        if self.url:
            try:
                import fsspec
            except ImportError:
                raise ConfigError(f"--checkpoint-dir {root} is a URL: pip install 'ganbench[fsspec]' "
                                  "(and the filesystem's own package, e.g. s3fs), or give a path") from None
            self.fs, base = fsspec.core.url_to_fs(str(root))
            self.root = f"{base.rstrip('/')}/{run_id}"
        else:
            self.root = str(Path(root) / run_id)
        self.pushed: set[str] = set()

    def names(self) -> list[str]:
        """Stored files, relative to the run's directory."""
        if self.url:
            return [p[len(self.root) + 1:] for p in self.fs.find(self.root)] if self.fs.exists(self.root) else []
        root = Path(self.root)
        return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.endswith(".tmp")]

    def pull(self, run_dir: Path) -> bool:
        """Copy the stored files into ``run_dir``; True when a checkpoint was among them."""
        names = self.names()
        for name in names:
            data = self.fs.cat_file(f"{self.root}/{name}") if self.url else (Path(self.root) / name).read_bytes()
            atomic_write_bytes(Path(run_dir) / name, data)
        self.pushed.update(n for n in names if n.startswith("snapshots/"))
        return LATEST in names

    def push(self, run_dir: Path) -> None:
        """Store the last two checkpoints and the snapshots not stored yet.

        Each file is written whole (a local temp file and rename; an object
        store's put), so a node dying mid-push leaves the previous checkpoint.
        Snapshots go first: a stored checkpoint's snapshots are always there.
        The previous generation goes too: a seed group's members push one after
        another, and a node lost between two pushes leaves them a step apart;
        with both generations stored they still share a step to resume at, together.
        """
        run_dir = Path(run_dir)
        snapshots = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "snapshots").glob("*.pt"))
        previous = [PREVIOUS] if (run_dir / PREVIOUS).exists() else []
        for name in [s for s in snapshots if s not in self.pushed] + previous + [LATEST]:
            data = (run_dir / name).read_bytes()
            if self.url:
                self.fs.pipe_file(f"{self.root}/{name}", data)
            else:
                atomic_write_bytes(Path(self.root) / name, data)
            self.pushed.add(name)

    def clear(self) -> None:
        """Forget the run (``--force``)."""
        if self.url:
            if self.fs.exists(self.root):
                self.fs.rm(self.root, recursive=True)
        else:
            import shutil

            shutil.rmtree(self.root, ignore_errors=True)
        self.pushed.clear()

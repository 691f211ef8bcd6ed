"""The numba kernel cache (NUMBA_CACHE_DIR): made usable before any kernel is imported, and
reported on after warm-up.

Numba only caches into a directory it can write: given a read-only one (a cache compiled into
a container image, on a read-only root filesystem) every ``cache=True`` kernel fails at import
with "cannot cache function ...: no locator available". A read-only cache is therefore copied
to a fresh writable temporary directory first; kernels then load from the copy instead of
compiling, and any kernel missing from it is compiled and kept there for this process only.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

COLD_MESSAGE = "compiling kernels, first run only (a minute or two)"


def writable(path: Path) -> bool:
    """Whether a file can be created in ``path`` (numba's own test of a cache directory)."""
    try:
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def is_cold(path: Path) -> bool:
    """True when ``path`` holds no compiled kernel at all (no numba index file)."""
    return not any(path.rglob("*.nbi")) if path.is_dir() else True


@dataclass(frozen=True)
class CacheDir:
    """The cache directory numba will use, and the read-only one it was copied from."""

    path: Path
    copied_from: Path | None = None

    def __str__(self) -> str:
        if self.copied_from is None:
            return str(self.path)
        return f"{self.path} (a writable copy of the read-only {self.copied_from})"


def prepare_cache(environ: MutableMapping[str, str] = os.environ) -> CacheDir | None:
    """Point numba at a usable NUMBA_CACHE_DIR; the directory it will use (None: unset).

    Call before importing any kernel module: numba binds a kernel's cache directory when
    the kernel is defined. A missing directory is created; a read-only one is copied to a
    writable temporary directory, and NUMBA_CACHE_DIR is set to the copy.
    """
    configured = environ.get("NUMBA_CACHE_DIR")
    if not configured:
        return None
    path = Path(configured)
    with contextlib.suppress(OSError):  # read-only: copied below
        path.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and writable(path):
        return CacheDir(path)
    try:
        copy = Path(tempfile.mkdtemp(prefix="numba-cache-"))
    except OSError as exc:
        raise SystemExit(
            f"NUMBA_CACHE_DIR {path} is read-only and no writable temporary directory exists "
            f"to copy it to ({exc}); mount a writable /tmp (TMPDIR)"
        ) from exc
    for source in sorted(path.rglob("*")) if path.is_dir() else []:
        target = copy / source.relative_to(path)
        if source.is_dir():
            target.mkdir(exist_ok=True)
        else:
            shutil.copyfile(source, target)  # contents only: the copy stays writable
    environ["NUMBA_CACHE_DIR"] = str(copy)
    if "numba" in sys.modules:
        from numba.core import config

        config.reload_config()
    return CacheDir(copy, copied_from=path)


@dataclass(frozen=True)
class KernelCount:
    """How the kernels used so far got their machine code."""

    compiled: int  # compiled in this process (not found in the cache)
    loaded: int  # loaded from the cache

    def __str__(self) -> str:
        return f"{self.compiled} compiled, {self.loaded} loaded from the cache"


def dispatchers(modules: Iterable[ModuleType]) -> Iterator[Any]:
    """Every numba dispatcher defined at module level in ``modules``."""
    from numba.core.registry import CPUDispatcher

    for module in modules:
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher) and value.py_func.__module__ == module.__name__:
                yield value


def standalone_kernels(package: ModuleType) -> list[Any]:
    """Every kernel defined under ``package`` (all its modules imported) that is compiled on
    its own; ``inline="always"`` kernels are compiled only into their callers."""
    names = [m.name for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
    modules = (importlib.import_module(n) for n in names if not n.endswith("__main__"))
    return [k for k in dispatchers(modules) if k.targetoptions.get("inline") != "always"]


def loaded_modules(prefix: str = "services.") -> Iterator[ModuleType]:
    """The imported modules whose name starts with ``prefix``."""
    return (m for name, m in list(sys.modules.items()) if name.startswith(prefix) and m)


def count_kernels(prefix: str = "services.") -> KernelCount:
    """Compiled vs cache-loaded signatures over every dispatcher of the imported modules."""
    compiled = loaded = 0
    for dispatcher in dispatchers(loaded_modules(prefix)):
        stats = dispatcher.stats
        loaded += sum(stats.cache_hits.values())
        compiled += sum(stats.cache_misses.values())
    return KernelCount(compiled, loaded)

"""services.common.jitcache makes a read-only kernel cache usable (the warm-ups themselves are
checked by tests/integration/test_warm_starts.py, which compiles a cache as the image does)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from services.common.jitcache import is_cold, prepare_cache
from tests.unprivileged import unprivileged


def _tree(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _read_only(*paths: Path) -> None:
    for top in paths:
        for p in [top, *top.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)


def test_read_only_cache_is_copied_to_a_writable_directory(tmp_path: Path) -> None:
    cache = tmp_path / "image-cache"
    (cache / "sub").mkdir(parents=True)
    (cache / "sub" / "k.nbi").write_bytes(b"index")
    (cache / "sub" / "k.nbc").write_bytes(b"code")
    _read_only(cache)
    (tmp_path / "tmp").mkdir()
    script = (
        "import json, os; from services.common.jitcache import prepare_cache; c = prepare_cache();"
        "print(json.dumps([str(c.path), str(c.copied_from), os.environ['NUMBA_CACHE_DIR']]))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "TMPDIR": str(tmp_path / "tmp")}
    out = subprocess.run(
        unprivileged([sys.executable, "-c", script]), env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    path, copied_from, configured = json.loads(out.stdout)
    assert copied_from == str(cache) and configured == path
    assert Path(path).parent == tmp_path / "tmp"
    assert _tree(Path(path)) == _tree(cache) and not is_cold(Path(path))
    assert all(os.stat(p).st_mode & stat.S_IWUSR for p in Path(path).rglob("*"))


def test_writable_or_missing_cache_is_used_in_place(tmp_path: Path) -> None:
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "new")}
    chosen = prepare_cache(env)
    assert chosen is not None and chosen.path == tmp_path / "new" and chosen.copied_from is None
    assert env["NUMBA_CACHE_DIR"] == str(tmp_path / "new") and is_cold(chosen.path)
    assert prepare_cache({}) is None


def test_numba_refuses_a_read_only_cache_without_the_copy(tmp_path: Path) -> None:
    """Why prepare_cache exists: numba caches only where it can write."""
    code, cache, home = tmp_path / "code", tmp_path / "cache", tmp_path / "home"
    for p in (code, cache, home):
        p.mkdir()
    (code / "kern.py").write_text(
        "from numba import njit\n@njit(cache=True)\ndef f(x):\n    return x + 1\n"
    )
    _read_only(code, cache, home)
    script = f"import sys; sys.path.insert(0, {str(code)!r}); import kern; print(kern.f(1))"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "HOME": str(home)}
    out = subprocess.run(
        unprivileged([sys.executable, "-c", script]), env=env, capture_output=True, text=True
    )
    assert out.returncode != 0 and "no locator available" in out.stderr, out.stderr[-2000:]

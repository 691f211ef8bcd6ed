"""Run a command without the power to write read-only files, even when the tests run as root
(CI does): root ignores permission bits, so the command runs in a fresh user namespace
(``unshare --user``), where it keeps its uid for reading but loses DAC override."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache

import pytest


@cache
def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "--user", "true"]).returncode == 0


def unprivileged(command: list[str]) -> list[str]:
    """``command``, wrapped so that permission bits bind it; skips the test where impossible."""
    if os.geteuid() != 0:
        return command
    if not _unshare_works():
        pytest.skip("running as root without user namespaces: cannot honour read-only files")
    return ["unshare", "--user", *command]

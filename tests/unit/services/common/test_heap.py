"""freeze_startup_heap: start-up objects leave what full collections walk; later garbage
does not. Run in a fresh interpreter so this test process's heap is left as it is."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_frozen_objects_are_not_walked_and_later_cycles_are_still_collected() -> None:
    script = textwrap.dedent(
        """
        import gc, weakref
        from services.common.heap import freeze_startup_heap

        class Node:
            def __init__(self):
                self.me = self

        startup = [Node() for _ in range(50_000)]
        before = len(gc.get_objects())
        frozen = freeze_startup_heap()
        after = len(gc.get_objects())
        assert frozen >= 50_000 and after < before - 50_000, (frozen, before, after)
        assert all(id(o) != id(startup) for o in gc.get_objects())
        later = Node()
        gone = weakref.ref(later)
        del later
        assert gc.collect() >= 1 and gone() is None
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr

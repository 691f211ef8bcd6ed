"""Seeds the server draws for requests that gave none (reported back to the client)."""

from __future__ import annotations

import secrets

# Below 2**53, so clients in any language (JavaScript numbers included) round-trip them.
SEED_BITS = 53


def draw_seed() -> int:
    """A fresh seed from the OS's entropy."""
    return secrets.randbits(SEED_BITS)

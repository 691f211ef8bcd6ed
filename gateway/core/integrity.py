"""Authenticated cache values: an HMAC-SHA256 tag bound to the value and the key it sits under.

``sign(secret, data, context)`` returns ``tag || data``; ``verify(secret, blob, context)``
returns ``data`` when the tag is right, else None. ``context`` is the cache key, so a valid
value copied under another key does not verify either. Whoever can write Redis but does not
hold the secret (ZUHUR_GATEWAY_CACHE_HMAC_KEY) cannot forge a result.
"""

from __future__ import annotations

import hashlib
import hmac

TAG_BYTES = hashlib.sha256().digest_size


def _tag(secret: bytes, data: bytes, context: bytes) -> bytes:
    mac = hmac.new(secret, context, hashlib.sha256)
    mac.update(b"\0")
    mac.update(data)
    return mac.digest()


def sign(secret: bytes, data: bytes, context: bytes = b"") -> bytes:
    """``data`` prefixed by its tag."""
    return _tag(secret, data, context) + data


def verify(secret: bytes, blob: bytes, context: bytes = b"") -> bytes | None:
    """The data of a signed ``blob``, or None when the tag does not match (constant time)."""
    tag, data = blob[:TAG_BYTES], blob[TAG_BYTES:]
    if len(tag) != TAG_BYTES or not hmac.compare_digest(tag, _tag(secret, data, context)):
        return None
    return data

"""Sealed ballots: how a secret poll's ballot box holds what was cast while it is open.

The voter register and the ballot are written in one transaction, so that a ballot is
never counted without its voter signing, nor a signature kept without its ballot. That
transaction leaves traces in the database's files that no table shows: on SQLite the
place of a record in its page and the order of the WAL's frames, on PostgreSQL the
transaction id (``xmin``) shared by the two rows, their place in the heap (``ctid``),
dead row versions and the WAL. Anyone with a copy of the files could pair each
register row with the ballot written beside it.

So while a poll is open its ballots are stored sealed: the ballot's canonical content
and the voter's receipt code, padded to one size for the whole poll (its length says
nothing of what was chosen), encrypted with AES-256-GCM under a key derived from the
server's secret key, which the database does not hold. Whatever the files keep of the
moment a ballot was written leads to bytes nobody can read without that key.

When the poll closes, in one transaction, the sealed ballots are opened and deleted,
and the ballots are written in the order of their content, each with a new random id,
and the receipts apart from them, in the order of their codes: the rows that last say
nothing of who cast them, nor when, nor in which order.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cocreate.voting import canonical

FORMAT = b"\x01"  # the first byte of a sealed ballot: how the rest is laid out
NONCE_BYTES = 12  # AES-GCM's standard nonce, random for each ballot
KEY_INFO = b"cocreate sealed ballots v1"  # separates this key from the cookies' one
# What surrounds the content in the sealed text: {"ballot":…,"receipt":"…"}.
_FRAME = len(b'{"ballot":,"receipt":""}')


class Unreadable(Exception):
    """A sealed ballot that this key does not open: sealed with another secret key, or
    changed in the database."""


def sealed_size(*, capacity: int, receipt_chars: int) -> int:
    """Bytes of every sealed ballot of a poll whose ballots take at most ``capacity``
    bytes (``voting.max_ballot_bytes``)."""
    return len(FORMAT) + NONCE_BYTES + _FRAME + capacity + receipt_chars + 16  # GCM's tag


class BallotSeal:
    """Seals and opens secret ballots with a key derived from the server's secret key."""

    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
            secret_key.encode()
        )
        self._aead = AESGCM(key)

    @staticmethod
    def _poll(poll_id: int) -> bytes:
        # Authenticated with the ballot: a sealed ballot moved to another poll won't open.
        return f"cocreate poll {poll_id}".encode()

    def seal(self, *, poll_id: int, capacity: int, content: str, receipt: str) -> bytes:
        """``content`` (a ballot's canonical JSON text) and ``receipt``, sealed. Every
        ballot of a poll is padded to ``capacity``: a larger one is a bug, never sent."""
        text = ('{"ballot":' + content + ',"receipt":' + json.dumps(receipt) + "}").encode()
        width = _FRAME + capacity + len(receipt)
        if len(text) > width:
            raise ValueError(f"a ballot of {len(text)} bytes is over its poll's {width}")
        nonce = secrets.token_bytes(NONCE_BYTES)
        padded = text + b" " * (width - len(text))  # JSON ignores trailing spaces
        return FORMAT + nonce + self._aead.encrypt(nonce, padded, self._poll(poll_id))

    def open(self, *, poll_id: int, sealed: bytes) -> tuple[str, str]:
        """The content (canonical JSON text) and the receipt of a sealed ballot."""
        if sealed[:1] != FORMAT or len(sealed) < len(FORMAT) + NONCE_BYTES:
            raise Unreadable("not a sealed ballot")
        nonce = sealed[1 : 1 + NONCE_BYTES]
        try:
            text = self._aead.decrypt(nonce, sealed[1 + NONCE_BYTES :], self._poll(poll_id))
        except InvalidTag:
            raise Unreadable("this key does not open it") from None
        opened = json.loads(text)
        return canonical(opened["ballot"]), str(opened["receipt"])

    def open_all(self, *, poll_id: int, sealed: Iterable[bytes]) -> list[tuple[str, str]]:
        return [self.open(poll_id=poll_id, sealed=s) for s in sealed]

"""Ciphers of push payloads: AES-256-GCM with a key shared with LEX."""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any, Protocol, runtime_checkable

from ...errors import ValidationError
from .errors import DecryptionError, MissingDependencyError

__all__ = ["AesGcmCipher", "Cipher"]

_MASK = "***"


@runtime_checkable
class Cipher(Protocol):
    """Deciphers a push body. ``decrypt`` returns the plain JSON bytes, or raises
    :class:`DecryptionError` (any ``ValueError`` is taken as one).

    A cipher used by the sandbox's push simulator also has ``encrypt(bytes) -> bytes``.
    """

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext of ``data``."""
        ...


class AesGcmCipher:
    """AES-256-GCM with a key shared with LEX.

    The ciphered body is the base64 (standard alphabet, padded) of
    ``nonce (12 bytes) || ciphertext || tag (16 bytes)``; whitespace around it is ignored.
    A changed byte, a wrong key or a truncated body fails the tag check and is refused
    (:class:`DecryptionError`, answered 401).

    Needs the ``cryptography`` package: ``pip install "shiptrack-sdk[crypto]"``.

    Args:
        key: The 32-byte key (:meth:`from_base64` reads one from text,
            :meth:`generate_key` makes one).
        associated_data: Bytes authenticated with every payload but not sent, when the
            partner agreement defines some.
    """

    NONCE_BYTES = 12
    TAG_BYTES = 16

    def __init__(self, key: bytes, *, associated_data: bytes | None = None) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
            raise ValidationError("key", "must be 32 bytes (AES-256)")
        if associated_data is not None and not isinstance(associated_data, (bytes, bytearray)):
            raise ValidationError("associated_data", "must be bytes or None")
        aead = _aesgcm()
        self._aead = aead(bytes(key))
        self.associated_data = None if associated_data is None else bytes(associated_data)

    @classmethod
    def from_base64(cls, key: str, **kwargs: Any) -> AesGcmCipher:
        """A cipher from a base64-encoded 32-byte key."""
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ValidationError("key", "is not base64") from None
        return cls(raw, **kwargs)

    @staticmethod
    def generate_key() -> bytes:
        """A fresh random 32-byte key."""
        return os.urandom(32)

    def __repr__(self) -> str:
        return f"AesGcmCipher(key={_MASK!r})"

    def encrypt(self, data: bytes) -> bytes:
        """``data`` ciphered with a fresh random nonce, in the format :meth:`decrypt` reads."""
        data = _check_bytes(data, "data")
        nonce = os.urandom(self.NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, self.associated_data)
        return base64.b64encode(nonce + sealed)

    def decrypt(self, data: bytes) -> bytes:
        """The plaintext of ``data``; :class:`DecryptionError` when it does not decipher."""
        from cryptography.exceptions import InvalidTag

        data = _check_bytes(data, "data")
        try:
            raw = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError("the payload is not base64") from None
        if len(raw) < self.NONCE_BYTES + self.TAG_BYTES:
            raise DecryptionError("the payload is too short to be ciphered")
        nonce, sealed = raw[: self.NONCE_BYTES], raw[self.NONCE_BYTES :]
        try:
            plain: bytes = self._aead.decrypt(nonce, sealed, self.associated_data)
            return plain
        except InvalidTag:
            raise DecryptionError("the payload does not decrypt with the shared key") from None


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError as exc:
        raise MissingDependencyError(
            "AesGcmCipher needs the 'cryptography' package: pip install \"shiptrack-sdk[crypto]\""
        ) from exc
    return AESGCM


def _check_bytes(data: Any, argument: str) -> bytes:
    if isinstance(data, bytearray):
        return bytes(data)
    if not isinstance(data, bytes):
        raise ValidationError(argument, f"expected bytes, got {type(data).__name__}")
    return data

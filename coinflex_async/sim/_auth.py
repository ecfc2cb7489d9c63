"""Request authentication as the exchange does it: the docs' HMAC-SHA256 signature over what
arrived, a fresh timestamp and a nonce never seen before."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from ._accounts import Account
from ._clock import Clock
from ._errors import SimError

__all__ = ["Authenticator", "NonceRegistry", "parse_timestamp", "signature_for"]


def signature_for(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch from ``YYYY-MM-DDThh:mm:ss[.ffffff]`` (UTC unless it names a
    zone) or from a millisecond epoch integer; None if it is neither."""
    text = text.strip()
    if text.isdigit() and text.isascii():
        return int(text) / 1000
    if len(text) < 19:  # a date alone is not a timestamp
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class NonceRegistry:
    """Remembers each (key, nonce) pair for ``window`` seconds.

    Nonces need not increase (requests race each other over several connections); they only
    must not repeat. A replay older than the window is refused by its stale timestamp anyway.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[tuple[str, str], float] = {}
        self._arrivals: deque[tuple[float, tuple[str, str]]] = deque()

    def __len__(self) -> int:
        return len(self._seen)

    def use(self, key: str, nonce: str, now: float) -> bool:
        """Record the pair; False if it was already used."""
        self._forget_before(now - self.window)
        pair = (key, nonce)
        if pair in self._seen:
            return False
        self._seen[pair] = now
        self._arrivals.append((now, pair))
        return True

    def _forget_before(self, limit: float) -> None:
        arrivals = self._arrivals
        while arrivals and arrivals[0][0] < limit:
            seen_at, pair = arrivals.popleft()
            if self._seen.get(pair) == seen_at:
                del self._seen[pair]


class Authenticator:
    def __init__(
        self,
        find_account: Callable[[str], Account | None],
        clock: Clock,
        tolerance: float,
    ) -> None:
        self._find_account = find_account
        self._clock = clock
        self.tolerance = tolerance
        # A request is accepted only within `tolerance` of its timestamp, so a replay can
        # arrive at most 2 x tolerance after the original.
        self.nonces = NonceRegistry(2 * tolerance)

    def verify(
        self,
        *,
        method: str,
        host: str,
        raw_path: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> Account:
        """The account the request is signed for, or SimError with status 401."""
        key = headers.get("AccessKey")
        if not key:
            raise SimError("20025", "API key is missing", 401)
        account = self._find_account(key)
        if account is None or account.api_secret is None:
            raise SimError("20025", "API key is invalid", 401)
        timestamp = headers.get("Timestamp")
        if not timestamp:
            raise SimError("20023", "Timestamp is missing", 401)
        sent_at = parse_timestamp(timestamp)
        if sent_at is None:
            raise SimError("20023", "Timestamp is not in the format YYYY-MM-DDThh:mm:ss", 401)
        now = self._clock()
        if abs(now - sent_at) > self.tolerance:
            raise SimError(
                "20024", f"Timestamp is outside the threshold of {self.tolerance:g} seconds", 401
            )
        nonce = headers.get("Nonce")
        if not nonce:
            raise SimError("20000", "Nonce is missing", 401)
        signature = headers.get("Signature")
        if not signature:
            raise SimError("20000", "Signature is missing", 401)
        path, _, query = raw_path.partition("?")
        try:
            signed_body = body.decode() if body else query
        except UnicodeDecodeError:
            raise SimError("20000", "Signature is invalid", 401) from None
        message = f"{timestamp}\n{nonce}\n{method}\n{host}\n{path}\n{signed_body}"
        expected = signature_for(account.api_secret, message)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise SimError("20000", "Signature is invalid", 401)
        if not self.nonces.use(key, nonce, now):
            raise SimError("20000", "Nonce has already been used (nonce reused)", 401)
        return account

"""Request authentication as the exchange does it: the docs' HMAC-SHA256 signature over what
arrived, a fresh timestamp, and no replay of a request already accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from ._accounts import Account
from ._clock import Clock
from ._errors import SimError

__all__ = ["Authenticator", "ReplayCache", "parse_timestamp", "signature_for"]


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


class ReplayCache:
    """Remembers each accepted signed request, as (key, nonce, signature), for ``window``
    seconds and at most ``capacity`` of them, to refuse an exact replay.

    Only a replay is refused, not a reused nonce: the docs' examples send ``nonce = 123``
    every time and ccxt sends the millisecond clock, so two different requests may carry the
    same nonce; their signatures differ (timestamp, path or body). Nonces need not increase
    (requests race each other over several connections). A replay older than the window is
    refused by its stale timestamp anyway. When ``capacity`` requests arrived within one
    window the oldest is forgotten early (then only its timestamp guards it): memory stays
    bounded whatever the request rate.
    """

    def __init__(self, window: float, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.window = window
        self.capacity = capacity
        # Oldest first: arrival times only grow, so expiry pops from the front.
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def first_use(self, key: str, nonce: str, signature: str, now: float) -> bool:
        """Record the request; False if the very same one was already accepted."""
        seen = self._seen
        limit = now - self.window
        while seen and next(iter(seen.values())) < limit:
            seen.popitem(last=False)
        entry = (key, nonce, signature)
        if entry in seen:
            return False
        if len(seen) >= self.capacity:
            seen.popitem(last=False)
        seen[entry] = now
        return True


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
        self.replays = ReplayCache(2 * tolerance)

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
        if not self.replays.first_use(key, nonce, signature, now):
            raise SimError(
                "20000", "Request replayed: this key, nonce and signature were already used", 401
            )
        return account

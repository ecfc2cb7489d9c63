"""Checks shared by the resource tests."""

from __future__ import annotations

from decimal import Decimal

from tests.loopback import Recorded, RecordingServer


def assert_struct(obj: object, **expected: object) -> None:
    """Every field of ``obj`` equals ``expected`` (None where not named), with the same type.

    Decimals must match digit for digit: ``Decimal("0.170") == Decimal("0.17")`` is not enough.
    """
    fields = type(obj).__struct_fields__  # type: ignore[attr-defined]
    assert set(expected) <= set(fields), f"not fields of {type(obj).__name__}: {set(expected)}"
    for name in fields:
        actual, wanted = getattr(obj, name), expected.get(name)
        assert type(actual) is type(wanted), f"{name}: {actual!r} is not a {type(wanted)}"
        assert actual == wanted, f"{name}: {actual!r} != {wanted!r}"
        if isinstance(wanted, Decimal):
            assert actual.as_tuple() == wanted.as_tuple(), f"{name}: {actual!r} != {wanted!r}"


def only_request(server: RecordingServer) -> Recorded:
    (request,) = server.requests
    return request


def assert_unsigned_get(request: Recorded, path: str, query: str = "") -> None:
    """A public GET: the path and query as expected, no body, no signing headers."""
    assert (request.method, request.path, request.query) == ("GET", path, query)
    assert request.body == b""
    sent = {name.lower() for name in request.headers}
    assert sent.isdisjoint({"accesskey", "signature", "nonce", "timestamp"})

"""Endpoint groups: thin, declarative classes that describe calls and hand them to the transport."""

from .flex_protocol import FlexProtocol
from .private import Private
from .public import Public

__all__ = ["FlexProtocol", "Private", "Public"]

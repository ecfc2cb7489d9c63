"""``client.stream()``: one WebSocket connection carrying subscriptions and order commands,
typed, self-healing, bounded. One module per concern ("room"); each talks to the others
through the small interfaces named here, never their private attributes.

```
context     StreamContext: what the stream needs from the client (session getter, limiter,
            credentials, id source, order recovery, snapshot and trade-history functions),
            built by the client; the stream never sees the Client
protocol    the docs' language, no I/O: URL, frames, tables and their decoders, a command's
            answer -> OrderResult, a failure notice -> OrderFailureEvent, the login message
connection  the only code touching aiohttp's WebSocket: connect, reconnect (through the one
            retry engine, _retry.run), the read loop, lending the read loop to a waiting
            reader (and aiohttp's frame buffer it peeks at), sending; until_ready: the next
            ready connection, for commands waiting out a reconnect
keepalive   ping after silence, stall detection (closes a silent connection)
routing     Router: a frame's table + market -> its channels -> their readers (the hot
            path: a remembered sink per table and market)
channel     Channel: one channel's readers and its trade de-duplication (first_time, the
            one rule every trade path calls)
readers     Subscription[T]: one reader's queue; conflation and overflow (put, the one rule
            every writer calls); Lazy (decode in the reader's task), Deferred (a REST fetch
            in its place in the queue)
session     tags, asks and answers, login, subscribe/unsubscribe, restore after a reconnect,
            commands sent once on a logged-in connection
pacing      the pre-login pacing (one message per second per connection)
retries     the stream's retries on _retry.run: asks asked again (login, subscribe), commands
            made again on the next connection when the connection went before they left
resync      after a reconnect: the account snapshot (Resynced) and trade backfill over REST
orders      WS order commands on the client's one order path (_orders: batches, recovery)
facade      Stream: argument checks, then one call into the room that does the work
```

Data flows one way: connection -> router.dispatch -> Channel -> Subscription.put*; frames that
are answers go router -> session.answer. Calls go the other way: facade -> session / orders
-> connection. The only callbacks are the ones the facade wires at construction (the router's
``on_answer``, the connection's ``restore`` and ``lost``), so no module imports one above it.
"""

from .facade import Stream
from .protocol import ws_url
from .readers import Subscription

__all__ = ["Stream", "Subscription", "ws_url"]

"""The shared kernel of TechX: what the ledger, listings and the exchange all need, one copy each.

- ``errors``: the base of every refusal (a stable problem ``type`` slug, an HTTP status, a title)
  and the refusals every module shares (not found, forbidden, conflict, invalid state, …);
- ``time``: RFC 3339 text; ``columns``: the UTC datetime column type that behaves alike on both databases;
- ``canonical``: the canonical JSON (RFC 8785) of every signed or hashed document;
- ``keyring``: keys of one kind by id (the current one and those it replaced);
- ``pagination``: limit and cursor parameters and keyset pages of ``{"items", "next_cursor"}``;
- ``db``: which database a session or connection talks to;
- ``shares``: an amount split by weights to the fen, exactly (the largest-remainder method);
- ``states``: state machines as tables (``(state, action) -> next state``), refusing every other
  move with 409 ``invalid-state`` naming the current state.

It imports nothing of ``ledger``, ``listings`` or ``exchange`` (an import-linter contract keeps it so).
"""

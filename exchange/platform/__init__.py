"""What every module of the exchange uses: the database and its unit of work, the clock, settings,
live events, the mapping of refusals to problem details, keys, logging, migrations, the deadline
sweeper, idempotent writes and the shared HTTP dependencies. It imports no domain module."""

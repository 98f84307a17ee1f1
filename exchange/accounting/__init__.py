"""The exchange's books: the chart of accounts every module asks for its ledger accounts, the
ledger's HTTP API for operators, wallets, and the ledger's background work (sealing, hold expiry,
verification)."""

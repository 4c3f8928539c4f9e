"""The cloud warehouse of emergency supplies (云仓储): agreements, storage points, items, the stock ledger."""

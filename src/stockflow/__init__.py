"""StockFlow: a multi-tenant inventory service with an append-only stock ledger."""

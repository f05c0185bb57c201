"""StockFlow's benchmark harness (`make bench`, `make bench QUICK=1`). Not a test."""

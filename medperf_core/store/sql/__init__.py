"""SQL shared by every relational recorder: the server's tables and read model, written once for SQLite and
PostgreSQL (portable SQL with `?` placeholders and double-quoted names; what differs is in `dialect.py`)."""

"""The PostgreSQL event store (psycopg 3): recorder and the server's read model, for servers that outgrow a file.

Selected by a database URL: `medperf server start --database postgresql://USER@HOST/DB`."""

"""Database nodes: SQL over items (``sql_items``), DynamoDB (``dynamodb``) and PostgreSQL
(``postgres``). Each module registers its executor; their parameter models are
``compiler.database_nodes``. Shared here: the typed errors and how database values become
JSON item values."""

-- Idempotency keys belong to the ordering module. A key is scoped to the api
-- key that used it; the row is written in the same transaction as the order,
-- so a concurrent request with the same key waits on the primary key until
-- the first commits (then replays it) or rolls back (then runs itself).
CREATE TABLE idempotency_keys (
    scope         TEXT        NOT NULL,
    key           TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  BYTEA       NOT NULL,
    order_id      UUID        NOT NULL,
    response      BYTEA       NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

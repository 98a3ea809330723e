-- Values a person gave for a deployment's secrets (`deploy --secret NAME`),
-- sealed by the caller (ChaCha20-Poly1305 under the home's key) before they
-- reach this table: the store never sees a plain value.
CREATE TABLE deployment_secrets (
    deployment_id TEXT    NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    sealed        BLOB    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, name)
);

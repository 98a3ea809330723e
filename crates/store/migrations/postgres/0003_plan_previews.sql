-- Plans shown by `POST /v1/plan`, kept so that a deploy can name the one a
-- person reviewed (`plan_id`) instead of sending the form again. In the
-- store, not in one API process's memory: with several API replicas the
-- deploy may reach another replica than the preview did.
CREATE TABLE plan_previews (
    id         TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX plan_previews_expires ON plan_previews (expires_at);

-- 002_provider_notices: what the provider sent that this version did not expect (API drift).

CREATE TABLE provider_notices (
    provider      VARCHAR     NOT NULL,
    account       VARCHAR     NOT NULL,
    kind          VARCHAR     NOT NULL
                              CHECK (kind IN ('unknown_field', 'changed_type', 'unmapped_status', 'unknown_error')),
    subject       VARCHAR     NOT NULL,
    example       VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, account, kind, subject)
);

COMMENT ON TABLE provider_notices IS 'Each kind of surprise once: a field this version does not read, a field of another JSON type, a carrier status that maps to nothing, an error code it does not know.';
COMMENT ON COLUMN provider_notices.subject IS 'The field name, the raw carrier status, or the method and error code.';
COMMENT ON COLUMN provider_notices.example IS 'What was met, e.g. "number" for a changed type or the window of an unknown error; never a message text.';

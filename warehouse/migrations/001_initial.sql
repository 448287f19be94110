-- 001_initial: the archive's first schema. Public tables: messages, media (see README.md).

CREATE TABLE messages (
    provider       VARCHAR     NOT NULL,
    account        VARCHAR     NOT NULL,
    kind           VARCHAR     NOT NULL CHECK (kind IN ('sms', 'mms')),
    message_id     VARCHAR     NOT NULL,
    direction      VARCHAR     NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    did            VARCHAR,
    contact        VARCHAR,
    contact_kind   VARCHAR     CHECK (contact_kind IN ('nanp', 'short_code', 'international', 'other')),
    sent_at        TIMESTAMPTZ NOT NULL,
    sent_at_local  VARCHAR,
    body           VARCHAR,
    body_raw       VARCHAR,
    body_source    VARCHAR     CHECK (body_source IN ('getSMS', 'getMMS')),
    carrier_status VARCHAR,
    status         VARCHAR     CHECK (status IN ('delivered', 'sent', 'failed', 'received', 'pending', 'unknown')),
    segments       INTEGER     CHECK (segments >= 0),
    encoding       VARCHAR     CHECK (encoding IN ('gsm7', 'ucs2')),
    media_count    INTEGER     CHECK (media_count >= 0),
    first_seen_at  TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, account, kind, message_id)
);

COMMENT ON TABLE messages IS 'One row per SMS/MMS; SMS and MMS ids come from separate counters, so the key includes kind.';
COMMENT ON COLUMN messages.body IS 'Decoded text; derived, so a transform fix replayed from the landing may correct it.';
COMMENT ON COLUMN messages.body_raw IS 'Text as the API returned it.';
COMMENT ON COLUMN messages.carrier_status IS 'Latest raw carrier status; every change is kept in carrier_status_history.';
COMMENT ON COLUMN messages.status IS 'Canonical status mapped from carrier_status; unknown when it did not map.';
COMMENT ON COLUMN messages.first_seen_at IS 'When the archive first saw the message; never changed.';
COMMENT ON COLUMN messages.last_seen_at IS 'When a merge last saw the message in an API answer.';

CREATE TABLE media (
    provider      VARCHAR     NOT NULL,
    account       VARCHAR     NOT NULL,
    message_id    VARCHAR     NOT NULL,
    position      INTEGER     NOT NULL CHECK (position >= 1),
    url           VARCHAR     NOT NULL,
    sha256        VARCHAR,
    size_bytes    BIGINT      CHECK (size_bytes >= 0),
    content_type  VARCHAR,
    state         VARCHAR     NOT NULL DEFAULT 'pending'
                              CHECK (state IN ('stored', 'expired', 'failed', 'pending')),
    fetched_at    TIMESTAMPTZ,
    attempts      INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error    VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, account, message_id, position),
    -- a stored row always names its file
    CHECK (state <> 'stored' OR sha256 IS NOT NULL)
);

COMMENT ON TABLE media IS 'One row per MMS attachment (message_id is the MMS id); bytes under media/, named by sha256.';
COMMENT ON COLUMN media.position IS '1-based position of the attachment in the MMS.';

CREATE TABLE carrier_status_history (
    provider       VARCHAR     NOT NULL,
    account        VARCHAR     NOT NULL,
    kind           VARCHAR     NOT NULL,
    message_id     VARCHAR     NOT NULL,
    carrier_status VARCHAR,
    status         VARCHAR,
    seen_at        TIMESTAMPTZ NOT NULL
);

COMMENT ON TABLE carrier_status_history IS 'One row when a message is first seen and one per change of its carrier_status.';

CREATE TABLE window_checkpoints (
    provider          VARCHAR     NOT NULL,
    account           VARCHAR     NOT NULL,
    window_start      DATE        NOT NULL,
    window_end        DATE        NOT NULL,
    completed_at      TIMESTAMPTZ NOT NULL,
    sms_rows          INTEGER     NOT NULL,
    mms_rows          INTEGER     NOT NULL,
    messages_inserted INTEGER     NOT NULL,
    messages_updated  INTEGER     NOT NULL,
    rejected          INTEGER     NOT NULL,
    merges            INTEGER     NOT NULL,
    PRIMARY KEY (provider, account, window_start, window_end),
    CHECK (window_start <= window_end)
);

COMMENT ON TABLE window_checkpoints IS 'A window whose merge committed. completed_at, sms_rows, mms_rows and rejected describe the latest merge; messages_inserted and messages_updated add up over all merges, so a rerun leaves them as they were.';

CREATE TABLE rejected_records (
    provider     VARCHAR     NOT NULL,
    account      VARCHAR     NOT NULL,
    source       VARCHAR     NOT NULL,
    record       VARCHAR     NOT NULL,
    reason       VARCHAR     NOT NULL,
    record_hash  VARCHAR     NOT NULL,
    window_start DATE        NOT NULL,
    window_end   DATE        NOT NULL,
    seen_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, account, record_hash)
);

COMMENT ON TABLE rejected_records IS 'Raw rows transform could not use, once each (record_hash = sha256 of source, record and reason); window and seen_at are of the first sighting.';

CREATE TABLE raw_landing (
    provider     VARCHAR     NOT NULL,
    account      VARCHAR     NOT NULL,
    window_start DATE        NOT NULL,
    window_end   DATE        NOT NULL,
    method       VARCHAR     NOT NULL,
    path         VARCHAR     NOT NULL PRIMARY KEY,
    rows         INTEGER     NOT NULL,
    sha256       VARCHAR     NOT NULL,
    landed_at    TIMESTAMPTZ NOT NULL
);

COMMENT ON COLUMN raw_landing.path IS 'The landed file, relative to the data dir.';

CREATE SEQUENCE sync_run_ids START 1;

CREATE TABLE sync_runs (
    run_id            BIGINT      PRIMARY KEY DEFAULT nextval('sync_run_ids'),
    kind              VARCHAR     NOT NULL CHECK (kind IN ('backfill', 'sync')),
    provider          VARCHAR,
    account           VARCHAR,
    window_start      DATE,
    window_end        DATE,
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    outcome           VARCHAR     NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted')),
    windows_merged    INTEGER,
    messages_inserted INTEGER,
    messages_updated  INTEGER,
    detail            VARCHAR
);

COMMENT ON TABLE sync_runs IS 'One row per backfill or sync run; a run left running by a crash is marked interrupted by the next one.';

-- The dedupe key of rejected_records; a macro so every query computes it the same way.
CREATE MACRO rejected_record_hash(source, record, reason) AS
    sha256(concat_ws(chr(31), source, record, reason));

import FirstContactStore

/// Schema migrations for PostgreSQL, its own list (the SQLite history of rebuilt tables does not
/// apply): literal SQL, never edited once released; a change is a new entry at the end. Applied
/// versions are rows of `schema_migration`. Every text column compares as bytes (`COLLATE "C"`),
/// as SQLite's do, so listings and exports sort the same on both stores whatever the server's locale.
enum PostgresMigrations {
    static let all: [(version: String, sql: String)] = [
        (
            "v1",
            """
                CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL);

                -- Source records keyed by a hash of their bytes (idempotency); rowid numbers rows in arrival
                -- order (a backfill's mark is the last rowid of each table before it began).
                CREATE TABLE leg (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_key TEXT COLLATE "C" NOT NULL,
                    call_key TEXT COLLATE "C" NOT NULL,
                    source TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
                    unique_id TEXT COLLATE "C" NOT NULL, src TEXT COLLATE "C" NOT NULL, caller_name TEXT COLLATE "C" NOT NULL, dst TEXT COLLATE "C" NOT NULL,
                    context TEXT COLLATE "C" NOT NULL, channel TEXT COLLATE "C" NOT NULL, peer_channel TEXT COLLATE "C" NOT NULL,
                    app TEXT COLLATE "C" NOT NULL, app_data TEXT COLLATE "C" NOT NULL,
                    start BIGINT NOT NULL, answer BIGINT, "end" BIGINT NOT NULL CHECK ("end" >= start),
                    billsec BIGINT NOT NULL CHECK (billsec >= 0),
                    disposition TEXT COLLATE "C" NOT NULL CHECK (disposition IN ('ANSWERED','NO ANSWER','BUSY','FAILED','CONGESTION','CANCEL','UNKNOWN')),
                    sequence BIGINT
                );
                CREATE INDEX leg_call ON leg(call_key);
                -- A record's key is a hash of its bytes and the bytes hold its time: unique with the time in
                -- front just as alone, and a day's records land at the end of the index instead of at
                -- random pages of all history (as SQLite v14 does; BENCHMARKS.md, history).
                CREATE UNIQUE INDEX leg_event ON leg(start, event_key);

                CREATE TABLE queue_event (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_key TEXT COLLATE "C" NOT NULL,
                    call_key TEXT COLLATE "C" NOT NULL,
                    source TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
                    time BIGINT NOT NULL, queue TEXT COLLATE "C" NOT NULL, agent TEXT COLLATE "C" NOT NULL,
                    event TEXT COLLATE "C" NOT NULL CHECK (event IN ('entered','connected','ring_no_answer','abandoned','exited','completed','transferred','other')),
                    text1 TEXT COLLATE "C" NOT NULL, text2 TEXT COLLATE "C" NOT NULL, number BIGINT NOT NULL
                );
                CREATE INDEX queue_event_call ON queue_event(call_key);
                CREATE UNIQUE INDEX queue_event_event ON queue_event(time, event_key);

                CREATE TABLE sip_event (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_key TEXT COLLATE "C" NOT NULL,
                    call_key TEXT COLLATE "C" NOT NULL,
                    source TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('transaction','dialog')),
                    method TEXT COLLATE "C" NOT NULL, code BIGINT, reason TEXT COLLATE "C" NOT NULL,
                    from_tag TEXT COLLATE "C" NOT NULL, to_tag TEXT COLLATE "C" NOT NULL,
                    caller TEXT COLLATE "C" NOT NULL, dialled TEXT COLLATE "C" NOT NULL, target TEXT COLLATE "C" NOT NULL, agent TEXT COLLATE "C" NOT NULL,
                    time BIGINT NOT NULL, start BIGINT, answer BIGINT
                );
                CREATE INDEX sip_event_call ON sip_event(call_key);
                CREATE UNIQUE INDEX sip_event_event ON sip_event(time, event_key);

                CREATE TABLE cel_event (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_key TEXT COLLATE "C" NOT NULL,
                    call_key TEXT COLLATE "C" NOT NULL,
                    source TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
                    event TEXT COLLATE "C" NOT NULL, time BIGINT NOT NULL, micros BIGINT NOT NULL,
                    cid_name TEXT COLLATE "C" NOT NULL, cid_num TEXT COLLATE "C" NOT NULL, exten TEXT COLLATE "C" NOT NULL, context TEXT COLLATE "C" NOT NULL,
                    channel TEXT COLLATE "C" NOT NULL, app TEXT COLLATE "C" NOT NULL, app_data TEXT COLLATE "C" NOT NULL, unique_id TEXT COLLATE "C" NOT NULL,
                    peer TEXT COLLATE "C" NOT NULL,
                    hangup_cause BIGINT, dial_status TEXT COLLATE "C" NOT NULL, bridge_id TEXT COLLATE "C" NOT NULL,
                    transfer_exten TEXT COLLATE "C" NOT NULL, transfer_context TEXT COLLATE "C" NOT NULL,
                    transferee TEXT COLLATE "C" NOT NULL, transfer_target TEXT COLLATE "C" NOT NULL
                );
                CREATE INDEX cel_event_call ON cel_event(call_key);
                CREATE UNIQUE INDEX cel_event_event ON cel_event(time, event_key);

                -- IVR events belong to the caller's number (customer_key); callback_key: another number keyed
                -- for a callback, whose outbound calls re-derive this customer too.
                CREATE TABLE ivr_event (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_key TEXT COLLATE "C" NOT NULL,
                    customer_key TEXT COLLATE "C" NOT NULL,
                    callback_key TEXT COLLATE "C",
                    source TEXT COLLATE "C" NOT NULL, line BIGINT NOT NULL, byte_offset BIGINT NOT NULL,
                    time BIGINT NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('menu-choice', 'callback-request', 'voicemail', 'menu-hangup')),
                    caller TEXT COLLATE "C" NOT NULL, digit TEXT COLLATE "C", number TEXT COLLATE "C", call_ref TEXT COLLATE "C" NOT NULL
                );
                CREATE INDEX ivr_event_customer ON ivr_event(customer_key, time);
                CREATE UNIQUE INDEX ivr_event_event ON ivr_event(time, event_key);
                CREATE INDEX ivr_event_callback ON ivr_event(callback_key) WHERE callback_key IS NOT NULL;

                CREATE TABLE call (
                    call_key TEXT COLLATE "C" PRIMARY KEY,
                    customer_key TEXT COLLATE "C",
                    direction TEXT COLLATE "C" CHECK (direction IN ('inbound','outbound','internal')),
                    start BIGINT, "end" BIGINT
                );
                CREATE INDEX call_customer ON call(customer_key, start);

                -- Whether new records await derivation (dirty), whether derived rows exist, when the derived
                -- state next changes with the clock alone, the settled past derivation starts after, and the
                -- purged past (retention) below which records are gone.
                CREATE TABLE customer (
                    customer_key TEXT COLLATE "C" PRIMARY KEY,
                    next_check BIGINT,
                    dirty BOOLEAN NOT NULL DEFAULT TRUE,
                    derived BOOLEAN NOT NULL DEFAULT FALSE,
                    settled_before BIGINT, settled_contact TEXT COLLATE "C", settled_closed BIGINT,
                    purged_before BIGINT, purged_contact TEXT COLLATE "C", purged_closed BIGINT
                );
                CREATE INDEX customer_next_check ON customer(next_check) WHERE next_check IS NOT NULL;
                CREATE INDEX customer_dirty ON customer(customer_key) WHERE dirty;

                CREATE TABLE contact (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT COLLATE "C" NOT NULL UNIQUE,
                    customer_key TEXT COLLATE "C" NOT NULL,
                    customer TEXT COLLATE "C" NOT NULL, customer_raw TEXT COLLATE "C" NOT NULL,
                    channel TEXT COLLATE "C" NOT NULL CHECK (channel IN ('phone','visit','letter')),
                    department TEXT COLLATE "C",
                    category TEXT COLLATE "C" NOT NULL CHECK (category IN ('service','consultation','inquiry','complaint','instruction','notice','report')),
                    status TEXT COLLATE "C" NOT NULL CHECK (status IN ('open','awaiting_callback','handed_off','resolved','referred_out','closed')),
                    repeat_of TEXT COLLATE "C",
                    fr_agent TEXT COLLATE "C", fr_bound_at BIGINT,
                    fr_via TEXT COLLATE "C" CHECK (fr_via IN ('inbound','callback','manual','reassigned')),
                    fr_call TEXT COLLATE "C",
                    ring_no_answer TEXT COLLATE "C" NOT NULL,
                    calls TEXT COLLATE "C" NOT NULL,
                    created_at BIGINT NOT NULL, last_activity BIGINT NOT NULL, closed_at BIGINT,
                    CHECK ((fr_agent IS NULL) = (fr_bound_at IS NULL) AND (fr_agent IS NULL) = (fr_via IS NULL)),
                    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
                );
                CREATE INDEX contact_customer ON contact(customer_key, created_at);
                CREATE INDEX contact_created ON contact(created_at, id);
                CREATE INDEX contact_status ON contact(status);
                CREATE INDEX contact_first_responder ON contact(fr_bound_at) WHERE fr_agent IS NOT NULL;
                CREATE INDEX contact_repeat_of ON contact(repeat_of) WHERE repeat_of IS NOT NULL;

                CREATE TABLE obligation (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT COLLATE "C" NOT NULL UNIQUE,
                    contact_id TEXT COLLATE "C" NOT NULL, customer_key TEXT COLLATE "C" NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('callback','handoff')),
                    owner_department TEXT COLLATE "C" NOT NULL, owner_agent TEXT COLLATE "C",
                    created_at BIGINT NOT NULL, due_at BIGINT NOT NULL,
                    ack_due_at BIGINT, acknowledged_at BIGINT,
                    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending','satisfied','satisfied_late','breached','exhausted','cancelled')),
                    at_risk BOOLEAN NOT NULL,
                    uncertain BOOLEAN NOT NULL,
                    satisfied_at BIGINT, satisfied_by TEXT COLLATE "C",
                    satisfied_via TEXT COLLATE "C" CHECK (satisfied_via IN ('callback','customer_called_back','warm_transfer','contacted','manual')),
                    attempts BIGINT NOT NULL CHECK (attempts >= 0),
                    missed_count BIGINT NOT NULL CHECK (missed_count >= 0),
                    escalation_level BIGINT NOT NULL CHECK (escalation_level IN (0,1,2)),
                    breached_at BIGINT,
                    call_key TEXT COLLATE "C" NOT NULL,
                    callback_number TEXT COLLATE "C",
                    CHECK ((state IN ('satisfied','satisfied_late')) = (satisfied_at IS NOT NULL)),
                    CHECK ((kind = 'handoff') = (ack_due_at IS NOT NULL)),
                    CHECK (due_at >= created_at)
                );
                CREATE INDEX obligation_customer ON obligation(customer_key);
                CREATE INDEX obligation_state_due ON obligation(state, due_at);
                CREATE INDEX obligation_contact ON obligation(contact_id);
                CREATE INDEX obligation_due ON obligation(due_at);
                CREATE INDEX obligation_satisfied ON obligation(satisfied_at) WHERE satisfied_at IS NOT NULL;
                CREATE INDEX obligation_handoff_created ON obligation(created_at) WHERE kind = 'handoff';
                CREATE INDEX obligation_state_created ON obligation(state, created_at, id);
                CREATE INDEX obligation_created ON obligation(created_at, id);

                CREATE TABLE violation (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT COLLATE "C" NOT NULL UNIQUE,
                    customer_key TEXT COLLATE "C" NOT NULL,
                    obligation_id TEXT COLLATE "C", contact_id TEXT COLLATE "C" NOT NULL,
                    category TEXT COLLATE "C" NOT NULL CHECK (category IN ('not_handled_in_time','not_handed_over','handoff_stalled','poor_service','passed_around','not_escalated','complaint')),
                    department TEXT COLLATE "C" NOT NULL, agent TEXT COLLATE "C", at BIGINT NOT NULL,
                    remedied_at BIGINT
                );
                CREATE INDEX violation_customer ON violation(customer_key);
                CREATE INDEX violation_at ON violation(at, id);

                -- What a late record changed. Never replaced.
                CREATE TABLE amendment (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    customer_key TEXT COLLATE "C" NOT NULL, contact_id TEXT COLLATE "C", obligation_id TEXT COLLATE "C",
                    at BIGINT NOT NULL, message TEXT COLLATE "C" NOT NULL
                );
                CREATE INDEX amendment_contact ON amendment(contact_id);
                CREATE INDEX amendment_customer ON amendment(customer_key, at);

                CREATE TABLE reject (
                    source TEXT COLLATE "C" NOT NULL, byte_offset BIGINT NOT NULL, line BIGINT NOT NULL,
                    reason TEXT COLLATE "C" NOT NULL, raw BYTEA NOT NULL,
                    raw_length BIGINT, raw_sha256 TEXT COLLATE "C", stored_at BIGINT,
                    PRIMARY KEY (source, byte_offset)
                );
                CREATE TABLE reject_dropped (
                    source TEXT COLLATE "C" PRIMARY KEY,
                    dropped BIGINT NOT NULL,
                    high_offset BIGINT NOT NULL
                );

                -- What people recorded: inputs to derivation like call records, replayed in time order (seq
                -- orders the actions of one second).
                CREATE TABLE action (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT COLLATE "C" NOT NULL UNIQUE,
                    customer_key TEXT COLLATE "C" NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('acknowledge', 'note', 'resolve', 'refer_out', 'handoff',
                        'reassign', 'complaint', 'poor_service', 'open')),
                    obligation_id TEXT COLLATE "C",
                    contact_id TEXT COLLATE "C",
                    agent TEXT COLLATE "C" NOT NULL,
                    at BIGINT NOT NULL,
                    payload TEXT COLLATE "C" NOT NULL DEFAULT '{}',
                    seq BIGINT NOT NULL DEFAULT 0
                );
                CREATE INDEX action_customer ON action(customer_key);
                CREATE INDEX action_contact ON action(contact_id) WHERE contact_id IS NOT NULL;
                CREATE INDEX action_obligation ON action(obligation_id);

                CREATE TABLE violation_review (
                    violation_id TEXT COLLATE "C" PRIMARY KEY,
                    decision TEXT COLLATE "C" NOT NULL CHECK (decision IN ('accept', 'excuse', 'dismiss')),
                    reason TEXT COLLATE "C" NOT NULL CHECK (length(trim(reason)) > 0),
                    reviewed_by TEXT COLLATE "C" NOT NULL,
                    at BIGINT NOT NULL
                );

                -- Notifications, written in the transaction that made the transition; the key makes each exist once.
                CREATE TABLE outbox (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    key TEXT COLLATE "C" NOT NULL UNIQUE,
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('at_risk', 'breach', 'escalation', 'violation', 'reversal', 'review',
                        'feed_silent', 'feed_resumed', 'satisfied', 'acknowledged', 'cancelled', 'exhausted', 'routed')),
                    at BIGINT NOT NULL,
                    customer_key TEXT COLLATE "C",
                    contact_id TEXT COLLATE "C",
                    obligation_id TEXT COLLATE "C",
                    violation_id TEXT COLLATE "C",
                    department TEXT COLLATE "C",
                    agent TEXT COLLATE "C",
                    level BIGINT,
                    detail TEXT COLLATE "C" NOT NULL
                );
                CREATE INDEX outbox_customer ON outbox(customer_key, at) WHERE customer_key IS NOT NULL;

                CREATE TABLE source_activity (
                    source TEXT COLLATE "C" NOT NULL, minute BIGINT NOT NULL, PRIMARY KEY (source, minute)
                );
                CREATE TABLE feed_gap (
                    feed TEXT COLLATE "C" NOT NULL, from_at BIGINT NOT NULL, to_at BIGINT, PRIMARY KEY (feed, from_at)
                );

                CREATE TABLE follow_checkpoint (
                    path TEXT COLLATE "C" PRIMARY KEY,
                    device BIGINT NOT NULL, inode BIGINT NOT NULL,
                    byte_offset BIGINT NOT NULL CHECK (byte_offset >= 0),
                    next_line BIGINT NOT NULL CHECK (next_line >= 1),
                    fingerprint TEXT COLLATE "C" NOT NULL,
                    fingerprint_length BIGINT NOT NULL CHECK (fingerprint_length >= 0),
                    generation BIGINT NOT NULL CHECK (generation >= 1)
                );

                CREATE TABLE webhook_cursor (
                    url TEXT COLLATE "C" PRIMARY KEY,
                    seq BIGINT NOT NULL CHECK (seq >= 0),
                    updated_at BIGINT NOT NULL
                );
                CREATE TABLE webhook_dead_letter (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    url TEXT COLLATE "C" NOT NULL,
                    outbox_seq BIGINT NOT NULL,
                    outbox_key TEXT COLLATE "C" NOT NULL,
                    kind TEXT COLLATE "C" NOT NULL,
                    attempts BIGINT NOT NULL CHECK (attempts > 0),
                    last_status BIGINT,
                    last_error TEXT COLLATE "C" NOT NULL,
                    first_attempt_at BIGINT NOT NULL,
                    last_attempt_at BIGINT NOT NULL,
                    UNIQUE (url, outbox_seq)
                );

                -- Figures of whole periods summarised before their rows were purged (retention).
                CREATE TABLE report_period (
                    start BIGINT PRIMARY KEY, "end" BIGINT NOT NULL CHECK ("end" > start),
                    written_at BIGINT NOT NULL
                );
                CREATE TABLE report_obligation (
                    period_start BIGINT NOT NULL REFERENCES report_period(start),
                    owner_department TEXT COLLATE "C" NOT NULL, owner_agent TEXT COLLATE "C",
                    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('callback','handoff')),
                    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('pending','satisfied','satisfied_late','breached','exhausted','cancelled')),
                    count BIGINT NOT NULL CHECK (count > 0)
                );
                CREATE INDEX report_obligation_period ON report_obligation(period_start);
                CREATE TABLE report_agent (
                    period_start BIGINT NOT NULL REFERENCES report_period(start),
                    agent TEXT COLLATE "C" NOT NULL,
                    first_responded BIGINT NOT NULL, settled BIGINT NOT NULL, repeated BIGINT NOT NULL,
                    callbacks_on_time BIGINT NOT NULL, callbacks_late BIGINT NOT NULL,
                    handoff_ack_seconds TEXT COLLATE "C" NOT NULL,
                    PRIMARY KEY (period_start, agent)
                );
                CREATE TABLE report_agent_violation (
                    period_start BIGINT NOT NULL REFERENCES report_period(start),
                    agent TEXT COLLATE "C" NOT NULL, category TEXT COLLATE "C" NOT NULL,
                    decision TEXT COLLATE "C" CHECK (decision IN ('accept', 'excuse', 'dismiss')),
                    count BIGINT NOT NULL CHECK (count > 0)
                );
                CREATE INDEX report_agent_violation_period ON report_agent_violation(period_start);
            """
        ),
        (
            "v2-lease",
            """
                -- Work one instance of several does at a time (a webhook URL's deliveries, a followed
                -- file): held by `holder` until `expires_at`, by the server's clock.
                CREATE TABLE lease (
                    name TEXT COLLATE "C" PRIMARY KEY,
                    holder TEXT COLLATE "C" NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL
                );
            """
        ),
        (
            "v3-sources",
            // Every record row and reject named its source in full (a file path, or an HTTP request
            // with its hash): sources are a table of their own, referred to by id.
            """
                CREATE TABLE source (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL UNIQUE
                );
                INSERT INTO source (name)
                    SELECT source FROM leg UNION SELECT source FROM queue_event UNION SELECT source FROM sip_event
                    UNION SELECT source FROM cel_event UNION SELECT source FROM ivr_event
                    UNION SELECT source FROM reject UNION SELECT source FROM reject_dropped
                    UNION SELECT source FROM source_activity
                    ORDER BY 1;

                ALTER TABLE leg ADD COLUMN source_id BIGINT;
                UPDATE leg SET source_id = s.id FROM source s WHERE s.name = leg.source;
                ALTER TABLE leg ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE queue_event ADD COLUMN source_id BIGINT;
                UPDATE queue_event SET source_id = s.id FROM source s WHERE s.name = queue_event.source;
                ALTER TABLE queue_event ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE sip_event ADD COLUMN source_id BIGINT;
                UPDATE sip_event SET source_id = s.id FROM source s WHERE s.name = sip_event.source;
                ALTER TABLE sip_event ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE cel_event ADD COLUMN source_id BIGINT;
                UPDATE cel_event SET source_id = s.id FROM source s WHERE s.name = cel_event.source;
                ALTER TABLE cel_event ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE ivr_event ADD COLUMN source_id BIGINT;
                UPDATE ivr_event SET source_id = s.id FROM source s WHERE s.name = ivr_event.source;
                ALTER TABLE ivr_event ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;

                ALTER TABLE reject ADD COLUMN source_id BIGINT;
                UPDATE reject SET source_id = s.id FROM source s WHERE s.name = reject.source;
                ALTER TABLE reject DROP CONSTRAINT reject_pkey;
                ALTER TABLE reject ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE reject ADD PRIMARY KEY (source_id, byte_offset);
                ALTER TABLE reject_dropped ADD COLUMN source_id BIGINT;
                UPDATE reject_dropped SET source_id = s.id FROM source s WHERE s.name = reject_dropped.source;
                ALTER TABLE reject_dropped DROP CONSTRAINT reject_dropped_pkey;
                ALTER TABLE reject_dropped ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE reject_dropped ADD PRIMARY KEY (source_id);
                ALTER TABLE source_activity ADD COLUMN source_id BIGINT;
                UPDATE source_activity SET source_id = s.id FROM source s WHERE s.name = source_activity.source;
                ALTER TABLE source_activity DROP CONSTRAINT source_activity_pkey;
                ALTER TABLE source_activity ALTER COLUMN source_id SET NOT NULL, DROP COLUMN source;
                ALTER TABLE source_activity ADD PRIMARY KEY (source_id, minute);
            """
        ),
        (
            "v4-resume-points",
            // Where the next derivation of a customer resumes its walk (ResumePoint): every input
            // before resume_before is in resume_state (ResumePoint.bytes), the contacts after the settled past.
            """
                ALTER TABLE customer ADD COLUMN resume_before BIGINT, ADD COLUMN resume_state BYTEA;
            """
        ),
        (
            "v5-customer-indexes",
            // As SQLite's v20: a customer's violations by contact, its actions by time, found in the
            // index instead of filtered from every row the customer ever had.
            """
                DROP INDEX violation_customer;
                CREATE INDEX violation_customer ON violation(customer_key, contact_id);
                DROP INDEX action_customer;
                CREATE INDEX action_customer ON action(customer_key, at);
            """
        ),
        (
            "v6-customer-resume",
            // As SQLite's v23: the resume point's bytes in a table of their own, the customer row
            // narrow (it is rewritten whenever the customer is marked or derived); the same triggers
            // delete the bytes when `resume_before` is cleared or the customer deleted (the
            // function's body on one line: the statements are split at ";" and a line end).
            """
                CREATE TABLE customer_resume (
                    rowid BIGINT GENERATED ALWAYS AS IDENTITY,
                    customer_key TEXT COLLATE "C" PRIMARY KEY,
                    state BYTEA NOT NULL
                );
                INSERT INTO customer_resume (customer_key, state)
                    SELECT customer_key, resume_state FROM customer
                    WHERE resume_before IS NOT NULL AND resume_state IS NOT NULL;
                ALTER TABLE customer DROP COLUMN resume_state;
                CREATE FUNCTION customer_resume_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN DELETE FROM customer_resume WHERE customer_key = OLD.customer_key; RETURN NULL; END $$;
                CREATE TRIGGER customer_resume_dropped AFTER UPDATE OF resume_before ON customer FOR EACH ROW
                    WHEN (OLD.resume_before IS NOT NULL AND NEW.resume_before IS NULL)
                    EXECUTE FUNCTION customer_resume_dropped();
                CREATE TRIGGER customer_resume_forgotten AFTER DELETE ON customer FOR EACH ROW
                    EXECUTE FUNCTION customer_resume_dropped();
            """
        ),
    ]

    static var latest: String { Self.all.last?.version ?? "none" }
}

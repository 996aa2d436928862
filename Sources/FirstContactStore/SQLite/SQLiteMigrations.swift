import FirstContactCore
import GRDB

/// Schema migrations for SQLite. Literal SQL, never edited once released (GRDB Migrations.md):
/// a change of schema is a new migration appended at the end, since databases written by every
/// release must open in every later one. `UpgradeTests` compares what each released migration
/// executes with Tests/Fixtures/upgrade/released-migrations.txt and migrates a database written
/// by a release.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;

                    -- Source records, one row per record, keyed by a hash of the record's bytes (idempotency).
                    -- Rowid tables with the hash in a unique index: rows are appended in arrival order and
                    -- only the small index entry lands at a random place (WITHOUT ROWID tables keyed by a
                    -- hash made every insert dirty a random page of wide rows; 1M-call benchmark).
                    CREATE TABLE leg (
                        event_key TEXT NOT NULL UNIQUE,
                        call_key TEXT NOT NULL,
                        source TEXT NOT NULL, line INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                        unique_id TEXT NOT NULL, src TEXT NOT NULL, caller_name TEXT NOT NULL, dst TEXT NOT NULL,
                        context TEXT NOT NULL, channel TEXT NOT NULL, peer_channel TEXT NOT NULL,
                        app TEXT NOT NULL, app_data TEXT NOT NULL,
                        start INTEGER NOT NULL, answer INTEGER, end INTEGER NOT NULL CHECK (end >= start),
                        billsec INTEGER NOT NULL CHECK (billsec >= 0),
                        disposition TEXT NOT NULL CHECK (disposition IN ('ANSWERED','NO ANSWER','BUSY','FAILED','CONGESTION','CANCEL','UNKNOWN')),
                        sequence INTEGER
                    );
                    CREATE INDEX leg_call ON leg(call_key);

                    CREATE TABLE queue_event (
                        event_key TEXT NOT NULL UNIQUE,
                        call_key TEXT NOT NULL,
                        source TEXT NOT NULL, line INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                        time INTEGER NOT NULL, queue TEXT NOT NULL, agent TEXT NOT NULL,
                        event TEXT NOT NULL CHECK (event IN ('entered','connected','ring_no_answer','abandoned','exited','completed','transferred','other')),
                        text1 TEXT NOT NULL, text2 TEXT NOT NULL, number INTEGER NOT NULL
                    );
                    CREATE INDEX queue_event_call ON queue_event(call_key);

                    -- Calls as assembled from their records, and the customer each belongs to.
                    CREATE TABLE call (
                        call_key TEXT PRIMARY KEY NOT NULL,
                        customer_key TEXT,
                        direction TEXT CHECK (direction IN ('inbound','outbound','internal')),
                        start INTEGER, end INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX call_customer ON call(customer_key);

                    -- One row per customer: whether new records await derivation (dirty), whether derived
                    -- rows exist, and when the derived state next changes with the clock alone.
                    CREATE TABLE customer (
                        customer_key TEXT PRIMARY KEY NOT NULL,
                        next_check INTEGER,
                        dirty INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1)),
                        derived INTEGER NOT NULL DEFAULT 0 CHECK (derived IN (0, 1))
                    ) WITHOUT ROWID;
                    CREATE INDEX customer_next_check ON customer(next_check) WHERE next_check IS NOT NULL;
                    CREATE INDEX customer_dirty ON customer(dirty) WHERE dirty = 1;

                    -- Derived state, replaced per customer on every re-derivation. The `why` trail is not
                    -- stored: it is derived again from the records when a contact is explained.
                    CREATE TABLE contact (
                        id TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        customer TEXT NOT NULL, customer_raw TEXT NOT NULL,
                        channel TEXT NOT NULL CHECK (channel IN ('phone','visit','letter')),
                        department TEXT,
                        category TEXT NOT NULL CHECK (category IN ('service','consultation','inquiry','complaint','instruction','notice','report')),
                        status TEXT NOT NULL CHECK (status IN ('open','awaiting_callback','handed_off','resolved','referred_out','closed')),
                        repeat_of TEXT,
                        fr_agent TEXT, fr_bound_at INTEGER,
                        fr_via TEXT CHECK (fr_via IN ('inbound','callback','manual','reassigned')),
                        fr_call TEXT,
                        ring_no_answer TEXT NOT NULL,
                        -- Call keys in the contact's order, comma-separated (keys never contain commas).
                        calls TEXT NOT NULL,
                        created_at INTEGER NOT NULL, last_activity INTEGER NOT NULL, closed_at INTEGER,
                        CHECK ((fr_agent IS NULL) = (fr_bound_at IS NULL) AND (fr_agent IS NULL) = (fr_via IS NULL)),
                        CHECK ((status = 'closed') = (closed_at IS NOT NULL))
                    );
                    CREATE INDEX contact_customer ON contact(customer_key);
                    CREATE INDEX contact_created ON contact(created_at, id);
                    CREATE INDEX contact_status ON contact(status);

                    CREATE TABLE obligation (
                        id TEXT NOT NULL UNIQUE,
                        contact_id TEXT NOT NULL, customer_key TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('callback','handoff')),
                        owner_department TEXT NOT NULL, owner_agent TEXT,
                        created_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
                        ack_due_at INTEGER, acknowledged_at INTEGER,
                        state TEXT NOT NULL CHECK (state IN ('pending','satisfied','satisfied_late','breached','exhausted','cancelled')),
                        at_risk INTEGER NOT NULL CHECK (at_risk IN (0,1)),
                        uncertain INTEGER NOT NULL CHECK (uncertain IN (0,1)),
                        satisfied_at INTEGER, satisfied_by TEXT,
                        satisfied_via TEXT CHECK (satisfied_via IN ('callback','customer_called_back','warm_transfer','contacted','manual')),
                        attempts INTEGER NOT NULL CHECK (attempts >= 0),
                        missed_count INTEGER NOT NULL CHECK (missed_count >= 0),
                        escalation_level INTEGER NOT NULL CHECK (escalation_level IN (0,1,2)),
                        breached_at INTEGER,
                        call_key TEXT NOT NULL,
                        CHECK ((state IN ('satisfied','satisfied_late')) = (satisfied_at IS NOT NULL)),
                        CHECK ((kind = 'handoff') = (ack_due_at IS NOT NULL)),
                        CHECK (due_at >= created_at)
                    );
                    CREATE INDEX obligation_customer ON obligation(customer_key);
                    CREATE INDEX obligation_state_due ON obligation(state, due_at);
                    CREATE INDEX obligation_contact ON obligation(contact_id);

                    CREATE TABLE violation (
                        id TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        obligation_id TEXT, contact_id TEXT NOT NULL,
                        category TEXT NOT NULL CHECK (category IN ('not_handled_in_time','not_handed_over','handoff_stalled','poor_service','passed_around','not_escalated')),
                        department TEXT NOT NULL, agent TEXT, at INTEGER NOT NULL
                    );
                    CREATE INDEX violation_customer ON violation(customer_key);
                    CREATE INDEX violation_at ON violation(at, id);

                    -- Amendments: what a late record changed. Never replaced.
                    CREATE TABLE amendment (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        customer_key TEXT NOT NULL, contact_id TEXT, obligation_id TEXT,
                        at INTEGER NOT NULL, message TEXT NOT NULL
                    );
                    CREATE INDEX amendment_contact ON amendment(contact_id);

                    CREATE TABLE reject (
                        source TEXT NOT NULL, byte_offset INTEGER NOT NULL, line INTEGER NOT NULL,
                        reason TEXT NOT NULL, raw BLOB NOT NULL,
                        PRIMARY KEY (source, byte_offset)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-actions-reviews-outbox") { db in
            try db.execute(
                sql: """
                    -- What people recorded (acknowledgements now; notes, resolutions, hand-offs by hand later):
                    -- inputs to derivation like call records, replayed in time order.
                    CREATE TABLE action (
                        id TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('acknowledge')),
                        obligation_id TEXT,
                        agent TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX action_customer ON action(customer_key);

                    -- Supervisors' decisions on violations; keyed by the violation's stable id, so a
                    -- re-derivation keeps them.
                    CREATE TABLE violation_review (
                        violation_id TEXT PRIMARY KEY NOT NULL,
                        decision TEXT NOT NULL CHECK (decision IN ('accept', 'excuse', 'dismiss')),
                        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
                        reviewed_by TEXT NOT NULL,
                        at INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    -- Notifications, written in the transaction that made the transition. The key makes
                    -- each notification exist once however often its customer is derived again.
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL CHECK (kind IN ('at_risk', 'breach', 'escalation', 'violation', 'reversal', 'review', 'feed_silent', 'feed_resumed')),
                        at INTEGER NOT NULL,
                        customer_key TEXT,
                        contact_id TEXT,
                        obligation_id TEXT,
                        violation_id TEXT,
                        department TEXT,
                        agent TEXT,
                        level INTEGER,
                        detail TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3-violation-remedied") { db in
            try db.execute(sql: "ALTER TABLE violation ADD COLUMN remedied_at INTEGER")
        }
        migrator.registerMigration("v4-feed-health") { db in
            try db.execute(
                sql: """
                    -- Minutes in which each source sent records: what feed health reads.
                    CREATE TABLE source_activity (
                        source TEXT NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (source, minute)
                    ) WITHOUT ROWID;
                    -- The silences found so far, to notice when they change.
                    CREATE TABLE feed_gap (
                        feed TEXT NOT NULL, from_at INTEGER NOT NULL, to_at INTEGER, PRIMARY KEY (feed, from_at)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5-sip-event") { db in
            try db.execute(
                sql: """
                    -- SIP proxy accounting rows (Kamailio acc / missed_calls / acc_cdrs), keyed like legs by a
                    -- hash of the row's bytes and grouped by the SIP Call-ID (call_key).
                    CREATE TABLE sip_event (
                        event_key TEXT NOT NULL UNIQUE,
                        call_key TEXT NOT NULL,
                        source TEXT NOT NULL, line INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('transaction','dialog')),
                        method TEXT NOT NULL, code INTEGER, reason TEXT NOT NULL,
                        from_tag TEXT NOT NULL, to_tag TEXT NOT NULL,
                        caller TEXT NOT NULL, dialled TEXT NOT NULL, target TEXT NOT NULL, agent TEXT NOT NULL,
                        time INTEGER NOT NULL, start INTEGER, answer INTEGER
                    );
                    CREATE INDEX sip_event_call ON sip_event(call_key);
                    """)
        }
        migrator.registerMigration("v6-action-kinds") { db in
            // SQLite cannot widen a CHECK: the table is rebuilt with every kind of person's action,
            // the contact it is about and its fields as JSON (rare rows, read per customer).
            try db.execute(
                sql: """
                    CREATE TABLE action_new (
                        id TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('acknowledge', 'note', 'resolve', 'refer_out', 'handoff',
                            'reassign', 'complaint', 'poor_service', 'open')),
                        obligation_id TEXT,
                        contact_id TEXT,
                        agent TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        payload TEXT NOT NULL DEFAULT '{}'
                    );
                    INSERT INTO action_new (id, customer_key, kind, obligation_id, agent, at)
                        SELECT id, customer_key, kind, obligation_id, agent, at FROM action;
                    DROP TABLE action;
                    ALTER TABLE action_new RENAME TO action;
                    CREATE INDEX action_customer ON action(customer_key);
                    CREATE INDEX action_contact ON action(contact_id) WHERE contact_id IS NOT NULL;

                    -- Complaints (POLICY art. 21) are recorded as violations for review.
                    CREATE TABLE violation_new (
                        id TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        obligation_id TEXT, contact_id TEXT NOT NULL,
                        category TEXT NOT NULL CHECK (category IN ('not_handled_in_time','not_handed_over','handoff_stalled','poor_service','passed_around','not_escalated','complaint')),
                        department TEXT NOT NULL, agent TEXT, at INTEGER NOT NULL,
                        remedied_at INTEGER
                    );
                    INSERT INTO violation_new SELECT id, customer_key, obligation_id, contact_id, category, department, agent, at, remedied_at FROM violation;
                    DROP TABLE violation;
                    ALTER TABLE violation_new RENAME TO violation;
                    CREATE INDEX violation_customer ON violation(customer_key);
                    CREATE INDEX violation_at ON violation(at, id);
                    """)
        }
        migrator.registerMigration("v6-ivr-events") { db in
            try db.execute(
                sql: """
                    -- FirstContact IVR events: belong to the caller's number (customer_key), tied to calls by
                    -- time when the customer is derived. callback_key: the other number the caller keyed
                    -- for a callback, whose outbound calls must re-derive this customer too.
                    CREATE TABLE ivr_event (
                        event_key TEXT NOT NULL UNIQUE,
                        customer_key TEXT NOT NULL,
                        callback_key TEXT,
                        source TEXT NOT NULL, line INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                        time INTEGER NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('menu-choice', 'callback-request', 'voicemail', 'menu-hangup')),
                        caller TEXT NOT NULL, digit TEXT, number TEXT, call_ref TEXT NOT NULL
                    );
                    CREATE INDEX ivr_event_customer ON ivr_event(customer_key);
                    CREATE INDEX ivr_event_callback ON ivr_event(callback_key) WHERE callback_key IS NOT NULL;
                    ALTER TABLE obligation ADD COLUMN callback_number TEXT;
                    """)
        }
        migrator.registerMigration("v7-follow-checkpoints") { db in
            try db.execute(
                sql: """
                    -- Where `serve` stopped reading each followed file, written in the transaction that stored
                    -- the records before that offset (so a kill never loses or repeats a line). The file is
                    -- recognised by device and inode, and by a hash of its first bytes (an inode can be reused
                    -- and copy-truncate keeps it). `generation` counts the files seen at this path.
                    CREATE TABLE follow_checkpoint (
                        path TEXT PRIMARY KEY NOT NULL,
                        device INTEGER NOT NULL, inode INTEGER NOT NULL,
                        byte_offset INTEGER NOT NULL CHECK (byte_offset >= 0),
                        next_line INTEGER NOT NULL CHECK (next_line >= 1),
                        fingerprint TEXT NOT NULL,
                        fingerprint_length INTEGER NOT NULL CHECK (fingerprint_length >= 0),
                        generation INTEGER NOT NULL CHECK (generation >= 1)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v8-webhooks") { db in
            try db.execute(
                sql: """
                    -- Reports read ranges of these columns (a month of due times, bindings, satisfactions)
                    -- and look up repeats and acknowledgements by id: indexes instead of table scans.
                    CREATE INDEX obligation_due ON obligation(due_at);
                    CREATE INDEX obligation_satisfied ON obligation(satisfied_at) WHERE satisfied_at IS NOT NULL;
                    CREATE INDEX obligation_handoff_created ON obligation(created_at) WHERE kind = 'handoff';
                    CREATE INDEX contact_first_responder ON contact(fr_bound_at) WHERE fr_agent IS NOT NULL;
                    CREATE INDEX contact_repeat_of ON contact(repeat_of) WHERE repeat_of IS NOT NULL;
                    CREATE INDEX action_obligation ON action(obligation_id);

                    -- Webhook delivery: per URL, the last outbox entry delivered (or dead-lettered), so a
                    -- restart neither re-sends nor skips.
                    CREATE TABLE webhook_cursor (
                        url TEXT PRIMARY KEY NOT NULL,
                        seq INTEGER NOT NULL CHECK (seq >= 0),
                        updated_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    -- Entries a URL never accepted after every try.
                    CREATE TABLE webhook_dead_letter (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        url TEXT NOT NULL,
                        outbox_seq INTEGER NOT NULL,
                        outbox_key TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        attempts INTEGER NOT NULL CHECK (attempts > 0),
                        last_status INTEGER,
                        last_error TEXT NOT NULL,
                        first_attempt_at INTEGER NOT NULL,
                        last_attempt_at INTEGER NOT NULL,
                        UNIQUE (url, outbox_seq)
                    );
                    """)
        }
        migrator.registerMigration("v9-outbox-departures") { db in
            // Obligations leaving the board (satisfied, acknowledged, cancelled, exhausted) are
            // notified too, so boards and webhooks in any process see them; SQLite cannot widen a
            // CHECK, so the table is rebuilt with its sequence numbers kept.
            try db.execute(
                sql: """
                    CREATE TABLE outbox_new (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL CHECK (kind IN ('at_risk', 'breach', 'escalation', 'violation', 'reversal', 'review',
                            'feed_silent', 'feed_resumed', 'satisfied', 'acknowledged', 'cancelled', 'exhausted')),
                        at INTEGER NOT NULL,
                        customer_key TEXT,
                        contact_id TEXT,
                        obligation_id TEXT,
                        violation_id TEXT,
                        department TEXT,
                        agent TEXT,
                        level INTEGER,
                        detail TEXT NOT NULL
                    );
                    INSERT INTO outbox_new SELECT seq, key, kind, at, customer_key, contact_id, obligation_id, violation_id,
                        department, agent, level, detail FROM outbox;
                    DROP TABLE outbox;
                    ALTER TABLE outbox_new RENAME TO outbox;
                    """)
        }
        migrator.registerMigration("v10-obligation-paging") { db in
            try db.execute(
                sql: """
                    -- GET /v1/obligations pages in the listing order (created_at, id), with or without a
                    -- state: with these a page reads about `limit` rows instead of sorting every
                    -- obligation in the state (a temporary B-tree of a million rows per page).
                    CREATE INDEX obligation_state_created ON obligation(state, created_at, id);
                    CREATE INDEX obligation_created ON obligation(created_at, id);
                    """)
        }
        migrator.registerMigration("v11-stable-ids-action-order") { db in
            try db.execute(
                sql: """
                    -- People's actions in the same second apply in the order they were stored.
                    ALTER TABLE action ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
                    UPDATE action SET seq = rowid;
                    """)
            try Self.renameObligations(db)
            // The rules changed with these ids (withheld calls' clocks, same-second actions):
            // every customer is derived again at the next clock.
            try db.execute(sql: "UPDATE customer SET dirty = 1")
        }
        migrator.registerMigration("v12-reject-bounds") { db in
            try db.execute(
                sql: """
                    -- A reject keeps at most 64 KiB of its input; when cut, the whole input's length
                    -- and SHA-256 still identify it (NULL: the kept bytes are the whole input).
                    ALTER TABLE reject ADD COLUMN raw_length INTEGER;
                    ALTER TABLE reject ADD COLUMN raw_sha256 TEXT;
                    -- Rejects past the per-source cap are counted here instead of stored. A source's
                    -- rejects arrive in offset order, so `high_offset` (the last one counted) keeps a
                    -- re-read of the same file from counting its dropped rows twice.
                    CREATE TABLE reject_dropped (
                        source TEXT NOT NULL PRIMARY KEY,
                        dropped INTEGER NOT NULL,
                        high_offset INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v13-settled-past") { db in
            try db.execute(
                sql: """
                    -- A customer's settled past (SettledPast): derivation starts at settled_before and
                    -- reads only later records; NULL derives from every record.
                    ALTER TABLE customer ADD COLUMN settled_before INTEGER;
                    ALTER TABLE customer ADD COLUMN settled_contact TEXT;
                    ALTER TABLE customer ADD COLUMN settled_closed INTEGER;
                    -- What a derivation from settled_before reads and replaces, by customer and time.
                    DROP INDEX call_customer;
                    CREATE INDEX call_customer ON call(customer_key, start);
                    DROP INDEX contact_customer;
                    CREATE INDEX contact_customer ON contact(customer_key, created_at);
                    DROP INDEX ivr_event_customer;
                    CREATE INDEX ivr_event_customer ON ivr_event(customer_key, time);
                    """)
        }
        migrator.registerMigration("v14-time-ordered-record-keys") { db in
            // A record's key is a hash of its bytes, and the bytes hold its time: the key is unique
            // with the time in front just as alone, and a day's records then land at the end of
            // the index instead of at random pages of all history (a day's writes grew 6× over
            // eight days of history with the hash alone; BENCHMARKS.md, history).
            for (table, time) in [
                ("leg", "start"), ("queue_event", "time"), ("sip_event", "time"), ("ivr_event", "time"),
            ] {
                try Self.rebuild(table, db: db) {
                    $0.replacingOccurrences(of: "event_key TEXT NOT NULL UNIQUE", with: "event_key TEXT NOT NULL")
                }
                try db.execute(sql: "CREATE UNIQUE INDEX \(table)_event ON \(table)(\(time), event_key)")
            }
        }
        migrator.registerMigration("v15-cel-event") { db in
            try db.execute(
                sql: """
                    -- Asterisk CEL rows, keyed like legs by a hash of the row's bytes (time first, as in
                    -- v14) and grouped by the linkedid the row was written with (call_key).
                    CREATE TABLE cel_event (
                        event_key TEXT NOT NULL,
                        call_key TEXT NOT NULL,
                        source TEXT NOT NULL, line INTEGER NOT NULL, byte_offset INTEGER NOT NULL,
                        event TEXT NOT NULL, time INTEGER NOT NULL, micros INTEGER NOT NULL,
                        cid_name TEXT NOT NULL, cid_num TEXT NOT NULL, exten TEXT NOT NULL, context TEXT NOT NULL,
                        channel TEXT NOT NULL, app TEXT NOT NULL, app_data TEXT NOT NULL, unique_id TEXT NOT NULL,
                        peer TEXT NOT NULL,
                        hangup_cause INTEGER, dial_status TEXT NOT NULL, bridge_id TEXT NOT NULL,
                        transfer_exten TEXT NOT NULL, transfer_context TEXT NOT NULL,
                        transferee TEXT NOT NULL, transfer_target TEXT NOT NULL
                    );
                    CREATE UNIQUE INDEX cel_event_event ON cel_event(time, event_key);
                    CREATE INDEX cel_event_call ON cel_event(call_key);
                    """)
        }
        migrator.registerMigration("v16-retention") { db in
            try db.execute(
                sql: """
                    -- A customer whose oldest contacts were purged (retention) derives from here at the
                    -- earliest: the purged contacts' records are gone, and the last of them is what
                    -- a later contact may name as repeat_of (a SettledPast that is never dropped).
                    ALTER TABLE customer ADD COLUMN purged_before INTEGER;
                    ALTER TABLE customer ADD COLUMN purged_contact TEXT;
                    ALTER TABLE customer ADD COLUMN purged_closed INTEGER;
                    -- How old a reject is: the newest record time the store held when it was stored.
                    ALTER TABLE reject ADD COLUMN stored_at INTEGER;
                    UPDATE reject SET stored_at = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'latest_event');
                    -- Figures of whole periods (local months) summarised before their rows were purged,
                    -- without customer numbers; reports read a period from here once it is summarised.
                    CREATE TABLE report_period (
                        start INTEGER PRIMARY KEY NOT NULL, end INTEGER NOT NULL CHECK (end > start),
                        written_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE TABLE report_obligation (
                        period_start INTEGER NOT NULL REFERENCES report_period(start),
                        owner_department TEXT NOT NULL, owner_agent TEXT,
                        kind TEXT NOT NULL CHECK (kind IN ('callback','handoff')),
                        state TEXT NOT NULL CHECK (state IN ('pending','satisfied','satisfied_late','breached','exhausted','cancelled')),
                        count INTEGER NOT NULL CHECK (count > 0)
                    );
                    CREATE INDEX report_obligation_period ON report_obligation(period_start);
                    CREATE TABLE report_agent (
                        period_start INTEGER NOT NULL REFERENCES report_period(start),
                        agent TEXT NOT NULL,
                        first_responded INTEGER NOT NULL, settled INTEGER NOT NULL, repeated INTEGER NOT NULL,
                        callbacks_on_time INTEGER NOT NULL, callbacks_late INTEGER NOT NULL,
                        -- Seconds to acknowledge each hand-off received, comma-separated (for median and p90).
                        handoff_ack_seconds TEXT NOT NULL,
                        PRIMARY KEY (period_start, agent)
                    ) WITHOUT ROWID;
                    CREATE TABLE report_agent_violation (
                        period_start INTEGER NOT NULL REFERENCES report_period(start),
                        agent TEXT NOT NULL, category TEXT NOT NULL,
                        decision TEXT CHECK (decision IN ('accept', 'excuse', 'dismiss')),
                        count INTEGER NOT NULL CHECK (count > 0)
                    );
                    CREATE INDEX report_agent_violation_period ON report_agent_violation(period_start);
                    -- A purge removes a customer's notifications and amendments without scanning them all.
                    CREATE INDEX outbox_customer ON outbox(customer_key, at) WHERE customer_key IS NOT NULL;
                    CREATE INDEX amendment_customer ON amendment(customer_key, at);
                    """)
        }
        migrator.registerMigration("v17-outbox-routed") { db in
            // The screen pop of a routed caller (`routed`) is a notification like the others; SQLite
            // cannot widen a CHECK, so the table is rebuilt with its sequence numbers kept.
            try db.execute(
                sql: """
                    CREATE TABLE outbox_new (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL CHECK (kind IN ('at_risk', 'breach', 'escalation', 'violation', 'reversal', 'review',
                            'feed_silent', 'feed_resumed', 'satisfied', 'acknowledged', 'cancelled', 'exhausted', 'routed')),
                        at INTEGER NOT NULL,
                        customer_key TEXT,
                        contact_id TEXT,
                        obligation_id TEXT,
                        violation_id TEXT,
                        department TEXT,
                        agent TEXT,
                        level INTEGER,
                        detail TEXT NOT NULL
                    );
                    INSERT INTO outbox_new SELECT seq, key, kind, at, customer_key, contact_id, obligation_id, violation_id,
                        department, agent, level, detail FROM outbox;
                    DROP TABLE outbox;
                    ALTER TABLE outbox_new RENAME TO outbox;
                    CREATE INDEX outbox_customer ON outbox(customer_key, at) WHERE customer_key IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v18-sources") { db in
            // Every record row and reject named its source in full (a file path, or an HTTP request
            // with its hash): the same day took 22 % more bytes from a longer directory. Sources
            // are a table of their own, referred to by id.
            try db.execute(
                sql: """
                    CREATE TABLE source (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    INSERT INTO source (name)
                        SELECT source FROM leg UNION SELECT source FROM queue_event UNION SELECT source FROM sip_event
                        UNION SELECT source FROM cel_event UNION SELECT source FROM ivr_event
                        UNION SELECT source FROM reject UNION SELECT source FROM reject_dropped
                        UNION SELECT source FROM source_activity
                        ORDER BY 1;
                    """)
            for table in Self.sourcedRecordTables {
                try Self.rebuild(
                    table, db: db, values: ["source_id": "(SELECT s.id FROM source s WHERE s.name = \(table).source)"]
                ) {
                    $0.replacingOccurrences(of: "source TEXT NOT NULL,", with: "source_id INTEGER NOT NULL,")
                }
            }
            try db.execute(
                sql: """
                    CREATE TABLE reject_new (
                        source_id INTEGER NOT NULL, byte_offset INTEGER NOT NULL, line INTEGER NOT NULL,
                        reason TEXT NOT NULL, raw BLOB NOT NULL,
                        raw_length INTEGER, raw_sha256 TEXT, stored_at INTEGER,
                        PRIMARY KEY (source_id, byte_offset)
                    ) WITHOUT ROWID;
                    INSERT INTO reject_new SELECT (SELECT id FROM source WHERE name = r.source), byte_offset, line, reason,
                        raw, raw_length, raw_sha256, stored_at FROM reject r;
                    DROP TABLE reject;
                    ALTER TABLE reject_new RENAME TO reject;

                    CREATE TABLE reject_dropped_new (
                        source_id INTEGER NOT NULL PRIMARY KEY,
                        dropped INTEGER NOT NULL,
                        high_offset INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO reject_dropped_new SELECT (SELECT id FROM source WHERE name = d.source), dropped, high_offset
                        FROM reject_dropped d;
                    DROP TABLE reject_dropped;
                    ALTER TABLE reject_dropped_new RENAME TO reject_dropped;

                    CREATE TABLE source_activity_new (
                        source_id INTEGER NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (source_id, minute)
                    ) WITHOUT ROWID;
                    INSERT INTO source_activity_new SELECT (SELECT id FROM source WHERE name = a.source), minute
                        FROM source_activity a;
                    DROP TABLE source_activity;
                    ALTER TABLE source_activity_new RENAME TO source_activity;
                    """)
        }
        migrator.registerMigration("v19-resume-points") { db in
            // Where the next derivation of a customer resumes its walk (ResumePoint): every input
            // before resume_before is in resume_state (ResumePoint.bytes), the contacts after the settled past.
            try db.execute(
                sql: """
                    ALTER TABLE customer ADD COLUMN resume_before INTEGER;
                    ALTER TABLE customer ADD COLUMN resume_state BLOB;
                    """)
        }
        migrator.registerMigration("v20-customer-indexes") { db in
            // A derivation finds a customer's violations of its unsettled contacts, and its actions
            // after its resume point: with the customer alone in the index, every violation and
            // action the customer ever had was read from the table to be filtered (≈ 35 row reads a
            // customer a day on day 32 of the history benchmark, and growing).
            try db.execute(
                sql: """
                    DROP INDEX violation_customer;
                    CREATE INDEX violation_customer ON violation(customer_key, contact_id);
                    DROP INDEX action_customer;
                    CREATE INDEX action_customer ON action(customer_key, at);
                    """)
        }
        migrator.registerMigration("v21-tally") { db in
            // The store's totals, kept by the writers (SQLiteTally) instead of counted at each read.
            try db.execute(sql: "CREATE TABLE tally (name TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID")
            try db.execute(sql: SQLiteTally.fill)
        }
        migrator.registerMigration("v22-customer-seq") { db in
            // Customers are numbered in the order they are first stored (`seq`), and a customer's
            // calls and IVR events are indexed by that number instead of by the customer's phone
            // number: a day's new customers then land at the end of those indexes instead of on
            // random pages of all history (the two largest B-trees a day rewrote all over;
            // BENCHMARKS.md, history). Existing customers are numbered in key order.
            try db.execute(
                sql: """
                    ALTER TABLE customer ADD COLUMN seq INTEGER;
                    CREATE UNIQUE INDEX customer_seq ON customer(seq);
                    ALTER TABLE call ADD COLUMN customer_seq INTEGER;
                    ALTER TABLE ivr_event ADD COLUMN customer_seq INTEGER;
                    """)
            try Self.numberCustomers(db)
            try db.execute(
                sql: """
                    DROP INDEX call_customer;
                    CREATE INDEX call_customer ON call(customer_seq, start);
                    DROP INDEX ivr_event_customer;
                    CREATE INDEX ivr_event_customer ON ivr_event(customer_seq, time);
                    """)
        }
        migrator.registerMigration("v23-customer-resume") { db in
            // A customer's resume point in a table of its own: in the customer row it made the row
            // ≈ 1 KB, so that marking a day's customers dirty and deriving them rewrote nearly every
            // page of `customer` twice a day (4,795 of 4,901 pages on day 30 of the history
            // benchmark, against 1,108 on day 2). `resume_before` stays in the row and says whether
            // there is a point: a mark drops it by clearing that column alone, and a trigger then
            // deletes the bytes, as it does a deleted customer's. A rowid table, not WITHOUT ROWID:
            // a point of ≈ 1 KB stays on its leaf page there, while WITHOUT ROWID moved most of
            // them to overflow pages (4,184 pages for 8.6 MB against 3,070).
            try db.execute(
                sql: """
                    CREATE TABLE customer_resume (
                        customer_key TEXT PRIMARY KEY NOT NULL,
                        state BLOB NOT NULL
                    );
                    INSERT INTO customer_resume (customer_key, state)
                        SELECT customer_key, resume_state FROM customer
                        WHERE resume_before IS NOT NULL AND resume_state IS NOT NULL;
                    ALTER TABLE customer DROP COLUMN resume_state;
                    CREATE TRIGGER customer_resume_dropped AFTER UPDATE OF resume_before ON customer
                        WHEN OLD.resume_before IS NOT NULL AND NEW.resume_before IS NULL
                        BEGIN DELETE FROM customer_resume WHERE customer_key = OLD.customer_key; END;
                    CREATE TRIGGER customer_resume_forgotten AFTER DELETE ON customer
                        BEGIN DELETE FROM customer_resume WHERE customer_key = OLD.customer_key; END;
                    """)
        }
        return migrator
    }

    /// The columns that hold a customer's number (v22): SQLite's own, so `store copy` neither
    /// reads nor writes them, and numbers the copied rows with ``numberCustomers(_:)``.
    static let customerNumberColumns: [String: Set<String>] = [
        "customer": ["seq"], "call": ["customer_seq"], "ivr_event": ["customer_seq"],
    ]

    /// Numbers the customers that have none yet, in key order after the highest number (first
    /// creating a row for any customer only a call or an IVR event names), and files every call
    /// and IVR event without a number under its customer's. Migration v22 runs this, so once v22
    /// is released it must keep doing what it does: number differently in a new function.
    static func numberCustomers(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO customer (customer_key)
                    SELECT customer_key FROM call WHERE customer_key IS NOT NULL
                    UNION SELECT customer_key FROM ivr_event
                """)
        var next = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM customer") ?? 0
        let keys = try String.fetchAll(
            db, sql: "SELECT customer_key FROM customer WHERE seq IS NULL ORDER BY customer_key")
        let number = try db.makeStatement(sql: "UPDATE customer SET seq = ? WHERE customer_key = ?")
        for key in keys {
            next += 1
            try number.execute(arguments: [next, key])
        }
        try db.execute(
            sql: """
                UPDATE call SET customer_seq = (SELECT seq FROM customer c WHERE c.customer_key = call.customer_key)
                    WHERE customer_key IS NOT NULL AND customer_seq IS NULL;
                UPDATE ivr_event SET customer_seq = (SELECT seq FROM customer c WHERE c.customer_key = ivr_event.customer_key)
                    WHERE customer_seq IS NULL;
                """)
    }

    /// The record tables whose rows name the source they were read from (v18 made it an id).
    static let sourcedRecordTables = ["leg", "queue_event", "sip_event", "cel_event", "ivr_event"]

    /// Rebuilds `table` with the definition `change` makes of its current one, keeping its rows
    /// (with their rowids) and its indexes other than the ones the old definition implied.
    /// `values` gives the SQL that fills a new column from the old row's (the others are copied).
    static func rebuild(
        _ table: String, db: Database, values: [String: String] = [:], change: (String) -> String
    ) throws {
        guard
            let definition = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table])
        else { throw StoreError.corrupt(table: table, rowid: nil, reason: "the table is missing") }
        let indexes = try String.fetchAll(
            db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            arguments: [table])
        let changed = change(definition)
        guard changed != definition, let open = changed.firstIndex(of: "(") else {
            throw StoreError.corrupt(table: table, rowid: nil, reason: "unexpected definition: \(definition)")
        }
        try db.execute(sql: "CREATE TABLE \(table)_rebuilt " + changed[open...])
        let kept = try db.columns(in: "\(table)_rebuilt").map(\.name).filter { values[$0] == nil }
        let columns = (["rowid"] + kept + values.keys.sorted()).joined(separator: ", ")
        let selected = (["rowid"] + kept + values.keys.sorted().map { values[$0] ?? "NULL" }).joined(separator: ", ")
        try db.execute(sql: "INSERT INTO \(table)_rebuilt (\(columns)) SELECT \(selected) FROM \(table)")
        try db.execute(sql: "DROP TABLE \(table)")
        try db.execute(sql: "ALTER TABLE \(table)_rebuilt RENAME TO \(table)")
        for index in indexes { try db.execute(sql: index) }
    }

    /// Gives obligations written as `<contact>-cb<n>` / `-ho<n>` the ids the engine now derives
    /// (``ObligationID/derived(customerKey:kind:createdAt:to:ordinal:)``), and moves what people
    /// stored against them (acknowledgements, violation reviews) along, so nothing is left
    /// pointing at an id that will not come back.
    static func renameObligations(_ db: Database) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, customer_key, kind, created_at, owner_department, rowid FROM obligation
                ORDER BY customer_key, created_at, contact_id, id
                """)
        var taken: Set<String> = []
        for row in rows {
            let old: String = row[0]
            let customer: String = row[1]
            guard let kind = ObligationKind(rawValue: row[2]) else {
                throw StoreError.corrupt(table: "obligation", rowid: row[5], reason: "unknown kind \(row[2] as String)")
            }
            let createdAt = Timestamp(seconds: row[3])
            let department = kind == .handoff ? DepartmentID(row[4] as String) : nil
            var ordinal = 1
            var new = ObligationID.derived(customerKey: customer, kind: kind, createdAt: createdAt, to: department)
            while taken.contains(new.rawValue) {
                ordinal += 1
                new = .derived(
                    customerKey: customer, kind: kind, createdAt: createdAt, to: department, ordinal: ordinal)
            }
            taken.insert(new.rawValue)
            guard new.rawValue != old else { continue }
            try db.execute(sql: "UPDATE obligation SET id = ? WHERE id = ?", arguments: [new.rawValue, old])
            try db.execute(
                sql: "UPDATE action SET obligation_id = ? WHERE obligation_id = ?", arguments: [new.rawValue, old])
            for suffix in [".v", ".ne"] {
                try db.execute(
                    sql: "UPDATE violation SET id = ? WHERE id = ?", arguments: [new.rawValue + suffix, old + suffix])
                try db.execute(
                    sql: "UPDATE violation_review SET violation_id = ? WHERE violation_id = ?",
                    arguments: [new.rawValue + suffix, old + suffix])
            }
            try db.execute(
                sql: "UPDATE violation SET obligation_id = ? WHERE obligation_id = ?", arguments: [new.rawValue, old])
        }
    }
}

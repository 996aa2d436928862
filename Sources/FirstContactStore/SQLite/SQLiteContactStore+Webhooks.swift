import FirstContactCore
import GRDB

/// Webhook delivery state: a cursor per URL and the dead letters.
extension SQLiteContactStore {
    package func webhookCursor(_ url: String, startingAtEnd: Bool, at time: Timestamp) async throws -> Int64 {
        try await self.pool.write { db in
            if let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM webhook_cursor WHERE url = ?", arguments: [url]) {
                return seq
            }
            // First time this URL is served: remember where it starts, so a restart neither
            // replays the history it skipped nor loses what came since.
            let start = startingAtEnd ? try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM outbox") ?? 0 : 0
            try db.execute(
                sql: "INSERT INTO webhook_cursor (url, seq, updated_at) VALUES (?, ?, ?)",
                arguments: [url, start, time.seconds])
            return start
        }
    }

    package func finishWebhookDelivery(_ url: String, seq: Int64, at time: Timestamp, deadLetter: DeadLetter?)
        async throws
    {
        try await self.pool.write { db in
            if let letter = deadLetter {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO webhook_dead_letter
                            (url, outbox_seq, outbox_key, kind, attempts, last_status, last_error, first_attempt_at, last_attempt_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        letter.url, letter.seq, letter.key, letter.kind, letter.attempts, letter.lastStatus,
                        letter.lastError,
                        letter.firstAttemptAt.seconds, letter.lastAttemptAt.seconds,
                    ])
                var tally = TallyDelta()
                tally.deadLetters = db.changesCount
                try SQLiteTally.add(tally, db)
            }
            // Never backwards: a cursor only moves on.
            try db.execute(
                sql: """
                    INSERT INTO webhook_cursor (url, seq, updated_at) VALUES (?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at
                    """, arguments: [url, seq, time.seconds])
        }
    }

    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await self.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_dead_letter ORDER BY id LIMIT ?", arguments: [limit]).map {
                row in
                DeadLetter(
                    url: row["url"], seq: row["outbox_seq"], key: row["outbox_key"], kind: row["kind"],
                    attempts: row["attempts"],
                    lastStatus: row["last_status"], lastError: row["last_error"],
                    firstAttemptAt: Timestamp(seconds: row["first_attempt_at"]),
                    lastAttemptAt: Timestamp(seconds: row["last_attempt_at"]))
            }
        }
    }
}

/// Leases divide work between instances on one database; one `serve` holds a SQLite file, so
/// it holds every lease.
extension SQLiteContactStore {
    package func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Bool { true }
    package func releaseLease(_ name: String, holder: String) async throws {}

    package func sharedSecret(_ name: String) async throws -> [UInt8]? { nil }

    /// One process writes the file, and its outbox feed polls it.
    package func listenForOutbox(
        listening: @escaping @Sendable () -> Void, notified: @escaping @Sendable () -> Void
    ) async throws {}
}

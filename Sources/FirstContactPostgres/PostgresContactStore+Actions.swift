import FirstContactCore
import FirstContactStore
import Foundation
import PostgresNIO

/// People's actions and reviews, the outbox, webhook delivery state; and what this store does
/// not do yet (reports, retention).
extension PostgresContactStore {
    package func obligation(_ id: ObligationID) async throws -> StoredObligation? {
        try await self.read { tx in
            guard
                let row = try await tx.rows(
                    "SELECT contact_id, customer_key FROM obligation WHERE id = ?",
                    {
                        $0.add(id.rawValue)
                    }
                ).first
            else { return nil }
            let c = Columns(row)
            let contactID = try c.text(0)
            guard
                let contact = try await Self.contacts(
                    tx, where: Condition(sql: "id = ?", values: [.text(contactID)]), limit: 1
                ).first,
                let obligation = contact.obligations.first(where: { $0.id == id })
            else { return nil }
            return StoredObligation(obligation: obligation, contact: contact.id, customerKey: try c.text(1))
        }
    }

    package func record(_ action: ManualAction) async throws {
        try await self.write { tx in
            let customer: String
            var obligationID: ObligationID?
            switch action.kind {
            case .acknowledge(let id):
                obligationID = id
                guard
                    let key = try await tx.value(
                        String.self, "SELECT customer_key FROM obligation WHERE id = ?",
                        {
                            $0.add(id.rawValue)
                        })
                else { throw StoreError.notFound("obligation \(id)") }
                customer = key
            case .open(let manual):
                customer = action.customerKey ?? manual.customer.text
            default:
                guard let contact = action.contact,
                    let key = try await tx.value(
                        String.self, "SELECT customer_key FROM contact WHERE id = ?",
                        {
                            $0.add(contact.rawValue)
                        })
                else { throw StoreError.notFound("contact \(action.contact?.rawValue ?? "?")") }
                customer = key
            }
            let payload = try ActionPayload(action.kind).encoded()
            // Actions in the same second apply in the order they were stored (seq); the table lock
            // keeps two instances from taking the same number.
            try await tx.run("LOCK TABLE action IN SHARE ROW EXCLUSIVE MODE")
            try await tx.run(
                """
                INSERT INTO action (id, customer_key, kind, obligation_id, contact_id, agent, at, payload, seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM action))
                ON CONFLICT (id) DO NOTHING
                """
            ) {
                $0.add(action.id)
                $0.add(customer)
                $0.add(action.kindName)
                $0.add(obligationID?.rawValue)
                $0.add(action.contact?.rawValue)
                $0.add(action.agent.rawValue)
                $0.add(action.at.seconds)
                $0.add(payload)
            }
            try await Self.markDirty(customer, since: nil, tx: tx)
        }
    }

    package func review(_ violation: ViolationID, _ review: ViolationReview) async throws {
        try await self.write { tx in
            guard
                let row = try await tx.rows(
                    "SELECT customer_key, contact_id, obligation_id, department, agent FROM violation WHERE id = ?",
                    {
                        $0.add(violation.rawValue)
                    }
                ).first
            else { throw StoreError.notFound("violation \(violation)") }
            let c = Columns(row)
            try await tx.run(
                """
                INSERT INTO violation_review (violation_id, decision, reason, reviewed_by, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (violation_id) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
                reviewed_by = excluded.reviewed_by, at = excluded.at
                """
            ) {
                $0.add(violation.rawValue)
                $0.add(review.decision.rawValue)
                $0.add(review.reason)
                $0.add(review.by)
                $0.add(review.at.seconds)
            }
            let notice = Notice.review(
                review, of: violation, contact: ContactID(try c.text(1)),
                obligation: try c.optionalText(2).map { ObligationID($0) }, department: DepartmentID(try c.text(3)),
                agent: try c.optionalText(4).map { AgentID($0) })
            try await Self.announce(notice, customer: try c.text(0), tx: tx)
        }
    }

    package func reviews() async throws -> [ViolationID: ViolationReview] {
        try await self.read { tx in try await Self.reviews(tx, where: .always) }
    }

    package func outbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await self.read { tx in
            try await tx.rows(
                """
                SELECT seq, key, kind, at, contact_id, obligation_id, violation_id, department, agent, level, detail
                FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?
                """
            ) {
                $0.add(seq)
                $0.add(limit)
            }.map { row in
                let c = Columns(row)
                let seq = try c.int64(0)
                return OutboxEntry(
                    seq: seq,
                    notice: Notice(
                        key: try c.text(1),
                        kind: try StoredRows.decode(try c.text(2), column: "kind", table: "outbox", rowid: seq),
                        at: Timestamp(seconds: try c.int64(3)), contact: try c.optionalText(4).map { ContactID($0) },
                        obligation: try c.optionalText(5).map { ObligationID($0) },
                        violation: try c.optionalText(6).map { ViolationID($0) },
                        department: try c.optionalText(7).map { DepartmentID($0) },
                        agent: try c.optionalText(8).map { AgentID($0) }, level: try c.optionalInt(9),
                        detail: try c.text(10)))
            }
        }
    }

    // MARK: Webhook delivery

    package func webhookCursor(_ url: String, startingAtEnd: Bool, at time: Timestamp) async throws -> Int64 {
        try await self.write { tx in
            let start =
                startingAtEnd ? try await tx.value(Int64.self, "SELECT coalesce(max(seq), 0) FROM outbox") ?? 0 : 0
            // Whoever stores the start first wins; everyone answers what is stored.
            try await tx.run(
                "INSERT INTO webhook_cursor (url, seq, updated_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING"
            ) {
                $0.add(url)
                $0.add(start)
                $0.add(time.seconds)
            }
            return try await tx.value(Int64.self, "SELECT seq FROM webhook_cursor WHERE url = ?") { $0.add(url) }
                ?? start
        }
    }

    package func finishWebhookDelivery(_ url: String, seq: Int64, at time: Timestamp, deadLetter: DeadLetter?)
        async throws
    {
        try await self.write { tx in
            if let letter = deadLetter {
                try await tx.run(
                    """
                    INSERT INTO webhook_dead_letter
                        (url, outbox_seq, outbox_key, kind, attempts, last_status, last_error, first_attempt_at, last_attempt_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """
                ) {
                    $0.add(letter.url)
                    $0.add(letter.seq)
                    $0.add(letter.key)
                    $0.add(letter.kind)
                    $0.add(letter.attempts)
                    $0.add(letter.lastStatus)
                    $0.add(letter.lastError)
                    $0.add(letter.firstAttemptAt.seconds)
                    $0.add(letter.lastAttemptAt.seconds)
                }
            }
            try await tx.run(
                """
                INSERT INTO webhook_cursor AS w (url, seq, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (url) DO UPDATE SET seq = GREATEST(w.seq, excluded.seq), updated_at = excluded.updated_at
                """
            ) {
                $0.add(url)
                $0.add(seq)
                $0.add(time.seconds)
            }
        }
    }

    package func deadLetters(limit: Int) async throws -> [DeadLetter] {
        try await self.read { tx in
            try await tx.rows(
                """
                SELECT url, outbox_seq, outbox_key, kind, attempts, last_status, last_error, first_attempt_at, last_attempt_at
                FROM webhook_dead_letter ORDER BY id LIMIT ?
                """
            ) { $0.add(limit) }.map { row in
                let c = Columns(row)
                return DeadLetter(
                    url: try c.text(0), seq: try c.int64(1), key: try c.text(2), kind: try c.text(3),
                    attempts: try c.int(4), lastStatus: try c.optionalInt(5), lastError: try c.text(6),
                    firstAttemptAt: Timestamp(seconds: try c.int64(7)),
                    lastAttemptAt: Timestamp(seconds: try c.int64(8)))
            }
        }
    }
}

/// Leases: the row is taken when free, expired or already this holder's, in one statement, so
/// two instances asking at once never both get it.
extension PostgresContactStore {
    package func acquireLease(_ name: String, holder: String, ttl: Duration) async throws -> Bool {
        let milliseconds = ttl.components.seconds * 1_000 + ttl.components.attoseconds / 1_000_000_000_000_000
        return try await self.write { tx in
            try await tx.run(
                """
                INSERT INTO lease AS l (name, holder, expires_at)
                VALUES (?1, ?2, clock_timestamp() + ?3 * interval '1 millisecond')
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE l.holder = excluded.holder OR l.expires_at < clock_timestamp()
                RETURNING 1
                """
            ) {
                $0.add(name)
                $0.add(holder)
                $0.add(milliseconds)
            } == 1
        }
    }

    package func releaseLease(_ name: String, holder: String) async throws {
        try await self.write { tx in
            try await tx.run("DELETE FROM lease WHERE name = ? AND holder = ?") {
                $0.add(name)
                $0.add(holder)
            }
        }
    }
}

extension PostgresContactStore {
    /// Kept in `meta` as hex; whoever stores it first wins, everyone answers what is stored.
    package func sharedSecret(_ name: String) async throws -> [UInt8]? {
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in String(format: "%02x", generator.next() as UInt8) }.joined()
        let key = "secret " + name
        let hex = try await self.write { tx in
            try await tx.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING") {
                $0.add(key)
                $0.add(fresh)
            }
            return try await Self.meta(tx, key)
        }
        guard let hex, hex.utf8.count == 64 else {
            throw StoreError.corrupt(table: "meta", rowid: nil, reason: "\(key) is not 32 bytes in hex")
        }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else {
                throw StoreError.corrupt(table: "meta", rowid: nil, reason: "\(key) is not 32 bytes in hex")
            }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// LISTENs on a connection of its own: notifications arrive only between transactions, and
    /// the store's one connection is always in one.
    package func listenForOutbox(
        listening: @escaping @Sendable () -> Void, notified: @escaping @Sendable () -> Void
    ) async throws {
        let connection = try await self.session.connect()
        let ended: Result<Void, any Error>
        do {
            try await connection.listen(on: PostgresTransaction.outboxChannel) { notifications in
                listening()
                for try await _ in notifications { notified() }
            }
            ended = .success(())
        } catch {
            ended = .failure(PostgresFailure.mapped(error, url: self.session.url))
        }
        do {
            try await connection.close()
        } catch {
            // Listening is over either way; what went wrong closing is only worth a line.
            Self.logger.debug("closing the LISTEN connection: \(error)")
        }
        try ended.get()
    }
}

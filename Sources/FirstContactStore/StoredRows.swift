import FirstContactCore

/// Takes a statement's values in parameter order. Both stores bind through it, so how a Core value
/// becomes columns (which fields, in which order, which encodings) is written once, in
/// ``StoredRows``, whatever the SQL dialect around it.
package protocol RowBinder {
    mutating func add(_ value: String)
    mutating func add(_ value: String?)
    mutating func add(_ value: Int64)
    mutating func add(_ value: Int64?)
    mutating func add(_ value: Int)
    mutating func add(_ value: Int?)
    mutating func add(_ value: Bool)
    mutating func add(_ value: [UInt8])
    mutating func add(_ value: [UInt8]?)
}

extension SQLiteBinder: RowBinder {}

/// Core values as stored rows: the column values of each table's INSERT, in the order of the
/// column lists the stores write (see each function for its columns).
package enum StoredRows {
    /// The name of a row's source, as a column of the row's SELECT: rows refer to their source by
    /// `source_id` (a path repeated on every row made the same day bigger from a longer directory).
    package static let sourceName = "(SELECT name FROM source WHERE source.id = source_id)"

    /// `leg (event_key, call_key, source_id, line, byte_offset, unique_id, src, caller_name, dst,
    /// context, channel, peer_channel, app, app_data, start, answer, end, billsec, disposition, sequence)`
    package static func bind(_ leg: LegRecord, source: Int64, into row: inout some RowBinder) {
        row.add(leg.key.rawValue)
        row.add(leg.call.rawValue)
        row.add(source)
        row.add(leg.position.line)
        row.add(leg.position.offset)
        row.add(leg.uniqueID)
        row.add(leg.source)
        row.add(leg.callerName)
        row.add(leg.destination)
        row.add(leg.context)
        row.add(leg.channel)
        row.add(leg.peerChannel)
        row.add(leg.application)
        row.add(leg.applicationData)
        row.add(leg.start.seconds)
        row.add(leg.answer?.seconds)
        row.add(leg.end.seconds)
        row.add(leg.billsec)
        row.add(leg.disposition.rawValue)
        row.add(leg.sequence)
    }

    /// `queue_event (event_key, call_key, source_id, line, byte_offset, time, queue, agent, event, text1, text2, number)`
    package static func bind(_ entry: QueueRecord, source: Int64, into row: inout some RowBinder) {
        let (event, text1, text2, number) = Self.encode(entry.event)
        row.add(entry.key.rawValue)
        row.add(entry.call.rawValue)
        row.add(source)
        row.add(entry.position.line)
        row.add(entry.position.offset)
        row.add(entry.time.seconds)
        row.add(entry.queue)
        row.add(entry.agent)
        row.add(event)
        row.add(text1)
        row.add(text2)
        row.add(number)
    }

    /// `sip_event (event_key, call_key, source_id, line, byte_offset, kind, method, code, reason,
    /// from_tag, to_tag, caller, dialled, target, agent, time, start, answer)`
    package static func bind(_ sip: SIPRecord, source: Int64, into row: inout some RowBinder) {
        row.add(sip.key.rawValue)
        row.add(sip.call.rawValue)
        row.add(source)
        row.add(sip.position.line)
        row.add(sip.position.offset)
        row.add(sip.kind.rawValue)
        row.add(sip.method)
        row.add(sip.code)
        row.add(sip.reason)
        row.add(sip.fromTag)
        row.add(sip.toTag)
        row.add(sip.caller)
        row.add(sip.dialled)
        row.add(sip.target)
        row.add(sip.agent)
        row.add(sip.time.seconds)
        row.add(sip.start?.seconds)
        row.add(sip.answer?.seconds)
    }

    /// `cel_event (event_key, call_key, source_id, line, byte_offset, event, time, micros, cid_name,
    /// cid_num, exten, context, channel, app, app_data, unique_id, peer, hangup_cause, dial_status,
    /// bridge_id, transfer_exten, transfer_context, transferee, transfer_target)`
    package static func bind(_ cel: CELRecord, source: Int64, into row: inout some RowBinder) {
        row.add(cel.key.rawValue)
        row.add(cel.call.rawValue)
        row.add(source)
        row.add(cel.position.line)
        row.add(cel.position.offset)
        row.add(cel.event.name)
        row.add(cel.time.seconds)
        row.add(cel.microseconds)
        row.add(cel.callerName)
        row.add(cel.callerNumber)
        row.add(cel.exten)
        row.add(cel.context)
        row.add(cel.channel)
        row.add(cel.application)
        row.add(cel.applicationData)
        row.add(cel.uniqueID)
        row.add(cel.peer)
        row.add(cel.extra.hangupCause)
        row.add(cel.extra.dialStatus)
        row.add(cel.extra.bridgeID)
        row.add(cel.extra.transferExtension)
        row.add(cel.extra.transferContext)
        row.add(cel.extra.transfereeChannel)
        row.add(cel.extra.transferTargetChannel)
    }

    /// Where an IVR event is filed: under its caller's number, or (a withheld caller who keyed a
    /// number) under that number; `callback` is another number keyed for a callback, whose
    /// outbound calls re-derive this customer too.
    package struct IVRFiling: Sendable {
        package var customer: String
        package var callback: String?
        package var digit: String?
        package var number: String?

        package init(_ event: IVRRecord, directory: Directory) {
            let caller = directory.normaliser.normalise(event.caller)
            var keyed: CustomerNumber?
            if case .callbackRequest(let number?) = event.kind { keyed = directory.normaliser.normalise(number) }
            if case .menuChoice(let pressed) = event.kind { self.digit = pressed }
            let customer = caller == .withheld ? (keyed ?? caller).text : caller.text
            self.customer = customer
            self.callback = keyed.flatMap { $0.text == customer || $0 == .withheld ? nil : $0.text }
            if case .callbackRequest(let number) = event.kind { self.number = number }
        }
    }

    /// `ivr_event (event_key, customer_key, callback_key, source_id, line, byte_offset, time, kind,
    /// caller, digit, number, call_ref)`
    package static func bind(
        _ event: IVRRecord, filed filing: IVRFiling, source: Int64, into row: inout some RowBinder
    ) {
        row.add(event.key.rawValue)
        row.add(filing.customer)
        row.add(filing.callback)
        row.add(source)
        row.add(event.position.line)
        row.add(event.position.offset)
        row.add(event.time.seconds)
        row.add(event.kindName)
        row.add(event.caller)
        row.add(filing.digit)
        row.add(filing.number)
        row.add(event.callReference)
    }

    /// `contact (id, customer_key, customer, customer_raw, channel, department, category, status,
    /// repeat_of, fr_agent, fr_bound_at, fr_via, fr_call, ring_no_answer, calls, created_at,
    /// last_activity, closed_at)`
    package static func bind(_ contact: Contact, customer: String, into row: inout some RowBinder) {
        let responder = contact.firstResponder
        row.add(contact.id.rawValue)
        row.add(customer)
        row.add(contact.customer.text)
        row.add(contact.customerRaw)
        row.add(contact.channel.rawValue)
        row.add(contact.department?.rawValue)
        row.add(contact.category.rawValue)
        row.add(contact.status.rawValue)
        row.add(contact.repeatOf?.rawValue)
        row.add(responder?.agent.rawValue)
        row.add(responder?.boundAt.seconds)
        row.add(responder?.via.rawValue)
        row.add(responder?.call?.rawValue)
        row.add(contact.ringNoAnswer.map(\.rawValue).joined(separator: ","))
        row.add(contact.calls.map(\.rawValue).joined(separator: ","))
        row.add(contact.createdAt.seconds)
        row.add(contact.lastActivity.seconds)
        row.add(contact.closedAt?.seconds)
    }

    /// `obligation (id, contact_id, customer_key, kind, owner_department, owner_agent, created_at,
    /// due_at, ack_due_at, acknowledged_at, state, at_risk, uncertain, satisfied_at, satisfied_by,
    /// satisfied_via, attempts, missed_count, escalation_level, breached_at, call_key, callback_number)`
    package static func bind(
        _ o: Obligation, contact: ContactID, customer: String, into row: inout some RowBinder
    ) {
        row.add(o.id.rawValue)
        row.add(contact.rawValue)
        row.add(customer)
        row.add(o.kind.rawValue)
        row.add(o.owner.department.rawValue)
        row.add(o.owner.agent?.rawValue)
        row.add(o.createdAt.seconds)
        row.add(o.dueAt.seconds)
        row.add(o.ackDueAt?.seconds)
        row.add(o.acknowledgedAt?.seconds)
        row.add(o.state.rawValue)
        row.add(o.atRisk)
        row.add(o.uncertain)
        row.add(o.satisfiedAt?.seconds)
        row.add(o.satisfiedBy?.rawValue)
        row.add(o.satisfiedVia?.rawValue)
        row.add(o.attempts)
        row.add(o.missedCount)
        row.add(o.escalationLevel)
        row.add(o.breachedAt?.seconds)
        row.add(o.call.rawValue)
        row.add(o.callbackNumber?.text)
    }

    /// `violation (id, customer_key, obligation_id, contact_id, category, department, agent, at, remedied_at)`
    package static func bind(_ violation: Violation, customer: String, into row: inout some RowBinder) {
        row.add(violation.id.rawValue)
        row.add(customer)
        row.add(violation.obligation?.rawValue)
        row.add(violation.contact.rawValue)
        row.add(violation.category.rawValue)
        row.add(violation.department.rawValue)
        row.add(violation.agent?.rawValue)
        row.add(violation.at.seconds)
        row.add(violation.remediedAt?.seconds)
    }

    /// `outbox (key, kind, at, customer_key, contact_id, obligation_id, violation_id, department,
    /// agent, level, detail)`
    package static func bind(_ notice: Notice, customer: String?, into row: inout some RowBinder) {
        row.add(notice.key)
        row.add(notice.kind.rawValue)
        row.add(notice.at.seconds)
        row.add(customer)
        row.add(notice.contact?.rawValue)
        row.add(notice.obligation?.rawValue)
        row.add(notice.violation?.rawValue)
        row.add(notice.department?.rawValue)
        row.add(notice.agent?.rawValue)
        row.add(notice.level)
        row.add(notice.detail)
    }

    /// `reject (source_id, byte_offset, line, reason, raw, raw_length, raw_sha256, stored_at)`
    package static func bind(
        _ reject: Reject, source: Int64, storedAt: Timestamp?, into row: inout some RowBinder
    ) {
        row.add(source)
        row.add(reject.position.offset)
        row.add(reject.position.line)
        row.add(reject.reason)
        row.add(reject.raw)
        row.add(reject.isRawTruncated ? reject.rawLength : nil)
        row.add(reject.rawSHA256)
        row.add(storedAt?.seconds)
    }

    /// `follow_checkpoint (path, device, inode, byte_offset, next_line, fingerprint,
    /// fingerprint_length, generation)`; device and inode keep their 64 bits in signed columns.
    package static func bind(_ checkpoint: FollowCheckpoint, into row: inout some RowBinder) {
        row.add(checkpoint.path)
        row.add(Int64(bitPattern: checkpoint.device))
        row.add(Int64(bitPattern: checkpoint.inode))
        row.add(checkpoint.offset)
        row.add(checkpoint.nextLine)
        row.add(checkpoint.fingerprint)
        row.add(checkpoint.fingerprintLength)
        row.add(checkpoint.generation)
    }

    /// A queue event as its `event`, `text1`, `text2` and `number` columns.
    package static func encode(_ event: QueueEvent) -> (String, String, String, Int) {
        switch event {
        case .entered(let number): ("entered", number, "", 0)
        case .connected(let hold, let member): ("connected", member, "", hold)
        case .ringNoAnswer: ("ring_no_answer", "", "", 0)
        case .abandoned(let wait): ("abandoned", "", "", wait)
        case .exited(let reason, let wait): ("exited", reason, "", wait)
        case .completed: ("completed", "", "", 0)
        case .transferred(let ext, let context): ("transferred", ext, context, 0)
        case .other(let name): ("other", name, "", 0)
        }
    }

    /// The queue event its columns hold; an unknown `event` makes the row corrupt.
    package static func decode(event: String, text1: String, text2: String, number: Int, rowid: Int64) throws
        -> QueueEvent
    {
        switch event {
        case "entered": .entered(callerNumber: text1)
        case "connected": .connected(holdSeconds: number, memberUniqueID: text1)
        case "ring_no_answer": .ringNoAnswer
        case "abandoned": .abandoned(waitSeconds: number)
        case "exited": .exited(reason: text1, waitSeconds: number)
        case "completed": .completed
        case "transferred": .transferred(extension: text1, context: text2)
        case "other": .other(name: text1)
        default: throw StoreError.corrupt(table: "queue_event", rowid: rowid, reason: "unexpected event \"\(event)\"")
        }
    }

    /// An enum stored as its raw text; a value this build does not know makes the row corrupt.
    package static func decode<T: RawRepresentable>(_ text: String, column: String, table: String, rowid: Int64?)
        throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw StoreError.corrupt(table: table, rowid: rowid, reason: "unexpected \(column) \"\(text)\"")
        }
        return value
    }

    /// What marking a customer dirty sets, column by column: dirty, and a settled past or resume
    /// point dropped unless it ends at or before `since` (an SQL parameter; NULL drops them), the
    /// settled past down to the purged one. `stored` and `values` are the row before and after
    /// as row values, so that a mark that changes nothing can be told and skipped
    /// (`WHERE stored IS NOT values`; PostgreSQL `IS DISTINCT FROM`).
    /// - Parameters:
    ///   - row: the stored row's qualifier in the dialect's upsert (`c.` in PostgreSQL's).
    ///   - dirty: the dialect's true (`1`, `TRUE`).
    package static func markedColumns(keepingBefore since: String, row: String = "", dirty: String = "1")
        -> (set: String, stored: String, values: String)
    {
        let settled = "\(row)settled_before <= \(since)"
        let resume = "\(row)resume_before <= \(since)"
        let columns: [(String, String)] = [
            ("dirty", dirty),
            ("settled_before", "CASE WHEN \(settled) THEN \(row)settled_before ELSE \(row)purged_before END"),
            ("settled_contact", "CASE WHEN \(settled) THEN \(row)settled_contact ELSE \(row)purged_contact END"),
            ("settled_closed", "CASE WHEN \(settled) THEN \(row)settled_closed ELSE \(row)purged_closed END"),
            ("resume_before", "CASE WHEN \(resume) THEN \(row)resume_before END"),
        ]
        return (
            columns.map { "\($0.0) = \($0.1)" }.joined(separator: ", "),
            "(" + columns.map { row + $0.0 }.joined(separator: ", ") + ")",
            "(" + columns.map(\.1).joined(separator: ", ") + ")"
        )
    }

    /// What a derivation leaves in its customer's row: `UPDATE customer SET …` with
    /// ``derivedColumns(resume:)``, bound by ``bindDerived(_:nextCheck:customer:resume:into:)``.
    /// The point's bytes go to `customer_resume` (``writeResumeState``): the row keeps only
    /// `resume_before`, which says whether there are bytes (clearing it, or deleting the customer,
    /// deletes them: a trigger of both stores' schema).
    /// - Parameter resume: whether the resume point changed (else its columns are left as they
    ///   are: a derivation that only moved the clock leaves the same point, not worth encoding).
    package static func derivedColumns(resume: Bool) -> String {
        let columns = "next_check = ?, settled_before = ?, settled_contact = ?, settled_closed = ?"
        return resume ? columns + ", resume_before = ?" : columns
    }

    /// A new resume point's bytes (customer key, ``ResumePoint/bytes``); the same SQL in both dialects.
    package static let writeResumeState = """
        INSERT INTO customer_resume (customer_key, state) VALUES (?, ?)
        ON CONFLICT (customer_key) DO UPDATE SET state = excluded.state
        """
    /// The stored resume point's bytes as a column of a query on `customer` (named `row` there),
    /// NULL when the row keeps no point.
    package static func resumeState(_ row: String) -> String {
        """
        (SELECT r.state FROM customer_resume r
        WHERE r.customer_key = \(row).customer_key AND \(row).resume_before IS NOT NULL)
        """
    }

    package static func bindDerived(
        _ derivation: Derivation, nextCheck: Timestamp?, customer: String, resume: Bool, into row: inout some RowBinder
    ) {
        row.add(nextCheck?.seconds)
        row.add(derivation.settled?.before.seconds)
        row.add(derivation.settled?.last?.id.rawValue)
        row.add(derivation.settled?.last?.closedAt.seconds)
        if resume { row.add(derivation.resume?.before.seconds) }
        row.add(customer)
    }

    /// A settled past as a customer row keeps it (`settled_before`, `settled_contact`,
    /// `settled_closed`, or the `purged_` ones): the contact and its closing time are both there or
    /// both absent (the customer has had no contact); nil without `before`, or with half a contact.
    package static func settledPast(before: Int64?, contact: String?, closed: Int64?) -> SettledPast? {
        guard let before else { return nil }
        switch (contact, closed) {
        case (let contact?, let closed?):
            return SettledPast(
                before: Timestamp(seconds: before),
                last: .init(ContactID(contact), closedAt: Timestamp(seconds: closed)))
        case (nil, nil): return SettledPast(before: Timestamp(seconds: before), last: nil)
        default: return nil
        }
    }

    /// The earlier of two times, where nil (unknown: from the beginning) is earliest.
    package static func earlier(_ a: Timestamp?, _ b: Timestamp?) -> Timestamp? {
        guard let a, let b else { return nil }
        return min(a, b)
    }
}

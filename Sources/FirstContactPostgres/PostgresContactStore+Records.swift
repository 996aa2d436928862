import FirstContactCore
import FirstContactStore
import PostgresNIO

/// Stored records read back for derivation: calls' records by call, IVR events and people's
/// actions by customer.
extension PostgresContactStore {
    /// Which record tables hold anything (a deployment reads one PBX's formats): one query.
    struct RecordTables: Sendable {
        var legs = true
        var queue = true
        var sip = true
        var cel = true
        var actions = true
        var ivr = true

        static func present(_ tx: PostgresTransaction) async throws -> RecordTables {
            guard
                let row = try await tx.rows(
                    """
                    SELECT EXISTS (SELECT 1 FROM leg), EXISTS (SELECT 1 FROM queue_event), EXISTS (SELECT 1 FROM sip_event),
                    EXISTS (SELECT 1 FROM cel_event), EXISTS (SELECT 1 FROM action), EXISTS (SELECT 1 FROM ivr_event)
                    """
                ).first
            else { return RecordTables() }
            let c = Columns(row)
            return RecordTables(
                legs: try c.bool(0), queue: try c.bool(1), sip: try c.bool(2), cel: try c.bool(3),
                actions: try c.bool(4), ivr: try c.bool(5))
        }
    }

    static func records(of call: CallKey, tx: PostgresTransaction) async throws -> [CallRecord] {
        try await Self.records(tx, tables: RecordTables(), where: "call_key = ?") { $0.add(call.rawValue) }
            .flatMap(\.value)
    }

    /// The calls of a customer (bound first) that started at or after a time (bound second), as
    /// a condition on a record table's `call_key`. As an array, not `IN (SELECT …)`: on tables
    /// never analyzed (a first ingest, one long transaction) the planner chose a hash join over
    /// a sequential scan of the whole record table for `IN`, once per customer derived, so a
    /// day's ingest grew with the square of its size (BENCHMARKS.md, PostgreSQL ingest).
    static let customerCalls = "call_key = ANY (ARRAY(SELECT call_key FROM call WHERE customer_key = ? AND start >= ?))"

    /// Every record of every call of `customer` that started at or after `since`, by call.
    static func records(
        ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, tables: RecordTables = RecordTables(),
        tx: PostgresTransaction
    ) async throws -> [(CallKey, [CallRecord])] {
        let grouped = try await Self.records(
            tx, tables: tables, where: Self.customerCalls
        ) {
            $0.add(customer)
            $0.add(since.seconds)
        }
        return grouped.keys.sorted().map { ($0, grouped[$0] ?? []) }
    }

    static func records(
        _ tx: PostgresTransaction, tables: RecordTables, where condition: String,
        _ bind: (inout PostgresBinder) -> Void
    ) async throws -> [CallKey: [CallRecord]] {
        var result: [CallKey: [CallRecord]] = [:]
        if tables.legs {
            for row in try await tx.rows(
                """
                SELECT event_key, \(StoredRows.sourceName), line, byte_offset, unique_id, src, caller_name, dst, context, channel, peer_channel,
                app, app_data, start, answer, "end", billsec, disposition, sequence, call_key, rowid FROM leg WHERE \(condition)
                ORDER BY rowid
                """, bind)
            {
                let c = Columns(row)
                let call = CallKey(rawValue: try c.text(19))
                let disposition = try c.text(17)
                guard let known = LegDisposition(rawValue: disposition) else {
                    throw StoreError.corrupt(
                        table: "leg", rowid: try c.int64(20), reason: "unexpected disposition \"\(disposition)\"")
                }
                result[call, default: []].append(
                    .leg(
                        LegRecord(
                            key: EventKey(rawValue: try c.text(0)),
                            position: SourcePosition(source: try c.text(1), line: try c.int(2), offset: try c.int64(3)),
                            call: call, uniqueID: try c.text(4), source: try c.text(5), callerName: try c.text(6),
                            destination: try c.text(7), context: try c.text(8), channel: try c.text(9),
                            peerChannel: try c.text(10), application: try c.text(11), applicationData: try c.text(12),
                            start: Timestamp(seconds: try c.int64(13)),
                            answer: try c.optionalInt64(14).map { Timestamp(seconds: $0) },
                            end: Timestamp(seconds: try c.int64(15)), billsec: try c.int(16),
                            disposition: known, sequence: try c.optionalInt(18))))
            }
        }
        if tables.queue {
            for row in try await tx.rows(
                """
                SELECT event_key, \(StoredRows.sourceName), line, byte_offset, time, queue, agent, event, text1, text2, number, call_key, rowid
                FROM queue_event WHERE \(condition) ORDER BY rowid
                """, bind)
            {
                let c = Columns(row)
                let call = CallKey(rawValue: try c.text(11))
                result[call, default: []].append(
                    .queue(
                        QueueRecord(
                            key: EventKey(rawValue: try c.text(0)),
                            position: SourcePosition(source: try c.text(1), line: try c.int(2), offset: try c.int64(3)),
                            call: call, time: Timestamp(seconds: try c.int64(4)), queue: try c.text(5),
                            agent: try c.text(6),
                            event: try StoredRows.decode(
                                event: try c.text(7), text1: try c.text(8), text2: try c.text(9), number: try c.int(10),
                                rowid: try c.int64(12)))))
            }
        }
        if tables.sip {
            for row in try await tx.rows(
                """
                SELECT event_key, \(StoredRows.sourceName), line, byte_offset, call_key, kind, method, code, reason, from_tag, to_tag,
                caller, dialled, target, agent, time, start, answer, rowid FROM sip_event WHERE \(condition) ORDER BY rowid
                """, bind)
            {
                let c = Columns(row)
                let call = CallKey(rawValue: try c.text(4))
                let kindText = try c.text(5)
                guard let kind = SIPRecord.Kind(rawValue: kindText) else {
                    throw StoreError.corrupt(
                        table: "sip_event", rowid: try c.int64(18), reason: "unexpected kind \"\(kindText)\"")
                }
                result[call, default: []].append(
                    .sip(
                        SIPRecord(
                            key: EventKey(rawValue: try c.text(0)),
                            position: SourcePosition(source: try c.text(1), line: try c.int(2), offset: try c.int64(3)),
                            call: call, kind: kind, method: try c.text(6), code: try c.optionalInt(7),
                            reason: try c.text(8), fromTag: try c.text(9), toTag: try c.text(10),
                            caller: try c.text(11),
                            dialled: try c.text(12), target: try c.text(13), agent: try c.text(14),
                            time: Timestamp(seconds: try c.int64(15)),
                            start: try c.optionalInt64(16).map { Timestamp(seconds: $0) },
                            answer: try c.optionalInt64(17).map { Timestamp(seconds: $0) })))
            }
        }
        if tables.cel {
            for row in try await tx.rows(
                """
                SELECT event_key, \(StoredRows.sourceName), line, byte_offset, call_key, event, time, micros, cid_name, cid_num, exten,
                context, channel, app, app_data, unique_id, peer, hangup_cause, dial_status, bridge_id,
                transfer_exten, transfer_context, transferee, transfer_target FROM cel_event WHERE \(condition) ORDER BY rowid
                """, bind)
            {
                let c = Columns(row)
                let call = CallKey(rawValue: try c.text(4))
                result[call, default: []].append(
                    .cel(
                        CELRecord(
                            key: EventKey(rawValue: try c.text(0)),
                            position: SourcePosition(source: try c.text(1), line: try c.int(2), offset: try c.int64(3)),
                            call: call, event: CELRecord.Event(name: try c.text(5)),
                            time: Timestamp(seconds: try c.int64(6)), microseconds: try c.int(7),
                            callerName: try c.text(8), callerNumber: try c.text(9), exten: try c.text(10),
                            context: try c.text(11), channel: try c.text(12), application: try c.text(13),
                            applicationData: try c.text(14), uniqueID: try c.text(15), peer: try c.text(16),
                            extra: CELRecord.Extra(
                                hangupCause: try c.optionalInt(17), dialStatus: try c.text(18),
                                bridgeID: try c.text(19), transferExtension: try c.text(20),
                                transferContext: try c.text(21), transfereeChannel: try c.text(22),
                                transferTargetChannel: try c.text(23)))))
            }
        }
        return result
    }

    static func ivrEvents(ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, tx: PostgresTransaction)
        async throws -> [IVRRecord]
    {
        try await tx.rows(
            """
            SELECT event_key, \(StoredRows.sourceName), line, byte_offset, time, kind, caller, digit, number, call_ref, rowid
            FROM ivr_event WHERE customer_key = ? AND time >= ? ORDER BY rowid
            """
        ) {
            $0.add(customer)
            $0.add(since.seconds)
        }.map { row in
            let c = Columns(row)
            let kind: IVRRecord.Kind
            switch try c.text(5) {
            case "menu-choice": kind = .menuChoice(digit: try c.optionalText(7) ?? "")
            case "callback-request": kind = .callbackRequest(number: try c.optionalText(8))
            case "voicemail": kind = .voicemail
            case "menu-hangup": kind = .menuHangup
            case let other:
                throw StoreError.corrupt(
                    table: "ivr_event", rowid: try c.int64(10), reason: "unexpected kind \"\(other)\"")
            }
            return IVRRecord(
                key: EventKey(rawValue: try c.text(0)),
                position: SourcePosition(source: try c.text(1), line: try c.int(2), offset: try c.int64(3)),
                time: Timestamp(seconds: try c.int64(4)), caller: try c.text(6), callReference: try c.text(9),
                kind: kind)
        }
    }

    static func actions(ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, tx: PostgresTransaction)
        async throws -> [ManualAction]
    {
        try await tx.rows(
            """
            SELECT id, kind, obligation_id, contact_id, agent, at, payload, rowid, seq FROM action
            WHERE customer_key = ? AND at >= ? ORDER BY rowid
            """
        ) {
            $0.add(customer)
            $0.add(since.seconds)
        }.map { row in
            let c = Columns(row)
            return try ActionPayload.action(
                id: try c.text(0), kind: try c.text(1), obligation: try c.optionalText(2),
                contact: try c.optionalText(3),
                agent: try c.text(4), at: try c.int64(5), payload: try c.optionalText(6), sequence: try c.int64(8),
                rowid: try c.int64(7))
        }
    }
}

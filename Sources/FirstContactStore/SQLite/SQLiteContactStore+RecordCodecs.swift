import FirstContactCore
import GRDB

/// Source records to rows and back: one table per record kind, columns by position on the read path.
extension SQLiteContactStore {
    /// Stores one IVR event under its caller's number unless its key is already stored.
    /// - Returns: the customer it belongs to when it was new.
    static func insert(
        _ event: IVRRecord, source: Int64, directory: Directory, customers: inout BatchCustomers, db: Database
    ) throws -> String? {
        let filing = StoredRows.IVRFiling(event, directory: directory)
        try customers.ensure(filing.customer, db: db)
        let inserted = try db.run(
            """
            INSERT OR IGNORE INTO ivr_event (event_key, customer_key, callback_key, source_id, line, byte_offset, time, kind,
            caller, digit, number, call_ref, customer_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(Self.customerSeq("?2")))
            """
        ) { StoredRows.bind(event, filed: filing, source: source, into: &$0) }
        return inserted > 0 ? filing.customer : nil
    }

    /// The IVR events of a customer, at or after `since`.
    static func ivrEvents(
        ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, names: SourceNames = SourceNames(),
        db: Database
    ) throws -> [IVRRecord] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT event_key, source_id, line, byte_offset, time, kind, caller, digit, number, call_ref, rowid
                    FROM ivr_event WHERE customer_seq = \(Self.customerSeq("?1")) AND time >= ?2
                    """), arguments: [customer, since.seconds]
        ).map { row in
            let kind: IVRRecord.Kind
            switch row[5] as String {
            case "menu-choice": kind = .menuChoice(digit: row[7] ?? "")
            case "callback-request": kind = .callbackRequest(number: row[8])
            case "voicemail": kind = .voicemail
            case "menu-hangup": kind = .menuHangup
            case let other:
                throw StoreError.corrupt(table: "ivr_event", rowid: row[10], reason: "unexpected kind \"\(other)\"")
            }
            return IVRRecord(
                key: EventKey(rawValue: row[0]),
                position: SourcePosition(source: try names.name(row[1], db: db), line: row[2], offset: row[3]),
                time: Timestamp(seconds: row[4]), caller: row[6], callReference: row[9], kind: kind)
        }
    }

    /// Inserts one record unless its key is already stored. - Returns: whether it was new.
    static func insert(_ record: CallRecord, source: Int64, db: Database) throws -> Bool {
        switch record {
        case .leg(let leg):
            return try db.run(
                """
                INSERT OR IGNORE INTO leg (event_key, call_key, source_id, line, byte_offset, unique_id, src, caller_name, dst,
                context, channel, peer_channel, app, app_data, start, answer, end, billsec, disposition, sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) { StoredRows.bind(leg, source: source, into: &$0) } > 0
        case .queue(let entry):
            return try db.run(
                """
                INSERT OR IGNORE INTO queue_event (event_key, call_key, source_id, line, byte_offset, time, queue, agent, event, text1, text2, number)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) { StoredRows.bind(entry, source: source, into: &$0) } > 0
        case .sip(let row):
            return try db.run(
                """
                INSERT OR IGNORE INTO sip_event (event_key, call_key, source_id, line, byte_offset, kind, method, code, reason,
                from_tag, to_tag, caller, dialled, target, agent, time, start, answer)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) { StoredRows.bind(row, source: source, into: &$0) } > 0
        case .cel(let row):
            return try db.run(
                """
                INSERT OR IGNORE INTO cel_event (event_key, call_key, source_id, line, byte_offset, event, time, micros,
                cid_name, cid_num, exten, context, channel, app, app_data, unique_id, peer, hangup_cause, dial_status,
                bridge_id, transfer_exten, transfer_context, transferee, transfer_target)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) { StoredRows.bind(row, source: source, into: &$0) } > 0
        case .ivr:
            preconditionFailure("IVR events are stored by insert(_:directory:db:)")
        }
    }
    /// Which record tables hold anything: a deployment reads one PBX's formats, and querying
    /// empty tables for every derived customer cost ≈18 % of an ingest (100k-call benchmark).
    /// The tables holding a call's records (each row carries its `call_key`), in one place for
    /// every query that must reach all of them: a purge, a backfill's marks.
    package static let callRecordTables = ["leg", "queue_event", "sip_event", "cel_event"]

    struct RecordTables {
        var legs = true
        var queue = true
        var sip = true
        var cel = true
        /// People's actions (acknowledgements): rare, so usually there is nothing to read.
        var actions = true
        /// IVR events: only where a PBX posts them.
        var ivr = true

        static func present(_ db: Database) throws -> RecordTables {
            func any(_ table: String) throws -> Bool {
                try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM \(table))")) ?? true
            }
            return RecordTables(
                legs: try any("leg"), queue: try any("queue_event"), sip: try any("sip_event"),
                cel: try any("cel_event"), actions: try any("action"),
                ivr: try any("ivr_event"))
        }
    }

    static func records(of call: CallKey, names: SourceNames = SourceNames(), db: Database) throws -> [CallRecord] {
        try Self.records(
            db, tables: RecordTables(), names: names, legs: "leg WHERE call_key = ?",
            queue: "queue_event WHERE call_key = ?",
            sip: "sip_event WHERE call_key = ?", cel: "cel_event WHERE call_key = ?", [call.rawValue]
        ).flatMap(\.value)
    }

    /// Every record of every call of a customer that started at or after `since`, by call, one
    /// query per record table in use.
    static func records(
        ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, tables: RecordTables = RecordTables(),
        names: SourceNames = SourceNames(), db: Database
    ) throws -> [(CallKey, [CallRecord])] {
        let calls =
            "call_key IN (SELECT call_key FROM call WHERE customer_seq = \(Self.customerSeq("?")) AND start >= ?)"
        let grouped = try Self.records(
            db, tables: tables, names: names, legs: "leg WHERE \(calls)", queue: "queue_event WHERE \(calls)",
            sip: "sip_event WHERE \(calls)", cel: "cel_event WHERE \(calls)", [customer, since.seconds])
        // Calls whose records are all system lines still belong to nobody: nothing is lost by skipping them.
        return grouped.keys.sorted().map { ($0, grouped[$0] ?? []) }
    }

    static func records(
        _ db: Database, tables: RecordTables, names: SourceNames, legs from: String, queue queueFrom: String,
        sip sipFrom: String,
        cel celFrom: String, _ arguments: StatementArguments
    ) throws -> [CallKey: [CallRecord]] {
        var result: [CallKey: [CallRecord]] = [:]
        if tables.legs {
            // Columns by position, not by name: name lookups were a visible cost when re-assembling calls.
            let legs = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT event_key, source_id, line, byte_offset, unique_id, src, caller_name, dst, context, channel, peer_channel,
                        app, app_data, start, answer, end, billsec, disposition, sequence, call_key, rowid FROM \(from)
                        """), arguments: arguments)
            while let row = try legs.next() {
                let call = CallKey(rawValue: row[19])
                let answer: Int64? = row[14]
                guard let disposition = LegDisposition(rawValue: row[17]) else {
                    throw StoreError.corrupt(
                        table: "leg", rowid: row[20], reason: "unexpected disposition \"\(row[17] as String)\"")
                }
                result[call, default: []].append(
                    .leg(
                        LegRecord(
                            key: EventKey(rawValue: row[0]),
                            position: SourcePosition(
                                source: try names.name(row[1], db: db), line: row[2], offset: row[3]),
                            call: call, uniqueID: row[4], source: row[5], callerName: row[6], destination: row[7],
                            context: row[8],
                            channel: row[9], peerChannel: row[10], application: row[11], applicationData: row[12],
                            start: Timestamp(seconds: row[13]), answer: answer.map { Timestamp(seconds: $0) },
                            end: Timestamp(seconds: row[15]), billsec: row[16],
                            disposition: disposition, sequence: row[18])))
            }
        }
        if tables.queue {
            let queue = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT event_key, source_id, line, byte_offset, time, queue, agent, event, text1, text2, number, call_key, rowid
                        FROM \(queueFrom)
                        """), arguments: arguments)
            while let row = try queue.next() {
                let call = CallKey(rawValue: row[11])
                result[call, default: []].append(
                    .queue(
                        QueueRecord(
                            key: EventKey(rawValue: row[0]),
                            position: SourcePosition(
                                source: try names.name(row[1], db: db), line: row[2], offset: row[3]),
                            call: call, time: Timestamp(seconds: row[4]), queue: row[5], agent: row[6],
                            event: try StoredRows.decode(
                                event: row[7], text1: row[8], text2: row[9], number: row[10], rowid: row[12]))))
            }
        }
        if tables.sip {
            let sip = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT event_key, source_id, line, byte_offset, call_key, kind, method, code, reason, from_tag, to_tag,
                        caller, dialled, target, agent, time, start, answer, rowid FROM \(sipFrom)
                        """), arguments: arguments)
            while let row = try sip.next() {
                let call = CallKey(rawValue: row[4])
                guard let kind = SIPRecord.Kind(rawValue: row[5]) else {
                    throw StoreError.corrupt(
                        table: "sip_event", rowid: row[18], reason: "unexpected kind \"\(row[5] as String)\"")
                }
                let start: Int64? = row[16]
                let answer: Int64? = row[17]
                result[call, default: []].append(
                    .sip(
                        SIPRecord(
                            key: EventKey(rawValue: row[0]),
                            position: SourcePosition(
                                source: try names.name(row[1], db: db), line: row[2], offset: row[3]),
                            call: call, kind: kind, method: row[6], code: row[7],
                            reason: row[8], fromTag: row[9], toTag: row[10], caller: row[11], dialled: row[12],
                            target: row[13],
                            agent: row[14], time: Timestamp(seconds: row[15]),
                            start: start.map { Timestamp(seconds: $0) },
                            answer: answer.map { Timestamp(seconds: $0) })))
            }
        }
        if tables.cel {
            let cel = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT event_key, source_id, line, byte_offset, call_key, event, time, micros, cid_name, cid_num, exten,
                        context, channel, app, app_data, unique_id, peer, hangup_cause, dial_status, bridge_id,
                        transfer_exten, transfer_context, transferee, transfer_target FROM \(celFrom)
                        """), arguments: arguments)
            while let row = try cel.next() {
                let call = CallKey(rawValue: row[4])
                result[call, default: []].append(
                    .cel(
                        CELRecord(
                            key: EventKey(rawValue: row[0]),
                            position: SourcePosition(
                                source: try names.name(row[1], db: db), line: row[2], offset: row[3]),
                            call: call, event: CELRecord.Event(name: row[5]), time: Timestamp(seconds: row[6]),
                            microseconds: row[7], callerName: row[8], callerNumber: row[9], exten: row[10],
                            context: row[11], channel: row[12], application: row[13], applicationData: row[14],
                            uniqueID: row[15], peer: row[16],
                            extra: CELRecord.Extra(
                                hangupCause: row[17], dialStatus: row[18], bridgeID: row[19],
                                transferExtension: row[20], transferContext: row[21], transfereeChannel: row[22],
                                transferTargetChannel: row[23]))))
            }
        }
        return result
    }
}

/// Source names by id, each looked up once per transaction that reads records (a derivation
/// chunk, an ingest batch): a lookup per row, or per customer, was a visible cost of deriving
/// customers with a long history. Within one transaction an id names one source.
final class SourceNames {
    private var names: [Int64: String] = [:]

    func name(_ id: Int64, db: Database) throws -> String {
        if let name = self.names[id] { return name }
        guard
            let name = try String.fetchOne(
                db.cachedStatement(sql: "SELECT name FROM source WHERE id = ?"), arguments: [id])
        else { throw StoreError.corrupt(table: "source", rowid: id, reason: "no source has this id") }
        self.names[id] = name
        return name
    }
}

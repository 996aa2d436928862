import FirstContactCore

/// Decodes one line of Asterisk's `queue_log` file (`epoch|callid|queue|agent|event|data…`,
/// FORMATS §2.1 and §2.3) into a ``QueueRecord``.
///
/// Lines that do not belong to a caller — logger start/reload and member changes, whose
/// callid is `NONE`, `REALTIME`, `MANAGER` or `CLI` — are `.ignored`, except the member events
/// routing reads (`.presence`: an agent logged out of the queues or paused). For a call, events
/// the first-contact engine acts on are mapped; any other event (AGENTDUMP, RINGCANCELED,
/// a dialplan `QueueLog()` name…) is kept as `.other(name:)`. There is no escaping in the
/// format, so only the fields an event needs are read; free text after them may hold `|`.
package struct QueueLogDecoder: Sendable {
    /// callid values Asterisk writes for lines that are not about a caller.
    private static let nonCallIDs: Set<String> = ["NONE", "REALTIME", "MANAGER", "CLI"]

    package init() {}

    /// Decodes one line (without its line feed; a trailing CR is ignored).
    /// - Returns: `.record(.queue)`, `.ignored` for blank and system lines, or `.reject` with the exact line bytes.
    package func decode(line: ArraySlice<UInt8>, position: SourcePosition) -> IngestRecord {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            return .ignored(position)
        }
        do {
            guard let record = try self.record(from: line, position: position) else { return .ignored(position) }
            // The only lines about no caller that ``record(from:position:)`` reads are member events.
            if Self.nonCallIDs.contains(record.call.rawValue) { return .presence(record) }
            return .record(.queue(record))
        } catch {
            return .reject(Reject(position: position, reason: error.reason, raw: Array(line)))
        }
    }

    /// Decodes one line held in an array.
    package func decode(line: [UInt8], position: SourcePosition) -> IngestRecord {
        self.decode(line: line[...], position: position)
    }

    // MARK: - Private

    private struct Problem: Error {
        var reason: String
    }

    private func record(from line: ArraySlice<UInt8>, position: SourcePosition) throws(Problem) -> QueueRecord? {
        let fields = line.split(separator: UInt8(ascii: "|"), omittingEmptySubsequences: false)
        guard fields.count >= 5 else {
            throw Problem(
                reason: "\(fields.count) field\(fields.count == 1 ? "" : "s"); a queue_log line has at least 5"
                    + " (epoch|callid|queuename|agent|event)"
            )
        }
        guard let epoch = Digits.parse(fields[0]) else {
            throw Problem(reason: "column 1 (epoch) is \(Self.show(fields[0])), not whole Unix seconds")
        }
        let event = String(decoding: fields[4], as: UTF8.self)
        guard !event.isEmpty else {
            throw Problem(reason: "column 5 (event) is empty")
        }
        let callID = String(decoding: fields[1], as: UTF8.self)
        // Lines about no caller are read only for the member events routing needs.
        if Self.nonCallIDs.contains(callID), !AgentPresence.memberEventNames.contains(event.uppercased()) {
            return nil
        }
        guard !callID.isEmpty else {
            throw Problem(reason: "column 2 (callid) is empty; a \(event) line needs the caller's uniqueid (or NONE)")
        }

        let data = Array(fields.dropFirst(5))
        let agent = String(decoding: fields[3], as: UTF8.self)
        return QueueRecord(
            key: EventKey.hashing("qlog", line),
            position: position,
            call: CallKey(callID),
            time: Timestamp(seconds: Int64(epoch)),
            queue: String(decoding: fields[2], as: UTF8.self),
            agent: agent == "NONE" ? "" : agent,
            event: try Self.queueEvent(event, data: data)
        )
    }

    private static func queueEvent(_ event: String, data: [ArraySlice<UInt8>]) throws(Problem) -> QueueEvent {
        /// The text of data field `n` (1-based), empty when the line has fewer fields.
        func text(_ n: Int) -> String {
            n <= data.count ? String(decoding: data[n - 1], as: UTF8.self) : ""
        }
        /// Data field `n` as a whole number; the event cannot be used without it.
        func number(_ n: Int, _ meaning: String) throws(Problem) -> Int {
            guard n <= data.count else {
                throw Problem(
                    reason: "\(event) needs data\(n) (\(meaning)) in column \(n + 5), but the line has"
                        + " \(data.count) data field\(data.count == 1 ? "" : "s")"
                )
            }
            guard let value = Digits.parse(data[n - 1]) else {
                throw Problem(
                    reason: "column \(n + 5) (data\(n), \(meaning)) of \(event) is \(Self.show(data[n - 1])),"
                        + " not a whole number"
                )
            }
            return value
        }

        switch event {
        case "ENTERQUEUE":
            return .entered(callerNumber: text(2))
        case "CONNECT":
            return .connected(holdSeconds: try number(1, "hold seconds"), memberUniqueID: text(2))
        case "RINGNOANSWER":
            return .ringNoAnswer
        case "ABANDON":
            return .abandoned(waitSeconds: try number(3, "wait seconds"))
        case "EXITWITHTIMEOUT", "EXITEMPTY", "WITHDRAW":
            return .exited(reason: event, waitSeconds: try number(3, "wait seconds"))
        case "EXITWITHKEY":
            return .exited(reason: event, waitSeconds: try number(4, "wait seconds"))
        case "COMPLETECALLER", "COMPLETEAGENT":
            return .completed
        case "BLINDTRANSFER", "TRANSFER":
            return .transferred(extension: text(1), context: text(2))
        case "ATTENDEDTRANSFER":
            // No dialled extension exists; the method (BRIDGE, APP, LINK) says how it was done.
            return .transferred(extension: "", context: text(1))
        default:
            return .other(name: event)
        }
    }

    /// The value in quotes, cut to 40 characters.
    private static func show(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.count > 40 else { return "\"\(text)\"" }
        return "\"\(text.prefix(40))…\""
    }
}

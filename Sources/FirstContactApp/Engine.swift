import FirstContactCore
import FirstContactIngest
import FirstContactStore

/// Everything built once from a configuration: lookups, the correlator, the decoders.
package struct Engine: Sendable {
    package let configuration: FirstContactConfiguration
    package let directory: Directory
    package let correlator: Correlator

    package init(configuration: FirstContactConfiguration) {
        self.configuration = configuration
        self.directory = Directory(configuration: configuration)
        self.correlator = Correlator(directory: self.directory)
    }

    /// Loads and validates the YAML configuration at `path`.
    package static func load(configuration path: String) throws -> Engine {
        Engine(configuration: try ConfigurationLoader.load(path: path))
    }

    /// The line decoder for a line-based format, or nil for formats this build cannot read yet.
    /// Ask for a new one per file or request body: the Kamailio decoder keeps the file's header.
    package func lineDecoder(for format: InputFormat) -> LineDecoder? {
        switch format {
        case .asteriskCSV:
            let cdr = AsteriskCDRDecoder(options: self.configuration.asterisk, zone: self.configuration.timezone)
            return LineDecoder { line, position in cdr.decode(line: line, position: position) }
        case .asteriskQueueLog:
            let queueLog = QueueLogDecoder()
            return LineDecoder { line, position in queueLog.decode(line: line, position: position) }
        case .kamailioAcc:
            // Stateful (a db_text header names the columns of the rows after it): one per file,
            // which is how the pipeline asks for decoders.
            let acc = KamailioAccFileDecoder()
            return LineDecoder { line, position in acc.decode(line: line[...], position: position) }
        case .freeswitchXMLCDR, .freeswitchEvents, .ivrEvents:
            return nil
        }
    }

    /// The decoder for a format read a whole file (or request body) at a time — FreeSWITCH XML
    /// CDRs (one document per file) and event-socket streams — or nil when the format is
    /// line-based or not readable by this build.
    package func documentDecoder(for format: InputFormat) -> DocumentDecoder? {
        switch format {
        case .freeswitchXMLCDR:
            let cdr = FreeSWITCHCDRDecoder(zone: self.configuration.timezone)
            return DocumentDecoder(maxBytes: cdr.limits.maxDocumentBytes) { document, position in
                [cdr.decode(document, position: position)]
            }
        case .ivrEvents:
            let ivr = IVREventDecoder()
            return DocumentDecoder(maxBytes: ivr.limits.maxDocumentBytes) { document, position in
                ivr.decode(document, position: position)
            }
        case .freeswitchEvents:
            // A capture or log of the event socket: read whole, decoded frame by frame.
            let events = FreeSWITCHEventDecoder(zone: self.configuration.timezone)
            return DocumentDecoder(maxBytes: FreeSWITCHEventDecoder.maxStreamBytes) { stream, position in
                events.decode(stream, position: position)
            }
        case .asteriskCSV, .asteriskQueueLog, .kamailioAcc:
            return nil
        }
    }

    /// The decoder for a stream read in pieces — FreeSWITCH event-socket logs, which grow to
    /// gigabytes a day — or nil for other formats. Files of these formats are never read whole.
    package func streamDecoder(for format: InputFormat) -> StreamDecoder? {
        switch format {
        case .freeswitchEvents:
            let events = FreeSWITCHEventDecoder(zone: self.configuration.timezone)
            return StreamDecoder(maxPendingBytes: events.limits.maxDocumentBytes) { bytes, position, final in
                events.decode(bytes, position: position, final: final)
            }
        case .asteriskCSV, .asteriskQueueLog, .freeswitchXMLCDR, .ivrEvents, .kamailioAcc:
            return nil
        }
    }

    /// Applies the event-time watermark: derives customers with new records, and everything due
    /// before latest event time − lateness. Idempotent; read commands call it too, so that a run
    /// killed between its batches and its derivation still reads consistently.
    @discardableResult
    package func applyWatermark(store: some ContactStore) async throws -> ClockOutcome {
        let watermark = try await store.latestEventTime().map { $0 - self.configuration.policy.lateness }
        let stored = try await store.clock()
        let target = watermark ?? stored ?? Timestamp(seconds: .min / 2)
        return try await store.advanceClock(to: target, correlator: self.correlator)
    }
}

/// Decodes one line of a line-based format (Master.csv, queue_log).
package struct LineDecoder: Sendable {
    private let body: @Sendable ([UInt8], SourcePosition) -> IngestRecord

    init(_ body: @escaping @Sendable ([UInt8], SourcePosition) -> IngestRecord) {
        self.body = body
    }

    package func decode(_ line: [UInt8], at position: SourcePosition) -> IngestRecord {
        self.body(line, position)
    }
}

/// Decodes one whole input read at once — a document of a one-document-per-file format, or an
/// event-socket stream — into its records.
package struct DocumentDecoder: Sendable {
    /// The largest document accepted; a bigger file becomes one reject and is not read whole.
    package let maxBytes: Int
    private let body: @Sendable ([UInt8], SourcePosition) -> [IngestRecord]

    init(maxBytes: Int, _ body: @escaping @Sendable ([UInt8], SourcePosition) -> [IngestRecord]) {
        self.maxBytes = maxBytes
        self.body = body
    }

    /// The records of one input (a CDR: one leg or one reject; an event stream: one record,
    /// reject or ignored entry per frame); never throws.
    package func decode(_ document: [UInt8], at position: SourcePosition) -> [IngestRecord] {
        self.body(document, position)
    }
}

/// Decodes a stream piece by piece: each call gets what is left of the previous one plus the
/// next bytes read, and says how much of it made complete records.
package struct StreamDecoder: Sendable {
    /// The longest frame or event waited for: past it without an end, the rest of the file is
    /// one reject (as an over-long line is for the line formats).
    package let maxPendingBytes: Int
    private let body: @Sendable ([UInt8], SourcePosition, Bool) -> (records: [IngestRecord], consumed: Int)

    init(
        maxPendingBytes: Int,
        _ body: @escaping @Sendable ([UInt8], SourcePosition, Bool) -> (records: [IngestRecord], consumed: Int)
    ) {
        self.maxPendingBytes = maxPendingBytes
        self.body = body
    }

    /// - Parameter final: no bytes follow `bytes` (then everything is consumed).
    package func decode(
        _ bytes: [UInt8], at position: SourcePosition, final: Bool
    ) -> (records: [IngestRecord], consumed: Int) {
        self.body(bytes, position, final)
    }
}

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
    package func lineDecoder(for format: InputFormat) -> LineDecoder? {
        switch format {
        case .asteriskCSV:
            let cdr = AsteriskCDRDecoder(options: self.configuration.asterisk, zone: self.configuration.timezone)
            return LineDecoder { line, position in cdr.decode(line: line, position: position) }
        case .asteriskQueueLog:
            let queueLog = QueueLogDecoder()
            return LineDecoder { line, position in queueLog.decode(line: line, position: position) }
        case .freeswitchXMLCDR, .freeswitchEvents, .ivrEvents, .kamailioAcc:
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

import FirstContactCore
import FirstContactIngest
import FirstContactStore

/// Everything built once from a configuration: lookups, the correlator, the decoders.
package struct Engine: Sendable {
    package let configuration: FirstContactConfiguration
    package let directory: Directory
    package let correlator: Correlator
    /// Which decoder reads which input format.
    package let decoders: DecoderRegistry
    /// What the queue records this process stored said of agents (routing passes over an agent
    /// logged out, paused or on a call).
    package let presence = AgentPresenceBoard()

    package init(configuration: FirstContactConfiguration) {
        self.configuration = configuration
        self.directory = Directory(configuration: configuration)
        var correlator = Correlator(directory: self.directory)
        correlator.maxRejectsPerSource = configuration.ingest.maxRejectsPerSource
        self.correlator = correlator
        self.decoders = DecoderRegistry(configuration: configuration)
    }

    /// Loads and validates the YAML configuration at `path`.
    package static func load(configuration path: String) throws -> Engine {
        Engine(configuration: try ConfigurationLoader.load(path: path))
    }

    /// A fresh decoder for `format` (see ``DecoderRegistry``): one per file or request body.
    package func decoder(for format: InputFormat) -> InputDecoder {
        self.decoders.decoder(for: format)
    }

    /// Applies the event-time watermark: derives customers with new records, and everything due
    /// before latest event time − lateness. Idempotent; read commands call it too, so that a run
    /// killed between its batches and its derivation still reads consistently.
    @discardableResult
    package func applyWatermark(store: some ContactStore) async throws -> ClockOutcome {
        let watermark = try await store.latestEventTime().map { $0 - self.configuration.policy.lateness }
        let stored = try await store.clock()
        let target = watermark ?? stored ?? .beforeAnyRecord
        return try await store.advanceClock(to: target, correlator: self.correlator)
    }
}

import FirstContactCore
import NIOConcurrencyHelpers

/// This process's ``AgentPresence``: what the queue records it stored (HTTP ingest, followed
/// files) said of agents, for routing. In memory: after a restart nothing is known until the
/// PBX speaks again, which routing reads as "at work".
package final class AgentPresenceBoard: Sendable {
    private let presence = NIOLockedValueBox(AgentPresence())

    package init() {}

    /// Takes in the queue records of a batch that was stored.
    package func note(_ records: [IngestRecord], directory: Directory) {
        let queue = records.compactMap { record -> QueueRecord? in
            switch record {
            case .record(.queue(let event)), .presence(let event): event
            default: nil
            }
        }
        guard !queue.isEmpty else { return }
        self.presence.withLockedValue { presence in
            for event in queue { presence.note(event, directory: directory) }
        }
    }

    package var snapshot: AgentPresence { self.presence.withLockedValue { $0 } }
}

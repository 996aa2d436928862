/// A lease as one holder claims it: what a write that must happen only while the lease is held
/// names (see ``ContactStore/ingest(_:checkpoint:holding:correlator:)``).
package struct LeaseClaim: Hashable, Sendable {
    package var name: String
    package var holder: String

    package init(name: String, holder: String) {
        self.name = name
        self.holder = holder
    }
}

/// Another instance holds the lease (or took it over): the work stops here and the lease's
/// holder resumes it from the stored cursor or checkpoint.
package struct LeaseLost: Error, CustomStringConvertible {
    package var name: String

    package init(name: String) {
        self.name = name
    }

    package var description: String { "lease \(self.name) is held by another instance" }
}

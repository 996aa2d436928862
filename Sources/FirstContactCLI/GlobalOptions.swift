import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation

/// `--config` and `--db`, taken by every subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The YAML configuration.", valueName: "file"))
    var config = "firstcontact.yaml"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store: a SQLite database file (created by ingest if missing), or a PostgreSQL URL"
                + " (postgresql://user@host/db, ?host=/socket/dir for a unix socket; the password from the URL"
                + " or PGPASSWORD; ?sslmode=require or verify-full&sslrootcert=FILE for TLS, as libpq)."
                + " Reading commands never create or change it.",
            valueName: "path-or-url"))
    var db = "firstcontact.sqlite"

    func engine() throws -> Engine {
        try Engine.load(configuration: self.config)
    }

    func store() throws -> any ContactStore {
        try StoreLocator.open(self.db)
    }

    /// The store with every record derived (a run killed between storing and deriving leaves
    /// customers marked; a writing command settles them first).
    func settledStore(_ engine: Engine) async throws -> any ContactStore {
        let store = try self.store()
        try await engine.applyWatermark(store: store)
        return store
    }

    /// The store opened read-only, for commands that only read: the file is neither migrated nor
    /// written. Customers a killed run left underived are reported on standard error, not
    /// derived here (deriving writes); the next writing command derives them.
    func readingStore() async throws -> any ContactStore {
        let store = try StoreLocator.openForReading(self.db)
        let waiting = try await store.awaitingDerivation()
        if waiting > 0 {
            FileHandle.standardError.write(
                Data(
                    "note: \(waiting) customer(s) have records not derived yet (a run stopped before deriving them); the next ingest or tick derives them\n"
                        .utf8))
        }
        return store
    }
}

/// Formats chosen on the command line by their SPEC names.
extension InputFormat: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { Self.allCases.map(\.rawValue) }
}

/// `--now 2026-11-27T18:00:00+08:00`.
extension Timestamp: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso8601: argument) }
}

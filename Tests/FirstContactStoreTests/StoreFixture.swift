import FirstContactCore
import FirstContactIngest
import FirstContactPostgres
import FirstContactStore
import Foundation
import Testing

/// The stores the conformance suite runs against. A new store joins by adding one case and its
/// line in ``make()``.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    /// On the server `FC_TEST_POSTGRES_URL` names (scripts/with-postgres.sh starts one), each
    /// test in a database of its own. Without the variable there are no PostgreSQL cases at all.
    case postgres

    static var allCases: [StoreKind] {
        StoreFixture.postgresServer == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { self.rawValue }

    /// A fresh, empty store of this kind, removed by ``StoreUnderTest/dispose()``.
    func make() async throws -> StoreUnderTest {
        switch self {
        case .sqlite:
            let directory = try StoreFixture.temporaryDirectory()
            let store = try SQLiteContactStore(path: directory.appendingPathComponent("store.sqlite").path)
            return StoreUnderTest(store: store, directory: directory)
        case .postgres:
            let server = try #require(StoreFixture.postgresServer, "FC_TEST_POSTGRES_URL is not set")
            let url = try await PostgresDatabases.createUnique("fc_test_", on: server)
            let name = url.database
            return StoreUnderTest(
                store: PostgresContactStore(url: url), directory: nil, postgres: (server: server, database: name))
        }
    }

    /// Runs `body` with a fresh store of this kind and disposes of it afterwards, also when `body`
    /// throws. Whatever `body` wrote, the store's totals are then what its rows count.
    func withStore(_ body: (StoreUnderTest) async throws -> Void) async throws {
        let subject = try await self.make()
        do {
            try await body(subject)
            try await subject.expectTotalsKept()
        } catch {
            try await subject.dispose()
            throw error
        }
        try await subject.dispose()
    }
}

struct StoreUnderTest {
    let store: any ContactStore
    let directory: URL?
    var postgres: (server: PostgresURL, database: String)?

    /// Expects the totals SQLite's writers keep to be what its rows count now. PostgreSQL keeps
    /// none (it counts at every call), so there is nothing to hold it to.
    func expectTotalsKept(_ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        guard let sqlite = self.store as? SQLiteContactStore else { return }
        #expect(
            try await sqlite.totals() == sqlite.countedTotals(), comment ?? "the totals kept against the rows",
            sourceLocation: sourceLocation)
    }

    func dispose() async throws {
        if let directory { try FileManager.default.removeItem(at: directory) }
        if let postgres {
            await (self.store as? PostgresContactStore)?.close()
            try await PostgresDatabases.drop(postgres.database, on: postgres.server)
        }
    }
}

/// Real records to store: the first calls of the sample day, decoded as `ingest` decodes them,
/// with the sample configuration's correlator.
enum StoreFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let configuration: FirstContactConfiguration = {
        do {
            return try ConfigurationLoader.load(path: root.appendingPathComponent("samples/firstcontact.yaml").path)
        } catch {
            fatalError("the sample configuration does not load: \(error)")
        }
    }()
    static let correlator = Correlator(directory: Directory(configuration: configuration))
    /// The PostgreSQL server the tests may create databases on (`FC_TEST_POSTGRES_URL`).
    static let postgresServer: PostgresURL? = {
        guard let text = ProcessInfo.processInfo.environment["FC_TEST_POSTGRES_URL"], !text.isEmpty else { return nil }
        do {
            return try PostgresURL(text)
        } catch {
            fatalError("FC_TEST_POSTGRES_URL is not a usable URL: \(error)")
        }
    }()
    /// `FC_TEST_TIME_SCALE` (scripts/test.sh sets 4 under CI, 10 under a sanitizer), as the App tests'
    /// `TestTime`: the PostgreSQL instance tests' limits are stretched by it.
    static let timeScale = max(
        1, ProcessInfo.processInfo.environment["FC_TEST_TIME_SCALE"].flatMap { Int($0) } ?? 1)
    /// The end of the sample day (23:59:59 +08:00).
    static let endOfDay = Timestamp(iso8601: "2026-11-27T23:59:59+08:00") ?? Timestamp(seconds: 0)

    static func temporaryDirectory() throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fc-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every record (CDR legs and queue_log events) of the sample day's first `calls` calls.
    static func records(calls: Int = 150) throws -> [IngestRecord] {
        let asterisk = root.appendingPathComponent("samples/day-2026-11-27/asterisk")
        let cdr = AsteriskCDRDecoder(options: configuration.asterisk, zone: configuration.timezone)
        let queueLog = QueueLogDecoder()
        let legs = try Self.decode(asterisk.appendingPathComponent("Master.csv")) { cdr.decode(line: $0, position: $1) }
        let queue = try Self.decode(asterisk.appendingPathComponent("queue_log")) {
            queueLog.decode(line: $0, position: $1)
        }
        var keys: [CallKey] = []
        for case .record(let record) in legs where !keys.contains(record.call) {
            keys.append(record.call)
            if keys.count == calls { break }
        }
        let wanted = Set(keys)
        return (legs + queue).filter {
            if case .record(let record) = $0 { return wanted.contains(record.call) }
            return false
        }
    }

    private static func decode(_ file: URL, _ decode: ([UInt8], SourcePosition) -> IngestRecord) throws
        -> [IngestRecord]
    {
        let bytes = [UInt8](try Data(contentsOf: file))
        var records: [IngestRecord] = []
        var start = 0
        var line = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            line += 1
            records.append(
                decode(Array(bytes[start..<end]), SourcePosition(source: file.path, line: line, offset: Int64(start))))
            start = end + 1
        }
        return records
    }

    /// The latest event time among `records`.
    static func latest(_ records: [IngestRecord]) -> Timestamp? {
        records.compactMap { if case .record(let record) = $0 { record.eventTime } else { nil } }.max()
    }
}

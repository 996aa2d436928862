import FirstContactCore
import FirstContactStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The store's one connection to the server, and the transactions run on it one at a time.
///
/// One connection (``PostgresConnection/connect(on:configuration:id:logger:)``) needs no
/// `PostgresClient.run()` loop, so every command keeps opening its store synchronously and the
/// store stays usable without a service around it. Transactions queue for it in order (``Gate``):
/// within one process writes are serialised as SQLite serialises them; between processes the
/// server's locks decide (see ``PostgresContactStore/deriveChunk``'s row locks).
final class PostgresSession: Sendable {
    let url: PostgresURL
    let logger: Logger
    /// Whether every transaction is READ ONLY (a reading command's store).
    let readOnly: Bool
    /// Run in a transaction of its own on each new connection before anything else (migrations,
    /// or the schema check of a reading store).
    let prepare: @Sendable (PostgresTransaction) async throws -> Void
    private let gate = Gate()

    init(
        url: PostgresURL, readOnly: Bool, logger: Logger,
        prepare: @escaping @Sendable (PostgresTransaction) async throws -> Void
    ) {
        self.url = url
        self.readOnly = readOnly
        self.logger = logger
        self.prepare = prepare
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    /// - Parameter reading: `body` only reads: it sees one snapshot of the database for all its
    ///   statements (REPEATABLE READ), as a SQLite reader does, so a listing or an export read in
    ///   several statements never mixes states while another process writes.
    func transaction<Result: Sendable>(
        reading: Bool = false, _ body: @Sendable (PostgresTransaction) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await self.attempt(reading: reading, body)
            } catch let error as PSQLError where attempt < Self.attempts && Self.isRetryable(error) {
                // Two instances that locked the same rows in opposite orders: the server rolled
                // one transaction back whole, and it runs again from the start.
                self.logger.info("transaction retried after \(error.serverInfo?[.sqlState] ?? "?")")
                attempt += 1
            } catch {
                throw PostgresFailure.mapped(error, url: self.url)
            }
        }
    }

    /// How often a transaction runs when the server ends it for a deadlock.
    private static let attempts = 5

    /// A deadlock or a serialization failure: the transaction was rolled back whole and may run again.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    private func attempt<Result: Sendable>(
        reading: Bool, _ body: @Sendable (PostgresTransaction) async throws -> Result
    ) async throws -> Result {
        let connection = try await self.gate.acquire(opening: self.open)
        do {
            if !(await self.gate.prepared) {
                try await connection.query(self.readOnly ? "BEGIN READ ONLY" : "BEGIN", logger: self.logger)
                try await self.prepare(PostgresTransaction(connection: connection, logger: self.logger))
                try await connection.query("COMMIT", logger: self.logger)
                await self.gate.markPrepared()
            }
            try await connection.query(
                self.readOnly || reading ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN",
                logger: self.logger)
            let tx = PostgresTransaction(connection: connection, logger: self.logger)
            let result = try await body(tx)
            try await tx.writeOutbox()
            try await connection.query("COMMIT", logger: self.logger)
            await self.gate.release()
            return result
        } catch {
            // A failed statement leaves the transaction aborted: roll back so the connection is
            // usable again; a connection that broke is opened anew by the next transaction.
            var usable = !connection.isClosed
            if usable {
                do {
                    try await connection.query("ROLLBACK", logger: self.logger)
                } catch let rollback {
                    // The connection is in no state to trust: the next transaction opens another.
                    self.logger.warning("ROLLBACK failed after \(error): \(rollback); reconnecting")
                    usable = false
                }
            }
            await self.gate.release(discarding: !usable)
            throw error
        }
    }

    /// Runs one statement outside any transaction.
    func statement(_ sql: String) async throws {
        let connection = try await self.gate.acquire(opening: self.open)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger)
            await self.gate.release()
        } catch {
            await self.gate.release()
            throw error
        }
    }

    /// Closes the connection (the next transaction would open another).
    func close() async {
        await self.gate.close(logger: self.logger)
    }

    /// A connection of its own, outside the transactions' one (LISTEN holds a connection).
    func connect() async throws -> PostgresConnection {
        do {
            return try await self.open()
        } catch {
            throw PostgresFailure.mapped(error, url: self.url)
        }
    }

    /// Set for every connection in its startup message. The store's statements each touch a
    /// customer's few rows; on tables not analyzed yet (a first ingest, a fresh `store copy`) the
    /// planner's guesses put such a read above `jit_above_cost` and `parallel_setup_cost`, and it
    /// compiled the statement and started two workers for one row: 30 ms a read, a scheduler tick
    /// deriving 1,000 of 1,000,000 pending customers took 33 s instead of 2.6 s (BENCHMARKS.md).
    static let sessionSettings = [("jit", "off"), ("max_parallel_workers_per_gather", "0")]

    @Sendable private func open() async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        switch self.url.endpoint {
        case .tcp(let host, let port):
            configuration = PostgresConnection.Configuration(
                host: host, port: port, username: self.url.user, password: self.url.password,
                database: self.url.database, tls: try Self.tls(self.url.tls))
        case .socket:
            configuration = PostgresConnection.Configuration(
                unixSocketPath: self.url.endpoint.socketPath ?? "", username: self.url.user,
                password: self.url.password, database: self.url.database)
        }
        configuration.options.connectTimeout = .seconds(self.url.connectTimeout)
        configuration.options.additionalStartupParameters = Self.sessionSettings
        if let name = self.url.applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", name))
        }
        return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: self.logger)
    }

    /// `sslmode` as libpq applies it: `prefer` and `require` encrypt without checking the
    /// server's certificate, `verify-ca` checks it against the root certificate, `verify-full`
    /// also checks that it names the host.
    static func tls(_ mode: PostgresURL.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        func context(_ verification: CertificateVerification, root: String?) throws -> NIOSSLContext {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = verification
            if let root {
                guard access(root, R_OK) == 0 else {
                    throw PostgresFailure(description: "sslrootcert \(root): no such readable file")
                }
                configuration.trustRoots = .file(root)
            }
            return try NIOSSLContext(configuration: configuration)
        }
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try context(.none, root: nil))
        case .require: return .require(try context(.none, root: nil))
        case .verifyCA(let root): return .require(try context(.noHostnameVerification, root: root))
        case .verifyFull(let root): return .require(try context(.fullVerification, root: root))
        }
    }

    /// The connection, lent to one transaction at a time, in the order they asked.
    private actor Gate {
        private var connection: PostgresConnection?
        /// Whether the current connection ran `prepare`.
        private(set) var prepared = false
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func acquire(opening open: @Sendable () async throws -> PostgresConnection) async throws
            -> PostgresConnection
        {
            if self.busy {
                await withCheckedContinuation { self.waiting.append($0) }
            } else {
                self.busy = true
            }
            do {
                if let connection = self.connection, !connection.isClosed { return connection }
                let connection = try await open()
                self.connection = connection
                self.prepared = false
                return connection
            } catch {
                self.release()
                throw error
            }
        }

        func markPrepared() { self.prepared = true }

        deinit {
            // A store dropped without close() (every command ends so): close its connection, and
            // keep the connection until it is closed, which PostgresNIO checks when it goes.
            if let connection = self.connection { Self.close(connection) }
        }

        /// Lends the connection to the next transaction; `discarding` closes it first, and the
        /// next transaction opens another.
        func release(discarding: Bool = false) {
            if discarding, let connection = self.connection {
                self.connection = nil
                Self.close(connection)
            }
            if self.waiting.isEmpty {
                self.busy = false
            } else {
                self.waiting.removeFirst().resume()
            }
        }

        func close(logger: Logger) async {
            guard let connection = self.connection else { return }
            self.connection = nil
            Self.close(connection)
            do {
                try await connection.closeFuture.get()
            } catch {
                // The session is over either way; what went wrong closing it is only worth a line.
                logger.debug("closing the PostgreSQL connection: \(error)")
            }
        }

        /// Closes `connection` on its event loop, keeping it until it is closed (PostgresNIO
        /// checks, when a connection goes, that it was closed).
        private static func close(_ connection: PostgresConnection) {
            guard !connection.isClosed else { return }
            connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
        }
    }
}

/// One transaction's statements. SQL is written with `?` (the next parameter) or `?N` (the Nth,
/// as in SQLite) and sent with `$N`; every value is a bound parameter.
struct PostgresTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// Notifications announced in this transaction, inserted just before it commits
    /// (``writeOutbox()``).
    let outbox = PendingOutbox()

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Several instances' transactions commit in whatever order they finish, but a reader
    /// resumes from the highest `seq` it saw: a lower one committed later would be skipped for
    /// good. Under this lock, held from the insert to the commit, outbox rows are numbered in
    /// commit order. The inserts wait until the end of the transaction so the lock is held only
    /// for them and the commit, never for a derivation.
    static let outboxLock: Int64 = 0x4643_5F6F_7574  // "FC_out"

    /// Rows per INSERT: 11 parameters each, far below the protocol's 65,535.
    private static let outboxRowsPerInsert = 500

    /// Inserts the notifications announced in this transaction, in the order announced, each
    /// unless its key is there already (``outboxLock``).
    func writeOutbox() async throws {
        let pending = await self.outbox.take()
        guard !pending.isEmpty else { return }
        try await self.run("SELECT pg_advisory_xact_lock(?)") { $0.add(Self.outboxLock) }
        var start = pending.startIndex
        while start < pending.endIndex {
            let end = min(start + Self.outboxRowsPerInsert, pending.endIndex)
            let rows = pending[start..<end]
            let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count)
                .joined(separator: ", ")
            try await self.run(
                """
                INSERT INTO outbox (key, kind, at, customer_key, contact_id, obligation_id, violation_id, department, agent, level, detail)
                VALUES \(values) ON CONFLICT (key) DO NOTHING
                """
            ) { binder in
                for row in rows { StoredRows.bind(row.notice, customer: row.customer, into: &binder) }
            }
            start = end
        }
        // Delivered when the transaction commits, to every instance's outbox feed.
        try await self.run("SELECT pg_notify(?, '')") { $0.add(Self.outboxChannel) }
    }

    /// The channel on which commits that wrote to the outbox are announced (``writeOutbox()``).
    static let outboxChannel = "fc_outbox"

    /// Runs `sql` with the values `bind` adds, in order; returns its rows.
    @discardableResult
    func rows(_ sql: String, _ bind: (inout PostgresBinder) -> Void = { _ in }) async throws -> [PostgresRow] {
        var binder = PostgresBinder()
        bind(&binder)
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binder.bindings)
        return try await self.connection.query(query, logger: self.logger).collect()
    }

    /// Runs `sql` and returns how many rows it returned (give INSERTs `RETURNING 1` to count them).
    @discardableResult
    func run(_ sql: String, _ bind: (inout PostgresBinder) -> Void = { _ in }) async throws -> Int {
        try await self.rows(sql, bind).count
    }

    /// The first column of the first row, nil when there is no row or it is NULL.
    func value<T: PostgresDecodable>(
        _ type: T.Type, _ sql: String, _ bind: (inout PostgresBinder) -> Void = { _ in }
    ) async throws -> T? where T == T._DecodableType {
        guard let row = try await self.rows(sql, bind).first else { return nil }
        return try row.makeRandomAccess()[0].decode(T?.self)
    }

    /// `?N` → `$N`, a bare `?` → the number after the largest so far (SQLite's rule); question
    /// marks inside quoted literals stay.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quoted = false
        var chars = sql.makeIterator()
        var pending: Character? = chars.next()
        while let c = pending {
            pending = chars.next()
            if c == "'" { quoted.toggle() }
            guard c == "?", !quoted else {
                out.append(c)
                continue
            }
            var digits = ""
            while let d = pending, d.isASCII, d.isNumber {
                digits.append(d)
                pending = chars.next()
            }
            // As SQLite numbers them: a bare `?` takes the number after the largest so far.
            if let number = Int(digits) {
                out += "$\(number)"
                next = max(next, number + 1)
            } else {
                out += "$\(next)"
                next += 1
            }
        }
        return out
    }
}

/// Notifications waiting for their transaction's end (``PostgresTransaction/writeOutbox()``).
actor PendingOutbox {
    private var notices: [(notice: Notice, customer: String?)] = []

    func append(_ notice: Notice, customer: String?) {
        self.notices.append((notice, customer))
    }

    func take() -> [(notice: Notice, customer: String?)] {
        defer { self.notices = [] }
        return self.notices
    }
}

/// Binds values as PostgreSQL parameters: text, int8, bool and bytea.
struct PostgresBinder: RowBinder {
    var bindings = PostgresBindings()

    mutating func add(_ value: String) { self.bindings.append(value) }
    mutating func add(_ value: String?) { self.bindings.append(value) }
    mutating func add(_ value: Int64) { self.bindings.append(value) }
    mutating func add(_ value: Int64?) { self.bindings.append(value) }
    mutating func add(_ value: Int) { self.bindings.append(Int64(value)) }
    mutating func add(_ value: Int?) { self.bindings.append(value.map(Int64.init)) }
    mutating func add(_ value: Bool) { self.bindings.append(value) }
    mutating func add(_ value: [UInt8]) { self.bindings.append(ByteBuffer(bytes: value)) }
    mutating func add(_ value: [UInt8]?) { self.bindings.append(value.map { ByteBuffer(bytes: $0) }) }
    /// A text array, for `= ANY(?)`.
    mutating func add(_ values: [String]) { self.bindings.append(values) }
}

/// Columns of a row by position, decoded strictly: a NULL where a value must be, or a value of
/// another type, is an error rather than a default.
struct Columns {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func text(_ i: Int) throws -> String { try self.row[i].decode(String.self) }
    func optionalText(_ i: Int) throws -> String? { try self.row[i].decode(String?.self) }
    func int64(_ i: Int) throws -> Int64 { try self.row[i].decode(Int64.self) }
    func optionalInt64(_ i: Int) throws -> Int64? { try self.row[i].decode(Int64?.self) }
    func int(_ i: Int) throws -> Int { Int(try self.row[i].decode(Int64.self)) }
    func optionalInt(_ i: Int) throws -> Int? { try self.row[i].decode(Int64?.self).map { Int($0) } }
    func bool(_ i: Int) throws -> Bool { try self.row[i].decode(Bool.self) }
    func bytes(_ i: Int) throws -> [UInt8] {
        let buffer = try self.row[i].decode(ByteBuffer.self)
        return Array(buffer.readableBytesView)
    }

    func optionalBytes(_ i: Int) throws -> [UInt8]? {
        try self.row[i].decode(ByteBuffer?.self).map { Array($0.readableBytesView) }
    }
}

/// A PostgreSQL failure as an admin can act on it. postgres-nio's own errors print as a generic
/// "PSQLError – Generic description…" so that nothing sensitive leaks by accident; this keeps
/// what is safe and useful (the server's message, SQLSTATE, detail and hint, or why the server
/// could not be reached) and never the statement or its values.
package struct PostgresFailure: Error, CustomStringConvertible, Sendable {
    package let description: String

    /// `error` as the store reports it: a full disk on the server is
    /// ``StoreError/storageFull(path:)`` (the same 507 and retry as SQLite's), any other
    /// PostgreSQL error a ``PostgresFailure``, everything else unchanged.
    static func mapped(_ error: any Error, url: PostgresURL) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if let info = error.serverInfo {
            // 53100 disk_full, 53200 out_of_memory is not ours to retry as "full".
            if info[.sqlState] == "53100" { return StoreError.storageFull(path: url.redacted) }
            var text = "PostgreSQL at \(url.redacted): \(info[.message] ?? "an error without a message")"
            if let state = info[.sqlState] { text += " (SQLSTATE \(state))" }
            if let detail = info[.detail] { text += "; \(detail)" }
            if let hint = info[.hint] { text += "; hint: \(hint)" }
            return PostgresFailure(description: text)
        }
        var text = "PostgreSQL at \(url.redacted): \(Self.words(error.code))"
        if let underlying = error.underlying {
            // A socket's connect error names no path; libpq names the socket file, and so do we.
            let socket = url.endpoint.socketPath.map { "\($0): " } ?? ""
            text += ": " + (underlying is IOError ? socket : "") + Self.reason(underlying)
        }
        return PostgresFailure(description: text)
    }

    /// Why a connection could not be made, as `psql` would say it ("127.0.0.1:5433: Connection
    /// refused"), not NIO's `SingleConnectionFailure(target: [IPv4]127.0.0.1/127.0.0.1:5433,
    /// error: connection reset (error set): Connection refused (errno: 111))`.
    private static func reason(_ error: any Error) -> String {
        if let failure = error as? NIOConnectionError {
            let attempts = failure.connectionErrors.map { "\(Self.address($0.target)): \(Self.reason($0.error))" }
            if !attempts.isEmpty { return attempts.joined(separator: "; ") }
            if failure.dnsAError != nil || failure.dnsAAAAError != nil { return "unknown host \(failure.host)" }
            return "\(failure.host):\(failure.port)"
        }
        if let failure = error as? IOError, let words = strerror(failure.errnoCode) { return String(cString: words) }
        if let failure = error as? NIOSSLExtraError, failure == .failedToValidateHostname {
            return "TLS: the server's certificate does not name this host (sslmode=verify-full)"
        }
        if case .handshakeFailed(let reason)? = error as? NIOSSLError {
            if "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS: the server's certificate is not signed by a trusted root (sslrootcert, else the system's)"
            }
            return "TLS handshake failed: \(reason)"
        }
        return "\(error)"
    }

    private static func address(_ address: SocketAddress) -> String {
        if let path = address.pathname { return path }
        guard let ip = address.ipAddress else { return "\(address)" }
        let host = address.protocol == .inet6 ? "[\(ip)]" : ip
        return address.port.map { "\(host):\($0)" } ?? host
    }

    private static func words(_ code: PSQLError.Code) -> String {
        switch code {
        case .connectionError: "cannot connect"
        case .serverClosedConnection: "the server closed the connection"
        case .clientClosedConnection: "the connection was closed"
        case .authMechanismRequiresPassword: "the server asks for a password (put it in the URL or PGPASSWORD)"
        case .unsupportedAuthMechanism: "the server asks for an authentication method this client does not support"
        case .sslUnsupported: "the server does not support TLS"
        case .queryCancelled: "the statement was cancelled"
        default: "\(code)"
        }
    }
}

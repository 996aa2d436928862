import GRDB
import GRDBSQLite

/// Binds values straight onto a GRDB cached statement's sqlite3 handle and steps it.
///
/// Why: on the ingest path every record, call, contact and obligation is one INSERT, and GRDB's
/// `StatementArguments` boxes each value as an existential before binding. Binding directly
/// cut the insert phase of a 160k-row ingest from 1.4 s to about half (release build; see
/// BENCHMARKS.md). Statements still come from GRDB's cache and run inside its transactions.
///
/// Strict as GRDB's own arguments are: every bind's result code is kept (the first failure is
/// thrown by ``Database/run(_:_:)``), and the number of values bound must equal the statement's
/// parameter count, so a forgotten value is an error rather than a silent NULL.
struct SQLiteBinder {
    private let handle: OpaquePointer
    private(set) var index: Int32 = 1
    /// The first bind that failed: its result code and parameter index.
    private(set) var failure: (code: Int32, index: Int32)?
    /// sqlite3 copies the bytes before `bind` returns (SQLITE_TRANSIENT is a macro Swift does not import).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    fileprivate init(handle: OpaquePointer) {
        self.handle = handle
    }

    mutating func add(_ value: String) {
        // Swift hands sqlite3 the string's own NUL-terminated UTF-8 storage; sqlite3 copies it.
        self.check(sqlite3_bind_text(self.handle, self.index, value, -1, Self.transient))
    }

    mutating func add(_ value: String?) {
        if let value { self.add(value) } else { self.null() }
    }

    mutating func add(_ value: Int64) {
        self.check(sqlite3_bind_int64(self.handle, self.index, value))
    }

    mutating func add(_ value: Int64?) {
        if let value { self.add(value) } else { self.null() }
    }

    mutating func add(_ value: Int) { self.add(Int64(value)) }
    mutating func add(_ value: Int?) { self.add(value.map(Int64.init)) }
    mutating func add(_ value: Bool) { self.add(Int64(value ? 1 : 0)) }

    mutating func add(_ value: [UInt8]) {
        let code = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob(self.handle, self.index, bytes.baseAddress, Int32(bytes.count), Self.transient)
        }
        self.check(code)
    }

    mutating func add(_ value: [UInt8]?) {
        if let value { self.add(value) } else { self.null() }
    }

    private mutating func null() {
        self.check(sqlite3_bind_null(self.handle, self.index))
    }

    /// Keeps the first failing bind and moves to the next parameter.
    private mutating func check(_ code: Int32) {
        if code != SQLITE_OK, self.failure == nil { self.failure = (code, self.index) }
        self.index += 1
    }
}

extension Database {
    /// Runs a cached INSERT/UPDATE with values bound by `bind`.
    /// - Returns: the number of rows changed (0 for an ignored duplicate).
    @discardableResult
    func run(_ sql: String, _ bind: (inout SQLiteBinder) -> Void) throws -> Int {
        let statement = try self.cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        var binder = SQLiteBinder(handle: handle)
        bind(&binder)
        if let failure = binder.failure {
            sqlite3_clear_bindings(handle)
            throw DatabaseError(
                resultCode: ResultCode(rawValue: failure.code),
                message: "binding parameter \(failure.index) failed: \(String(cString: sqlite3_errstr(failure.code)))",
                sql: sql)
        }
        let expected = sqlite3_bind_parameter_count(handle)
        guard binder.index - 1 == expected else {
            sqlite3_clear_bindings(handle)
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE,
                message:
                    "wrong number of statement arguments: \(binder.index - 1) bound, the statement takes \(expected)",
                sql: sql)
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            let message = self.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
        return Int(sqlite3_changes(self.sqliteConnection))
    }
}

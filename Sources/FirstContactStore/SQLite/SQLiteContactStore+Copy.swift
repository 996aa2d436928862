import Foundation
import GRDB

/// `firstcontact store copy` on a SQLite file: read in one snapshot from a read-only connection,
/// or written in one transaction into a file that holds nothing yet.
extension SQLiteContactStore {
    /// Runs `body` with a reader of the database at `path`: one read transaction for the whole
    /// copy (a consistent snapshot, even while `serve` writes), on a read-only connection.
    /// - Throws: what a reading command's opening throws (no file, an older or newer schema).
    package static func copyReading<Result: Sendable>(
        at path: String, _ body: @Sendable (any StoreCopyReader) async throws -> Result
    ) async throws -> Result {
        _ = try SQLiteContactStore(readingAt: path)
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        // The read transaction spans the chunks, each read in a call of its own.
        configuration.allowsUnsafeTransactions = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.inDatabase { db in
            try db.execute(sql: "BEGIN DEFERRED")
            // The first read fixes the snapshot that every chunk after it reads.
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master")
        }
        let result = try await body(SQLiteCopyReader(queue: queue))
        try queue.inDatabase { db in try db.execute(sql: "COMMIT") }
        return result
    }

    /// Runs `body` with a writer into the database at `path`, created and migrated if needed, in
    /// one transaction committed when `body` returns. A file that holds any row is refused before
    /// anything is opened for writing; a file this created is removed again when the copy fails.
    package static func copyWriting<Result: Sendable>(
        at path: String, _ body: @Sendable (any StoreCopyWriter) async throws -> Result
    ) async throws -> Result {
        let created = !FileManager.default.fileExists(atPath: path)
        if !created {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let filled = try await queue.read { db in try SQLiteCopyWriter.tablesWithRows(db) }
            try queue.close()
            guard filled.isEmpty else { throw StoreCopyError.targetNotEmpty(path, tables: filled) }
        }
        do {
            _ = try SQLiteContactStore(path: path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.allowsUnsafeTransactions = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            do {
                let writer = SQLiteCopyWriter(queue: queue)
                let filled = try await writer.tablesWithRows()
                guard filled.isEmpty else { throw StoreCopyError.targetNotEmpty(path, tables: filled) }
                let result = try await body(writer)
                try queue.inDatabase { db in
                    try SQLiteMigrations.numberCustomers(db)
                    try SQLiteTally.recount(db)
                    try db.execute(sql: "COMMIT")
                }
                try queue.close()
                return result
            } catch {
                try queue.inDatabase { db in
                    if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
                }
                try queue.close()
                throw error
            }
        } catch {
            if created {
                for suffix in ["", "-wal", "-shm", "-journal"]
                where FileManager.default.fileExists(atPath: path + suffix) {
                    try FileManager.default.removeItem(atPath: path + suffix)
                }
            }
            throw error
        }
    }

    /// The tables a copy moves (all but SQLite's and GRDB's own, and the tally, counted again in
    /// the target once the rows are in), with `rowid` first where the rows have one that no column
    /// names, and without the customer numbers (given again in the target once the rows are in).
    static func copyTables(_ db: Database) throws -> StoreTables {
        var tables: StoreTables = [:]
        for name in try String.fetchAll(
            db,
            sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'
                AND name NOT IN ('grdb_migrations', '\(SQLiteTally.table)')
                """)
        {
            let own = SQLiteMigrations.customerNumberColumns[name] ?? []
            var columns = try db.columns(in: name).map(\.name).filter { !own.contains($0) }
            if try Self.hasRowID(name, db: db), try db.primaryKey(name).rowIDColumn == nil {
                columns.insert(StoreCopyPlan.rowID, at: 0)
            }
            tables[name] = columns
        }
        return tables
    }

    static func hasRowID(_ table: String, db: Database) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT sql NOT LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type = 'table' AND name = ?",
            arguments: [table]) ?? false
    }
}

func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

struct SQLiteCopyReader: StoreCopyReader {
    let queue: DatabaseQueue
    static let chunk = 5_000

    func tables() async throws -> StoreTables {
        try self.queue.inDatabase { db in try SQLiteContactStore.copyTables(db) }
    }

    func rows(of table: String, columns: [String], _ body: ([[StoredValue]]) async throws -> Void) async throws
        -> Int
    {
        // Chunks in key order, each starting after the last key of the one before.
        let key = try self.queue.inDatabase { db in
            try SQLiteContactStore.hasRowID(table, db: db) ? [StoreCopyPlan.rowID] : try db.primaryKey(table).columns
        }
        let keyList = key.map(quoted).joined(separator: ", ")
        let selected = (columns + key).map(quoted).joined(separator: ", ")
        var after: [DatabaseValue]?
        var total = 0
        while true {
            let chunk = try self.queue.inDatabase { db in
                let condition =
                    after == nil
                    ? "" : "WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
                return try Row.fetchAll(
                    db,
                    sql:
                        "SELECT \(selected) FROM \(quoted(table)) \(condition) ORDER BY \(keyList) LIMIT \(Self.chunk)",
                    arguments: StatementArguments(after ?? [])
                ).map { Array($0.databaseValues) }
            }
            guard let last = chunk.last else { break }
            after = Array(last.suffix(key.count))
            try await body(
                try chunk.map { values in
                    try zip(columns, values.prefix(columns.count)).map { column, value in
                        try Self.stored(value, table: table, column: column)
                    }
                })
            total += chunk.count
            if chunk.count < Self.chunk { break }
        }
        return total
    }

    func counters() async throws -> [String: Int64] {
        try self.queue.inDatabase { db in
            guard try db.tableExists("sqlite_sequence") else { return [:] }
            var counters: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence") {
                counters[row[0]] = row[1]
            }
            return counters
        }
    }

    static func stored(_ value: DatabaseValue, table: String, column: String) throws -> StoredValue {
        switch value.storage {
        case .null: return .null
        case .int64(let integer): return .integer(integer)
        case .string(let text): return .text(text)
        case .blob(let data): return .blob([UInt8](data))
        case .double(let number):
            throw StoreCopyError.unsupportedValue(table: table, column: column, reason: "a real number (\(number))")
        }
    }
}

struct SQLiteCopyWriter: StoreCopyWriter {
    let queue: DatabaseQueue

    func tables() async throws -> StoreTables {
        try self.queue.inDatabase { db in try SQLiteContactStore.copyTables(db) }
    }

    func tablesWithRows() async throws -> [String] {
        try self.queue.inDatabase { db in try Self.tablesWithRows(db) }
    }

    static func tablesWithRows(_ db: Database) throws -> [String] {
        try SQLiteContactStore.copyTables(db).keys.sorted().filter { table in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(quoted(table)))") == true
        }
    }

    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws {
        try self.queue.inDatabase { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", ")))
                    VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
                    """)
            for row in rows {
                try statement.execute(
                    arguments: StatementArguments(
                        row.map { value -> DatabaseValue in
                            switch value {
                            case .null: return .null
                            case .integer(let integer): return integer.databaseValue
                            case .text(let text): return text.databaseValue
                            case .blob(let bytes): return Data(bytes).databaseValue
                            }
                        }))
            }
        }
    }

    func continueCounters(after counters: [String: Int64]) async throws {
        try self.queue.inDatabase { db in
            // Only AUTOINCREMENT tables keep a counter; other rowids continue after the largest.
            let counted = Set(
                try String.fetchAll(
                    db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"))
            for (table, value) in counters.sorted(by: { $0.key < $1.key }) where counted.contains(table) {
                try db.execute(
                    sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", arguments: [value, table])
                if db.changesCount == 0 {
                    try db.execute(
                        sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [table, value])
                }
            }
        }
    }
}

import FirstContactStore
import NIOCore
import PostgresNIO

/// `firstcontact store copy` on a PostgreSQL database: read in one READ ONLY snapshot, or
/// written in one transaction into a database that holds nothing yet.
extension PostgresContactStore {
    /// Runs `body` with a reader of the database at `url`: one REPEATABLE READ, READ ONLY
    /// transaction for the whole copy.
    /// - Throws: what a reading command's opening throws (no schema, an older or newer one).
    package static func copyReading<Result: Sendable>(
        at url: PostgresURL, _ body: @Sendable (any StoreCopyReader) async throws -> Result
    ) async throws -> Result {
        let store = PostgresContactStore(readingAt: url)
        do {
            let result = try await store.session.transaction(reading: true) { tx in
                try await body(PostgresCopyReader(tx: tx))
            }
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// Runs `body` with a writer into the database at `url` (which must exist), migrated if
    /// needed, in one transaction. A database holding any row is refused before anything is
    /// created or migrated in it.
    package static func copyWriting<Result: Sendable>(
        at url: PostgresURL, _ body: @Sendable (any StoreCopyWriter) async throws -> Result
    ) async throws -> Result {
        let probe = PostgresSession(url: url, readOnly: true, logger: Self.logger) { _ in }
        do {
            let filled = try await probe.transaction(reading: true) { tx in
                try await PostgresCopyWriter.tablesWithRows(tx)
            }
            await probe.close()
            guard filled.isEmpty else { throw StoreCopyError.targetNotEmpty(url.redacted, tables: filled) }
        } catch {
            await probe.close()
            throw error
        }
        let store = PostgresContactStore(url: url)
        do {
            let result = try await store.session.transaction { tx in
                let writer = try await PostgresCopyWriter(tx: tx)
                let filled = try await writer.tablesWithRows()
                guard filled.isEmpty else { throw StoreCopyError.targetNotEmpty(url.redacted, tables: filled) }
                return try await body(writer)
            }
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

/// The schema's tables and columns, with each column's type: all but the migration bookkeeping
/// and the leases (which instance does what at this moment, by this server's clock: a copy starts
/// with none, and a SQLite file has no such table).
struct PostgresColumns {
    var types: [String: [(column: String, type: String, identity: Bool)]] = [:]

    init(_ tx: PostgresTransaction) async throws {
        for row in try await tx.rows(
            """
            SELECT c.table_name::text, c.column_name::text, c.data_type::text, c.is_identity::text = 'YES'
            FROM information_schema.columns c JOIN information_schema.tables t
                ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                AND c.table_name NOT IN ('schema_migration', 'lease')
            ORDER BY c.table_name, c.ordinal_position
            """)
        {
            let c = Columns(row)
            self.types[try c.text(0), default: []].append((try c.text(1), try c.text(2), try c.bool(3)))
        }
    }

    var tables: StoreTables { self.types.mapValues { $0.map(\.column) } }
}

func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

struct PostgresCopyReader: StoreCopyReader {
    let tx: PostgresTransaction
    static let chunk = 5_000

    func tables() async throws -> StoreTables { try await PostgresColumns(self.tx).tables }

    func rows(of table: String, columns: [String], _ body: ([[StoredValue]]) async throws -> Void) async throws
        -> Int
    {
        // A cursor inside the snapshot: rows come a chunk at a time whatever the table's keys.
        try await self.tx.run(
            "DECLARE fc_copy NO SCROLL CURSOR FOR SELECT \(columns.map(quoted).joined(separator: ", ")) FROM \(quoted(table))"
        )
        var total = 0
        while true {
            let rows = try await self.tx.rows("FETCH FORWARD \(Self.chunk) FROM fc_copy")
            if rows.isEmpty { break }
            try await body(
                try rows.map { row in
                    let cells = row.makeRandomAccess()
                    return try zip(columns, cells).map { column, cell in
                        try Self.stored(cell, table: table, column: column)
                    }
                })
            total += rows.count
        }
        try await self.tx.run("CLOSE fc_copy")
        return total
    }

    func counters() async throws -> [String: Int64] {
        var counters: [String: Int64] = [:]
        for (table, columns) in try await PostgresColumns(self.tx).types {
            for column in columns where column.identity {
                if let last = try await self.tx.value(
                    Int64.self, "SELECT pg_sequence_last_value(pg_get_serial_sequence(?, ?)::regclass)",
                    {
                        $0.add(quoted(table))
                        $0.add(column.column)
                    })
                {
                    counters[table] = max(counters[table] ?? 0, last)
                }
            }
        }
        return counters
    }

    static func stored(_ cell: PostgresCell, table: String, column: String) throws -> StoredValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .text, .varchar, .name: return .text(try cell.decode(String.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default:
            throw StoreCopyError.unsupportedValue(table: table, column: column, reason: "type \(cell.dataType)")
        }
    }
}

struct PostgresCopyWriter: StoreCopyWriter {
    let tx: PostgresTransaction
    let columns: PostgresColumns

    init(tx: PostgresTransaction) async throws {
        self.tx = tx
        self.columns = try await PostgresColumns(tx)
    }

    func tables() async throws -> StoreTables { self.columns.tables }

    func tablesWithRows() async throws -> [String] { try await Self.tablesWithRows(self.tx) }

    static func tablesWithRows(_ tx: PostgresTransaction) async throws -> [String] {
        var filled: [String] = []
        for table in try await PostgresColumns(tx).tables.keys.sorted() {
            if try await tx.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM \(quoted(table)))") == true {
                filled.append(table)
            }
        }
        return filled
    }

    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws {
        let known = Dictionary(
            (self.columns.types[table] ?? []).map { ($0.column, $0) }, uniquingKeysWith: { first, _ in first })
        let types = try columns.map { column in
            guard let type = known[column]?.type else {
                throw StoreCopyError.schemaDiffers("\(table) has no column \(column)")
            }
            return type
        }
        // Ids are copied as they are (an outbox seq stays the seq webhooks and streams resume from).
        let overriding = (self.columns.types[table] ?? []).contains(where: \.identity) ? " OVERRIDING SYSTEM VALUE" : ""
        let perStatement = max(1, 60_000 / max(1, columns.count))
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            var bindings = PostgresBindings()
            var values: [String] = []
            var number = 0
            for row in chunk {
                var placeholders: [String] = []
                for (index, value) in row.enumerated() {
                    try Self.bind(value, as: types[index], table: table, column: columns[index], into: &bindings)
                    number += 1
                    placeholders.append("$\(number)")
                }
                values.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql =
                "INSERT INTO \(quoted(table)) (\(columns.map(quoted).joined(separator: ", ")))\(overriding) VALUES "
                + values.joined(separator: ", ")
            _ = try await self.tx.connection.query(
                PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.tx.logger
            )
            .collect()
            start += perStatement
        }
    }

    static func bind(
        _ value: StoredValue, as type: String, table: String, column: String, into bindings: inout PostgresBindings
    ) throws {
        switch (type, value) {
        case ("bigint", .integer(let integer)), ("integer", .integer(let integer)), ("smallint", .integer(let integer)):
            bindings.append(integer)
        case ("bigint", .null), ("integer", .null), ("smallint", .null): bindings.append(Int64?.none)
        case ("boolean", .integer(let integer)) where integer == 0 || integer == 1: bindings.append(integer == 1)
        case ("boolean", .null): bindings.append(Bool?.none)
        case ("text", .text(let text)), ("character varying", .text(let text)): bindings.append(text)
        case ("text", .null), ("character varying", .null): bindings.append(String?.none)
        case ("bytea", .blob(let bytes)): bindings.append(ByteBuffer(bytes: bytes))
        case ("bytea", .null): bindings.append(ByteBuffer?.none)
        default:
            throw StoreCopyError.unsupportedValue(table: table, column: column, reason: "\(value) in a \(type) column")
        }
    }

    func continueCounters(after counters: [String: Int64]) async throws {
        for (table, columns) in self.columns.types.sorted(by: { $0.key < $1.key }) {
            for column in columns where column.identity {
                // The next id is above both the rows copied and every id the source handed out.
                try await self.tx.run(
                    """
                    SELECT setval(pg_get_serial_sequence(?1, ?2), GREATEST(m, 1), m > 0)
                    FROM (SELECT GREATEST(coalesce(max(\(quoted(column.column))), 0), ?3) AS m FROM \(quoted(table))) AS top
                    """
                ) {
                    $0.add(quoted(table))
                    $0.add(column.column)
                    $0.add(counters[table] ?? 0)
                }
            }
        }
    }
}

/// One column's value as both stores hold it: SQLite's storage classes, to which PostgreSQL's
/// BIGINT, BOOLEAN, TEXT and BYTEA map (a boolean is the integer 0 or 1, as SQLite stores it).
package enum StoredValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

/// A store's tables as `firstcontact store copy` sees them: every table of the schema but the
/// migration bookkeeping, with its columns. `rowid` is listed where rows carry an id of their own
/// besides their columns (SQLite's rowid; PostgreSQL's `rowid` identity column).
package typealias StoreTables = [String: [String]]

/// The side a copy reads: one snapshot of the whole database, never written.
package protocol StoreCopyReader: Sendable {
    func tables() async throws -> StoreTables
    /// Every row of `table`, `columns` in that order, handed to `body` a chunk at a time.
    /// - Returns: the number of rows read.
    @discardableResult
    func rows(of table: String, columns: [String], _ body: ([[StoredValue]]) async throws -> Void) async throws -> Int
    /// Per table, the highest id its counter has handed out (an outbox `seq`, a dead letter's
    /// id): rows that were purged still used theirs, and a copy must not hand them out again.
    func counters() async throws -> [String: Int64]
}

/// The side a copy writes: one transaction, committed only when everything is in.
package protocol StoreCopyWriter: Sendable {
    func tables() async throws -> StoreTables
    /// The tables that hold any row.
    func tablesWithRows() async throws -> [String]
    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws
    /// Makes each table's counter hand out ids above `counters[table]` and above its rows' ids.
    func continueCounters(after counters: [String: Int64]) async throws
}

package enum StoreCopyError: Error, CustomStringConvertible, Equatable {
    case sameDatabase(String)
    case targetNotEmpty(String, tables: [String])
    case schemaDiffers(String)
    case unsupportedValue(table: String, column: String, reason: String)

    package var description: String {
        switch self {
        case .sameDatabase(let location): "--from and --to both name \(location)"
        case .targetNotEmpty(let location, let tables):
            "\(location) is not empty (rows in \(tables.sorted().joined(separator: ", "))): "
                + "store copy writes only into an empty database; nothing was written"
        case .schemaDiffers(let reason): "the two databases' schemas differ: \(reason)"
        case .unsupportedValue(let table, let column, let reason): "\(table).\(column): \(reason)"
        }
    }
}

/// The tables a copy moves, in an order that satisfies foreign keys (summaries refer to their period).
package enum StoreCopyPlan {
    /// Columns that exist on only one side as a row id are left to the target to number.
    package static let rowID = "rowid"

    /// The tables in copy order and, per table, the columns both sides have.
    /// - Throws: ``StoreCopyError/schemaDiffers(_:)`` when a table or a column is on one side only.
    package static func plan(source: StoreTables, target: StoreTables) throws -> [(table: String, columns: [String])] {
        let missing = Set(source.keys).symmetricDifference(target.keys)
        guard missing.isEmpty else {
            throw StoreCopyError.schemaDiffers(
                "tables on one side only: \(missing.sorted().joined(separator: ", ")) (run a writing command with this build on the older one first)"
            )
        }
        var plan: [(table: String, columns: [String])] = []
        for table in source.keys.sorted(by: Self.order) {
            let from = source[table] ?? []
            let to = target[table] ?? []
            let only = Set(from).symmetricDifference(to).subtracting([Self.rowID])
            guard only.isEmpty else {
                throw StoreCopyError.schemaDiffers("\(table): columns on one side only: \(only.sorted())")
            }
            plan.append((table, to.filter { $0 != Self.rowID || from.contains(Self.rowID) }))
        }
        return plan
    }

    private static func order(_ a: String, _ b: String) -> Bool {
        let first = "report_period"
        if (a == first) != (b == first) { return a == first }
        return a < b
    }
}

/// Store failures that are not the database engine's own errors. Every store throws these, so
/// callers (and the conformance tests) see the same failure whichever store they talk to.
package enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A stored row this build cannot read: an unknown state or kind, a payload that does not
    /// decode. Thrown rather than skipped, so an unreadable row never silently disappears from
    /// a listing, a derivation or an export. `rowid` is nil for tables keyed by text only.
    case corrupt(table: String, rowid: Int64?, reason: String)
    case notFound(String)
    /// A reading command was pointed at a path where no database exists.
    case noDatabase(path: String)
    /// The database was migrated by a newer release: this build does not know its latest migrations.
    case newerSchema(path: String, database: String, build: String)
    /// The database lacks migrations this build needs; only a writing command migrates it.
    case needsUpgrade(path: String, database: String, build: String)
    /// A write failed for lack of space on the disk holding the database at `path` (SQLite's
    /// `SQLITE_FULL`, or an I/O error while that disk has no space left). Nothing of the failed
    /// write was committed and nothing committed before is lost: the same write succeeds once
    /// there is room again.
    case storageFull(path: String)
    /// Readers kept the write-ahead log from being emptied after a purge: what the purge deleted
    /// may still lie in the -wal file until the next checkpoint.
    case walBusy(path: String)

    package var description: String {
        switch self {
        case .corrupt(let table, let rowid, let reason):
            "the database holds a row this version cannot read: \(table)\(rowid.map { " rowid \($0)" } ?? ""): \(reason)"
        case .notFound(let what):
            "no \(what)"
        case .noDatabase(let path):
            "no database at \(path); run ingest first"
        case .newerSchema(let path, let database, let build):
            "the database at \(path) was written by a newer release (schema \(database)); this build knows schema up to \(build): use that release or newer"
        case .needsUpgrade(let path, let database, let build):
            "the database at \(path) has schema \(database) and this build needs \(build): run a writing command (ingest or tick) once to upgrade it"
        case .storageFull(let path):
            "the disk holding the database \(path) is full: nothing was written; free space and retry"
        case .walBusy(let path):
            "readers kept the write-ahead log of \(path) busy: it still holds purged rows until the next purge or checkpoint"
        }
    }
}

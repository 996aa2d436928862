import FirstContactCore
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a backup or a restore wrote: enough for an operator to see that it is the right copy.
package struct DatabaseCopySummary: Hashable, Sendable {
    package var path: String
    package var bytes: Int64
    /// Source records kept (CDR legs, queue_log lines, SIP and IVR events).
    package var records: Int
    package var contacts: Int
    /// The event time of the newest record: the position the copy stands at.
    package var newestRecord: Timestamp?
    /// The last schema migration applied (which release wrote it).
    package var migration: String?
}

package enum DatabaseCopyError: Error, CustomStringConvertible, Equatable {
    case missing(String)
    case exists(String)
    case notADatabase(String, String)
    case damaged(String, [String])
    case inUse(String, pid: Int32)

    package var description: String {
        switch self {
        case .missing(let path): "\(path) does not exist"
        case .exists(let path): "\(path) exists; pass --force to replace it"
        case .notADatabase(let path, let reason): "\(path) is not a FirstContact database: \(reason)"
        case .damaged(let path, let problems):
            "\(path) fails PRAGMA integrity_check: \(problems.prefix(5).joined(separator: "; "))"
        case .inUse(let path, let pid):
            "\(path) is open in process \(pid) (is `firstcontact serve` running on it?); stop it first"
        }
    }
}

/// Online backup and restore of the SQLite file (issue 15 §2).
///
/// The backup reads through SQLite's online backup API inside one read transaction: in WAL mode
/// that is a snapshot of the last commit, taken while `serve` goes on writing (a writer never
/// waits for it, and a batch is in the copy whole or not at all).
extension SQLiteContactStore {
    /// Copies the database at `source` to `destination` as one self-contained file (rollback
    /// journal, no -wal beside it), written under a temporary name, synced and then renamed, so
    /// `destination` is either absent or complete.
    package static func backup(from source: String, to destination: String, overwrite: Bool) throws
        -> DatabaseCopySummary
    {
        guard FileManager.default.fileExists(atPath: source) else { throw DatabaseCopyError.missing(source) }
        guard overwrite || !FileManager.default.fileExists(atPath: destination) else {
            throw DatabaseCopyError.exists(destination)
        }
        let reader = try Self.openReadOnly(source)
        let partial = Self.partialPath(for: destination)
        try Self.copy(from: reader, to: partial, check: "quick_check")
        try reader.close()
        try Self.install(partial, at: destination)
        return try Self.summary(of: destination)
    }

    /// Replaces the database at `database` with `copy` after checking that the copy is a
    /// FirstContact database that passes `PRAGMA integrity_check`. Refuses while another process
    /// has `database` open, and removes its -wal and -shm (a stale log applied to the restored
    /// file would corrupt it).
    package static func restore(from copy: String, to database: String, overwrite: Bool) throws -> DatabaseCopySummary {
        guard FileManager.default.fileExists(atPath: copy) else { throw DatabaseCopyError.missing(copy) }
        if FileManager.default.fileExists(atPath: database) {
            guard overwrite else { throw DatabaseCopyError.exists(database) }
        }
        if let pid = Self.processHolding(database) { throw DatabaseCopyError.inUse(database, pid: pid) }
        let reader = try Self.openReadOnly(copy)
        let problems: [String]
        do {
            problems = try reader.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        } catch let error as DatabaseError {
            throw DatabaseCopyError.damaged(copy, [error.message ?? error.description])
        }
        guard problems == ["ok"] else { throw DatabaseCopyError.damaged(copy, problems) }
        let partial = Self.partialPath(for: database)
        try Self.copy(from: reader, to: partial, check: nil)
        try reader.close()
        if let pid = Self.processHolding(database) {
            try? FileManager.default.removeItem(atPath: partial)
            throw DatabaseCopyError.inUse(database, pid: pid)
        }
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
            try FileManager.default.removeItem(atPath: database + suffix)
        }
        try Self.install(partial, at: database)
        return try Self.summary(of: database)
    }

    /// Size, records, contacts and newest record time of the database at `path`, read without
    /// migrating it.
    package static func summary(of path: String) throws -> DatabaseCopySummary {
        let reader = try Self.openReadOnly(path)
        defer { try? reader.close() }
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        return try reader.read { db in
            let records =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT count(*) FROM leg) + (SELECT count(*) FROM queue_event)
                            + (SELECT count(*) FROM sip_event) + (SELECT count(*) FROM ivr_event)
                        """) ?? 0
            // A copy made before CEL was read has no cel_event table.
            let celRecords =
                try db.tableExists("cel_event") ? Int.fetchOne(db, sql: "SELECT count(*) FROM cel_event") ?? 0 : 0
            let contacts = try Int.fetchOne(db, sql: "SELECT count(*) FROM contact") ?? 0
            let newest = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'latest_event'")
                .flatMap(Int64.init).map(Timestamp.init(seconds:))
            let migration = try String.fetchOne(
                db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1")
            return DatabaseCopySummary(
                path: path, bytes: bytes, records: records + celRecords, contacts: contacts, newestRecord: newest,
                migration: migration)
        }
    }

    /// The process (other than this one) that has the SQLite file at `path` open in WAL mode, if
    /// any: every connection holds a shared lock on the -shm file's "dead man switch" byte (offset
    /// 128, SQLite's unix VFS) for as long as it is open.
    package static func processHolding(_ path: String) -> Int32? {
        let descriptor = open(path + "-shm", O_RDWR)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 128
        lock.l_len = 1
        guard fcntl(descriptor, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return nil }
        return lock.l_pid
    }

    private static func openReadOnly(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue: DatabaseQueue
        let known: Bool
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            known = try queue.read { db in try db.tableExists("grdb_migrations") && db.tableExists("meta") }
        } catch let error as DatabaseError {
            throw DatabaseCopyError.notADatabase(path, error.message ?? error.description)
        }
        guard known else { throw DatabaseCopyError.notADatabase(path, "no FirstContact schema") }
        return queue
    }

    /// SQLite's backup API from `reader` (one read transaction) into a new file at `path`, switched
    /// to a rollback journal so that the file stands alone, then synced to disk.
    private static func copy(from reader: DatabaseQueue, to path: String, check: String?) throws {
        for suffix in ["", "-journal", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
        do {
            let writer = try DatabaseQueue(path: path)
            try reader.backup(to: writer)
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = DELETE")
                if let check {
                    let problems = try String.fetchAll(db, sql: "PRAGMA \(check)")
                    guard problems == ["ok"] else { throw DatabaseCopyError.damaged(path, problems) }
                }
            }
            try writer.close()
            try Self.sync(path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// Renames the synced `partial` to `path` and syncs the directory, so the new name survives a
    /// power cut.
    private static func install(_ partial: String, at path: String) throws {
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: reason])
        }
        try Self.sync(
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
    }

    private static func partialPath(for path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let name = ".\((path as NSString).lastPathComponent).partial-\(getpid())"
        return directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw CocoaError(
                .fileWriteUnknown,
                userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }
}

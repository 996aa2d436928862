import ArgumentParser
import FirstContactCore
import FirstContactStore
import Foundation

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database consistently while `serve` keeps running (SQLite's online backup).",
        discussion: """
            The copy is the state at one commit: an ingest batch is in it whole or not at all. It is a \
            single file, synced to disk before it takes its name; it can be used as it is (--db FILE) \
            or brought back with `firstcontact restore`. Records posted after the backup can be posted \
            again to the restored copy: records already in it are recognised and skipped.

            Example: firstcontact backup --db /var/lib/firstcontact/firstcontact.sqlite --to /backup/fc-$(date +%F).sqlite
            """
    )

    @Option(help: ArgumentHelp("The database to copy.", valueName: "path"))
    var db: String

    @Option(help: ArgumentHelp("The backup file to write.", valueName: "file"))
    var to: String

    @Flag(help: "Replace the backup file if it exists.")
    var force = false

    func run() async throws {
        try Self.refusePostgres(self.db)
        let summary: DatabaseCopySummary
        do {
            summary = try SQLiteContactStore.backup(from: self.db, to: self.to, overwrite: self.force)
        } catch let error as DatabaseCopyError {
            throw ValidationFailure(error.description)
        }
        print("Backed up \(self.db) to \(Self.describe(summary))")
    }

    static func describe(_ summary: DatabaseCopySummary) -> String {
        let size = ByteCountFormatter.string(fromByteCount: summary.bytes, countStyle: .file)
        return
            "\(summary.path): \(size) (\(summary.bytes) bytes), \(summary.records) records, \(summary.contacts) contacts, "
            + "newest record \(summary.newestRecord?.iso8601 ?? "-"), schema \(summary.migration ?? "-")."
    }

    static func refusePostgres(_ location: String) throws {
        if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
            throw ValidationFailure(
                "PostgreSQL databases are backed up with pg_dump or base backups (README \"Backup and restore\")")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring back a backup: check it, then replace the database with it (stop `serve` first).",
        discussion: """
            The copy must open and pass PRAGMA integrity_check before anything is replaced. Refuses \
            while another process has the database open, and without --force when it exists; the old \
            database's -wal and -shm files are removed with it. The next `serve` migrates the copy if \
            it was written by an earlier release.

            Example: firstcontact restore --from /backup/fc-2026-11-27.sqlite --db /var/lib/firstcontact/firstcontact.sqlite --force
            """
    )

    @Option(help: ArgumentHelp("The backup file.", valueName: "file"))
    var from: String

    @Option(help: ArgumentHelp("The database to replace.", valueName: "path"))
    var db: String

    @Flag(help: "Replace the database if it exists.")
    var force = false

    func run() async throws {
        try Backup.refusePostgres(self.db)
        let summary: DatabaseCopySummary
        do {
            summary = try SQLiteContactStore.restore(from: self.from, to: self.db, overwrite: self.force)
        } catch let error as DatabaseCopyError {
            throw ValidationFailure(error.description)
        }
        print("Restored \(self.from) to \(Backup.describe(summary))")
    }
}

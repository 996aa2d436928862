import ArgumentParser
import FirstContactApp
import FirstContactStore
import Foundation

struct Store: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work on a database as a whole: move it between SQLite and PostgreSQL.",
        subcommands: [StoreCopy.self]
    )
}

struct StoreCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract:
            "Copy a whole database into an empty one: SQLite to PostgreSQL, PostgreSQL to SQLite, or file to file.",
        discussion: """
            Moves a deployment from one store to the other: the call records and their rejects, \
            people's actions, violation reviews, follow checkpoints, the notification outbox (with \
            its sequence numbers and keys, so webhook receivers and event streams resume where they \
            were), webhook cursors and dead letters, derived contacts, obligations and violations, \
            and the figures of purged months. `export --json` of the copy is byte for byte the \
            export of the original.

            --from is opened read-only and read in one snapshot: it is never written, and may be \
            copied while `serve` runs on it (what arrives after the snapshot is not in the copy; \
            stop `serve` first to move a deployment). --to must hold no rows: a PostgreSQL database \
            that exists (created with createdb, empty), or a SQLite file that does not exist yet \
            (or is empty); a target with anything in it is refused and left as it was. The copy is \
            written in one transaction, so a failure leaves no half copy behind. Either side is a \
            SQLite file path or a postgres:// or postgresql:// URL, as --db takes them; both must be \
            at this build's schema (run any writing command with this build on an older database \
            first).

            Example:
              firstcontact store copy --from /var/lib/firstcontact/firstcontact.sqlite \\
                --to 'postgresql://fc@db.example/firstcontact'
            """
    )

    @Option(help: ArgumentHelp("The database to copy (a SQLite file or a PostgreSQL URL).", valueName: "path-or-url"))
    var from: String

    @Option(help: ArgumentHelp("The empty database to copy into.", valueName: "path-or-url"))
    var to: String

    func run() async throws {
        let counts: [String: Int]
        do {
            counts = try await StoreCopier.copy(from: self.from, to: self.to)
        } catch let error as StoreCopyError {
            throw ValidationFailure(error.description)
        }
        let total = counts.values.reduce(0, +)
        print(
            "Copied \(StoreCopier.display(self.from)) to \(StoreCopier.display(self.to)): \(total) rows in \(counts.count) tables."
        )
        for (table, rows) in counts.sorted(by: { $0.key < $1.key }) where rows > 0 {
            print("  \(table.padding(toLength: 24, withPad: " ", startingAt: 0)) \(rows)")
        }
    }
}

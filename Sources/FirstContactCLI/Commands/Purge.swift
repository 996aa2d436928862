import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation

struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove personal data older than policy.retention; keep the months' figures as summaries.",
        discussion: """
            Contacts closed before the start of the month in which now − policy.retention falls go, with \
            their records, calls, obligations, violations, actions, notifications and trail, and the \
            rejects stored before it; a customer keeps what a later contact still needs. The figures of \
            every whole month before that are summarised first, so reports of past months do not change. \
            Records older than the purge are refused by later ingests. The deleted bytes are overwritten \
            and the file is compacted (VACUUM), so they are gone from the file and its WAL. `serve` does \
            this once a day when policy.retention is set. --dry-run writes nothing and says what would go.

            Example: firstcontact purge --config firstcontact.yaml --db firstcontact.sqlite --dry-run
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Say what would be removed; write nothing (the database is opened read-only).")
    var dryRun = false

    @Option(
        help: ArgumentHelp("Purge as of this time (default: now), e.g. 2027-12-31T00:00:00+08:00.", valueName: "time"))
    var now: Timestamp?

    func run() async throws {
        let engine = try self.global.engine()
        guard engine.configuration.policy.retention != nil else {
            throw ValidationFailure(
                "\(self.global.config) sets no policy.retention: records are kept for ever (set e.g. retention: 400d)")
        }
        let store = try self.dryRun ? await self.global.readingStore() : await self.global.settledStore(engine)
        let now = self.now ?? SystemWallClock().now()
        guard let outcome = try await Retention(engine: engine, store: store).purge(at: now, dryRun: self.dryRun) else {
            return
        }
        print(Retention.summary(outcome))
    }
}

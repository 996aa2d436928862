import ArgumentParser
import FirstContactApp
import FirstContactCore

struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the obligation scheduler in event time up to a moment: every at-risk mark, breach and escalation in order.",
        discussion: """
            Jumps from one due time to the next, as the scheduler in `serve` would have fired them, and \
            stops at --until. Safe to interrupt (even kill -9) and run again: it resumes from the stored clock.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Run up to this time, e.g. 2026-11-27T23:59:59+08:00.", valueName: "time"))
    var until: Timestamp

    func run() async throws {
        let engine = try self.global.engine()
        let store = try self.global.store()
        let scheduler = ObligationScheduler(engine: engine, store: store, clock: SystemWallClock())
        let outcome = try await scheduler.replay(until: self.until)
        print("Clock \(outcome.clock.iso8601); \(outcome.derived) customer derivation(s).")
    }
}

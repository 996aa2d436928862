import ArgumentParser
import FirstContactApp
import FirstContactCore

struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Advance the clock to a time and apply every deadline due by then (breaches, escalations, auto-close).",
        discussion: "The clock never moves back: a --now earlier than the stored clock changes nothing."
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The time to evaluate at, e.g. 2026-11-27T18:00:00+08:00 or …Z.", valueName: "time"))
    var now: Timestamp

    func run() async throws {
        let engine = try self.global.engine()
        let store = try self.global.store()
        // New records first (a run killed before its own derivation), then the deadlines up to --now.
        try await engine.applyWatermark(store: store)
        let outcome = try await store.advanceClock(to: self.now, correlator: engine.correlator)
        let clock = try await store.clock()
        let totals = try await store.totals()
        let states = ObligationState.allCases.map { "\($0.rawValue) \(totals.obligationsByState[$0] ?? 0)" }
            .joined(separator: ", ")
        print(
            "Clock \(clock?.iso8601 ?? "-"); \(outcome.derived) customer(s) re-evaluated. Obligations: \(states). Violations: \(totals.violations)."
        )
    }
}

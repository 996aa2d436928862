import ArgumentParser
import FirstContactApp
import FirstContactCore

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a simulated hotline day: asterisk/Master.csv, asterisk/queue_log, freeswitch/xml_cdr/*.cdr.xml, freeswitch/events.xml and expected.json.",
        discussion: """
            The day is decided as stories first (who calls, who answers, who calls back and when) and \
            expected.json — the export as of 23:59:59 local — is written from those stories, never by \
            running the correlation engine. The same seed gives the same files on every machine.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seed of the random choices.")
    var seed: UInt64 = 1

    @Option(help: "How many customer stories (each one or more calls).")
    var calls = 2000

    @Option(help: ArgumentHelp("The day to simulate, YYYY-MM-DD (local to the configured zone).", valueName: "date"))
    var date: String

    @Option(help: ArgumentHelp("Output directory (created if missing).", valueName: "dir"))
    var out: String

    func validate() throws {
        guard CivilDate(iso: self.date) != nil else { throw ValidationError("--date must be YYYY-MM-DD, got \(self.date)") }
        guard self.calls > 0 else { throw ValidationError("--calls must be positive") }
    }

    func run() async throws {
        let engine = try self.global.engine()
        guard let date = CivilDate(iso: self.date) else { throw ValidationError("--date must be YYYY-MM-DD") }
        let summary = try Simulator(engine: engine).run(seed: self.seed, calls: self.calls, date: date, outputDirectory: self.out)
        print("Simulated \(self.date): \(summary.stories) customers, \(summary.calls) calls → \(summary.cdrRows) CDR rows, \(summary.queueLogLines) queue_log lines, \(summary.freeswitchDocuments) FreeSWITCH XML CDRs, \(summary.freeswitchEvents) callcenter events, \(summary.ivrEvents) IVR events; expected \(summary.contacts) contacts, \(summary.violations) violations. Written to \(self.out)")
        let kinds = summary.storyKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("Stories: \(kinds)")
    }
}

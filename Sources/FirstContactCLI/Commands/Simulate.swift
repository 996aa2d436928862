import ArgumentParser
import FirstContactCore
import FirstContactIngest
import FirstContactSimulator
import Foundation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write a simulated hotline day: asterisk/Master.csv, asterisk/queue_log and ivr/events-*.xml (freeswitch/ on request) and expected.json.",
        discussion: """
            The day is decided as stories first (who calls, who answers, who calls back and when) and \
            expected.json — the export as of 23:59:59 local — is written from those stories, never by \
            running the correlation engine. The same seed gives the same files on every machine.

            --formats chooses the files: asterisk (Master.csv, queue_log), freeswitch (one \
            xml_cdr/<uuid>.cdr.xml per leg and the callcenter events in events.xml: about 3.5 files \
            and 23 KB per customer) and ivr (the IVR's events). Either PBX's files with ivr/ derive \
            to expected.json.
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

    @Option(
        help: ArgumentHelp(
            "Which files to write, comma-separated: \(SimulatedFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "formats"))
    var formats = "asterisk,ivr"

    func validate() throws {
        guard CivilDate(iso: self.date) != nil else {
            throw ValidationError("--date must be YYYY-MM-DD, got \(self.date)")
        }
        guard self.calls > 0 else { throw ValidationError("--calls must be positive") }
        _ = try Self.parse(formats: self.formats)
    }

    /// `asterisk,ivr` → the formats; an unknown or empty list is a usage error.
    static func parse(formats text: String) throws -> Set<SimulatedFormat> {
        var formats: Set<SimulatedFormat> = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let format = SimulatedFormat(rawValue: trimmed) else {
                throw ValidationError(
                    "--formats: unknown format \"\(trimmed)\"; choose from \(SimulatedFormat.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            formats.insert(format)
        }
        return formats
    }

    func run() async throws {
        let configuration = try ConfigurationLoader.load(path: self.global.config)
        guard let date = CivilDate(iso: self.date) else { throw ValidationError("--date must be YYYY-MM-DD") }
        let formats = try Self.parse(formats: self.formats)
        let summary = try Simulator(configuration: configuration).run(
            seed: self.seed, calls: self.calls, date: date, outputDirectory: self.out, formats: formats)
        var written: [String] = []
        for format in formats.sorted() {
            switch format {
            case .asterisk:
                written.append("\(summary.cdrRows) CDR rows, \(summary.queueLogLines) queue_log lines")
            case .freeswitch:
                written.append(
                    "\(summary.freeswitchDocuments) FreeSWITCH XML CDRs, \(summary.freeswitchEvents) callcenter events")
            case .ivr:
                written.append("\(summary.ivrEvents) IVR events")
            }
        }
        print(
            "Simulated \(self.date): \(summary.stories) customers, \(summary.calls) calls → \(written.joined(separator: ", ")); expected \(summary.contacts) contacts, \(summary.violations) violations. Written to \(self.out)"
        )
        let kinds = summary.storyKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", ")
        print("Stories: \(kinds)")
    }
}

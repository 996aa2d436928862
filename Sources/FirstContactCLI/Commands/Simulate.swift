import ArgumentParser
import FirstContactCore
import FirstContactIngest
import FirstContactSimulator
import Foundation

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Write a simulated hotline day: asterisk/Master.csv, asterisk/queue_log and ivr/events-*.xml (freeswitch/ on request) and expected.json; or, with --live, play today's hotline into a running serve.",
        discussion: """
            The day is decided as stories first (who calls, who answers, who calls back and when) and \
            expected.json — the export as of 23:59:59 local — is written from those stories, never by \
            running the correlation engine. The same seed gives the same files on every machine.

            --formats chooses the files: asterisk (Master.csv, queue_log), freeswitch (one \
            xml_cdr/<uuid>.cdr.xml per leg and the callcenter events in events.xml: about 3.5 files \
            and 23 KB per customer) and ivr (the IVR's events). Either PBX's files with ivr/ derive \
            to expected.json.

            --live plays the same stories on the wall clock instead, posted to --to's \
            POST /v1/ingest/<format> with --token (a pbx token) as a PBX and its IVR would post \
            them: the IVR events, queue_log lines and Master.csv rows of each call when it ends. \
            It starts with the hours of today that have passed (posted at once), then plays on, \
            --rate customers a day arriving --speed times faster than real (each customer's calls, \
            waits and callbacks keep their real pace: the server's deadlines run on the real \
            clock). At night (outside 08:00-18:00 local) the day's traffic profile is shifted so \
            that now plays as 15:00 (--plays-as chooses the time whatever the hour); record \
            times are never shifted. Connection errors and 5xx \
            answers are retried with back-off (the server may start later); SIGINT or SIGTERM \
            stops it.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seed of the random choices.")
    var seed: UInt64 = 1

    @Option(help: "How many customer stories (each one or more calls).")
    var calls = 2000

    @Option(
        help: ArgumentHelp(
            "Number the day's customers from N: days with the same N share their customers (different seeds change only their numbers' prefixes); days given ranges apart, e.g. N = day × --calls, share none.",
            valueName: "N"))
    var firstCustomer = 0

    @Option(help: ArgumentHelp("The day to simulate, YYYY-MM-DD (local to the configured zone).", valueName: "date"))
    var date: String?

    @Option(help: ArgumentHelp("Output directory (created if missing).", valueName: "dir"))
    var out: String?

    @Flag(help: "Play today's hotline live into a running serve (--to, --token) instead of writing a day's files.")
    var live = false

    @Option(help: "With --live: customers a day (spread over the day's hours as --calls are).")
    var rate = 2500

    @Option(help: "With --live: how many times faster than real new customers arrive.")
    var speed = 1.0

    @Option(
        help: ArgumentHelp(
            "With --live: the time of day whose traffic now plays as (default: the local time; 15:00 outside 08:00-18:00).",
            valueName: "HH:MM"))
    var playsAs: String?

    @Option(help: ArgumentHelp("With --live: the serve to post to.", valueName: "url"))
    var to = "http://127.0.0.1:8080"

    @Option(help: ArgumentHelp("With --live: a token of role pbx (or admin).", valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "Which files to write, comma-separated: \(SimulatedFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "formats"))
    var formats = "asterisk,ivr"

    func validate() throws {
        if self.live {
            guard self.date == nil, self.out == nil else {
                throw ValidationError("--live plays today into a server: it takes no --date or --out")
            }
            guard self.firstCustomer == 0 else { throw ValidationError("--live takes no --first-customer") }
            guard self.token != nil else { throw ValidationError("--live needs --token (a pbx token)") }
            guard self.rate > 0 else { throw ValidationError("--rate must be positive") }
            guard self.speed >= 1, self.speed <= 100_000 else { throw ValidationError("--speed must be 1...100000") }
            if let text = self.playsAs, Self.parse(time: text) == nil {
                throw ValidationError("--plays-as must be HH:MM, got \(text)")
            }
            return
        }
        guard let date = self.date, self.out != nil else {
            throw ValidationError("--date and --out are required (or --live)")
        }
        guard CivilDate(iso: date) != nil else {
            throw ValidationError("--date must be YYYY-MM-DD, got \(date)")
        }
        guard self.calls > 0 else { throw ValidationError("--calls must be positive") }
        guard self.firstCustomer >= 0, self.firstCustomer + self.calls <= Simulator.customerNumbers else {
            throw ValidationError(
                "--first-customer plus --calls must be within 0...\(Simulator.customerNumbers) (customers are numbered apart below it)"
            )
        }
        _ = try Self.parse(formats: self.formats)
    }

    /// `15:00` → the time of day; anything else is nil.
    static func parse(time text: String) -> CivilTime? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]),
            let minute = Int(parts[1]),
            (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return CivilTime(hour: hour, minute: minute)
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
        if self.live, let token = self.token {
            try await LivePlayer(
                configuration: configuration, seed: self.seed, rate: self.rate, speed: self.speed,
                playsAs: self.playsAs.flatMap(Self.parse(time:)), server: self.to, token: token
            ).runUntilInterrupted()
            return
        }
        guard let text = self.date, let date = CivilDate(iso: text), let out = self.out else {
            throw ValidationError("--date must be YYYY-MM-DD")
        }
        let formats = try Self.parse(formats: self.formats)
        let summary = try Simulator(configuration: configuration).run(
            seed: self.seed, calls: self.calls, date: date, outputDirectory: out, formats: formats,
            firstCustomer: self.firstCustomer)
        var written: [String] = []
        for format in formats.sorted() {
            switch format {
            case .asterisk:
                written.append("\(summary.cdrRows) CDR rows, \(summary.queueLogLines) queue_log lines")
            case .asteriskCEL:
                written.append("\(summary.celRows) CEL rows (asterisk/cel-custom/Master.csv)")
            case .freeswitch:
                written.append(
                    "\(summary.freeswitchDocuments) FreeSWITCH XML CDRs, \(summary.freeswitchEvents) callcenter events")
            case .ivr:
                written.append("\(summary.ivrEvents) IVR events")
            }
        }
        print(
            "Simulated \(text): \(summary.stories) customers, \(summary.calls) calls → \(written.joined(separator: ", ")); expected \(summary.contacts) contacts, \(summary.violations) violations. Written to \(out)"
        )
        let kinds = summary.storyKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", ")
        print("Stories: \(kinds)")
    }
}

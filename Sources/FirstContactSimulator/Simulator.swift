import FirstContactCore
import Foundation

/// What `firstcontact simulate` wrote.
package struct SimulationSummary: Sendable {
    package var stories = 0
    package var calls = 0
    package var cdrRows = 0
    /// Rows of `asterisk/cel-custom/Master.csv`.
    package var celRows = 0
    package var queueLogLines = 0
    package var ivrEvents = 0
    /// mod_xml_cdr documents (one per leg) and callcenter events written to `freeswitch/`.
    package var freeswitchDocuments = 0
    package var freeswitchEvents = 0
    package var contacts = 0
    package var violations = 0
    package var storyKinds: [String: Int] = [:]
}

/// The files a simulated day is written as: one PBX's records, or the IVR's events.
package enum SimulatedFormat: String, CaseIterable, Comparable, Sendable {
    /// `asterisk/Master.csv` and `asterisk/queue_log`.
    case asterisk
    /// `asterisk/cel-custom/Master.csv`: the same calls as Asterisk CEL (`cel_custom`). Written
    /// only when asked for: a folder holding CDRs and CEL for one day describes each call twice.
    case asteriskCEL = "asterisk-cel"
    /// `freeswitch/xml_cdr/<uuid>.cdr.xml`, one per leg, and `freeswitch/events.xml`, the
    /// callcenter events: about 3.5 files and 23 KB per customer.
    case freeswitch
    /// `ivr/events-NNNN.xml`, PBX-neutral.
    case ivr

    package static func < (lhs: Self, rhs: Self) -> Bool {
        Self.allCases.firstIndex(of: lhs) ?? 0 < Self.allCases.firstIndex(of: rhs) ?? 0
    }

    /// What a run writes unless told: every format but the CEL copy of the Asterisk calls.
    package static let standard: Set<SimulatedFormat> = [.asterisk, .freeswitch, .ivr]
}

/// `firstcontact simulate`: one hotline day, decided as stories first, written as each PBX
/// would write it and what the IVR would post (see ``SimulatedFormat``), and as the outcome the
/// rule demands (`expected.json`, the export as of 23:59:59 local). Either PBX's output with
/// `ivr/` must derive to `expected.json` (up to the call keys, which are the PBX's own).
///
/// Each story draws from its own generator seeded by (seed, index), so the day is the same
/// whatever the machine, and the outcome can be computed in a second pass without keeping a
/// million stories in memory.
package struct Simulator: Sendable {
    package let configuration: FirstContactConfiguration
    private let directory: Directory

    package init(configuration: FirstContactConfiguration) {
        self.configuration = configuration
        self.directory = Directory(configuration: configuration)
    }

    /// Hourly weights of call arrivals: morning peak, lunch lull, afternoon, quiet night.
    static let hourWeights = [2, 1, 1, 1, 1, 2, 4, 12, 45, 90, 100, 80, 35, 30, 75, 80, 70, 50, 20, 12, 8, 6, 4, 3]

    /// The customers a day can number apart: story numbers are scrambled below 10^8.
    package static let customerNumbers = 100_000_000

    /// - Parameters:
    ///   - formats: which files to write; `expected.json` is always written.
    ///   - firstCustomer: story i's customer is customer firstCustomer + i. Days with the same
    ///     first customer share their customers (a story's number differs by seed only in its
    ///     prefix); days given ranges apart (e.g. day × calls) share none.
    package func run(
        seed: UInt64, calls: Int, date: CivilDate, outputDirectory: String,
        formats: Set<SimulatedFormat> = SimulatedFormat.standard, firstCustomer: Int = 0
    ) throws -> SimulationSummary {
        let configuration = self.configuration
        let zone = configuration.timezone
        let dayStart = zone.instant(date, CivilTime(secondOfDay: 0))
        let clock = zone.instant(date, CivilTime(hour: 23, minute: 59, second: 59))
        let builder = StoryBuilder(directory: self.directory, lastMoment: clock - 60, firstCustomer: firstCustomer)

        // When each story starts, in time order (ties by index).
        var starts: [(Timestamp, Int)] = []
        starts.reserveCapacity(calls)
        let hours = Self.hourWeights.enumerated().map { ($0.offset, $0.element) }
        for index in 0..<calls {
            var rng = Self.generator(seed, index, 0)
            let hour = StoryBuilder.weighted(hours, &rng)
            starts.append((dayStart + Int64(hour * 3600) + rng.seconds(0...3599), index))
        }
        starts.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        func story(_ start: Timestamp, _ index: Int) -> SimStory {
            var rng = Self.generator(seed, index, 1)
            return builder.build(index: index, start: start, rng: &rng)
        }

        let manager = FileManager.default
        try manager.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        var summary = SimulationSummary()

        // Pass 1: the records, as each chosen format writes them.
        var asterisk: AsteriskFiles?
        if formats.contains(.asterisk) {
            asterisk = try AsteriskFiles(
                directory: (outputDirectory as NSString).appendingPathComponent("asterisk"),
                writer: AsteriskWriter(directory: self.directory, zone: configuration.asterisk.usegmtime ? .utc : zone))
            asterisk?.queueLog.write("\(dayStart.seconds)|NONE|NONE|NONE|QUEUESTART|\n")
        }
        var cel: CELFiles?
        if formats.contains(.asteriskCEL) {
            cel = try CELFiles(
                directory: (outputDirectory as NSString).appendingPathComponent("asterisk/cel-custom"),
                writer: AsteriskCELWriter(directory: self.directory))
        }
        var freeswitch: FreeSWITCHFiles?
        if formats.contains(.freeswitch) {
            freeswitch = try FreeSWITCHFiles(
                directory: (outputDirectory as NSString).appendingPathComponent("freeswitch"),
                writer: FreeSWITCHWriter(directory: self.directory, zone: zone, seed: seed))
        }
        var ivr: IVRFiles?
        if formats.contains(.ivr) {
            ivr = try IVRFiles(directory: (outputDirectory as NSString).appendingPathComponent("ivr"))
        }
        for (start, index) in starts {
            let story = story(start, index)
            summary.stories += 1
            summary.storyKinds[story.kind.rawValue, default: 0] += 1
            for call in story.calls {
                summary.calls += 1
                try asterisk?.write(call, summary: &summary)
                try cel?.write(call, summary: &summary)
                try ivr?.write(call, summary: &summary)
                try freeswitch?.write(call, summary: &summary)
            }
        }
        try asterisk?.close()
        try cel?.close()
        try ivr?.close()
        try freeswitch?.close()

        // Pass 2: the outcome, contacts in (created_at, id) order, streamed.
        let outcome = StoryOutcome(directory: self.directory, clock: clock)
        let normaliser = self.directory.normaliser
        var violations: [Violation] = []
        var position = 0
        var group: [Contact] = []
        let contacts = AnySequence<Contact> {
            AnyIterator {
                while group.isEmpty, position < starts.count {
                    // Stories that start in the same second are sorted by contact id, as the export is.
                    let second = starts[position].0
                    while position < starts.count, starts[position].0 == second {
                        let story = story(starts[position].0, starts[position].1)
                        position += 1
                        let (contact, found) = outcome.outcome(
                            of: story, normalised: normaliser.normalise(story.customerRaw))
                        if let contact { group.append(contact) }
                        violations += found
                    }
                    group.sort { $0.id > $1.id }
                }
                return group.popLast()
            }
        }
        let expected = try BufferedFile(path: (outputDirectory as NSString).appendingPathComponent("expected.json"))
        let out = JSONWriter(sink: { expected.write($0) })
        out.object {
            out.field("as_of") { out.time(clock) }
            out.field("contacts") {
                out.array(contacts) { contact in
                    summary.contacts += 1
                    ExportDocument.contact(contact, into: out)
                }
            }
            // Complete only now: the contacts sequence above collected them.
            out.field("violations") {
                out.array(violations.sorted { ($0.at, $0.id) < ($1.at, $1.id) }) {
                    ExportDocument.violation($0, into: out)
                }
            }
            out.field("rejects") { out.array([Reject]()) { _ in } }
        }
        out.finish()
        expected.write("\n")
        try expected.close()
        summary.violations = violations.count
        return summary
    }

    static func generator(_ seed: UInt64, _ index: Int, _ stream: UInt64) -> SplitMix64 {
        var mixer = SplitMix64(
            seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ (stream &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}

/// `asterisk/Master.csv` and `asterisk/queue_log` being written.
private struct AsteriskFiles {
    var writer: AsteriskWriter
    let master: BufferedFile
    let queueLog: BufferedFile

    init(directory: String, writer: AsteriskWriter) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.writer = writer
        self.master = try BufferedFile(path: (directory as NSString).appendingPathComponent("Master.csv"))
        self.queueLog = try BufferedFile(path: (directory as NSString).appendingPathComponent("queue_log"))
    }

    mutating func write(_ call: SimCall, summary: inout SimulationSummary) throws {
        let (rows, lines) = self.writer.records(of: call)
        for row in rows { self.master.write(row + "\n") }
        for line in lines { self.queueLog.write(line + "\n") }
        summary.cdrRows += rows.count
        summary.queueLogLines += lines.count
    }

    func close() throws {
        try self.master.close()
        try self.queueLog.close()
    }
}

/// `asterisk/cel-custom/Master.csv` being written.
private struct CELFiles {
    var writer: AsteriskCELWriter
    let master: BufferedFile

    init(directory: String, writer: AsteriskCELWriter) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.writer = writer
        self.master = try BufferedFile(path: (directory as NSString).appendingPathComponent("Master.csv"))
    }

    mutating func write(_ call: SimCall, summary: inout SimulationSummary) throws {
        let rows = self.writer.rows(of: call)
        for row in rows { self.master.write(row + "\n") }
        summary.celRows += rows.count
    }

    func close() throws {
        try self.master.close()
    }
}

/// mod_xml_cdr's log-dir layout (`freeswitch/xml_cdr/<uuid>.cdr.xml`) and the event log next to
/// it (`freeswitch/events.xml`) being written.
private struct FreeSWITCHFiles {
    var writer: FreeSWITCHWriter
    let cdrDirectory: String
    let events: BufferedFile

    init(directory: String, writer: FreeSWITCHWriter) throws {
        self.writer = writer
        self.cdrDirectory = (directory as NSString).appendingPathComponent("xml_cdr")
        try FileManager.default.createDirectory(atPath: self.cdrDirectory, withIntermediateDirectories: true)
        self.events = try BufferedFile(path: (directory as NSString).appendingPathComponent("events.xml"))
    }

    mutating func write(_ call: SimCall, summary: inout SimulationSummary) throws {
        let (documents, callEvents) = self.writer.records(of: call)
        for document in documents {
            let path = (self.cdrDirectory as NSString).appendingPathComponent(document.name)
            guard FileManager.default.createFile(atPath: path, contents: Data(document.xml.utf8)) else {
                throw SimulationError.cannotCreate(path)
            }
        }
        for event in callEvents { self.events.write(event) }
        summary.freeswitchDocuments += documents.count
        summary.freeswitchEvents += callEvents.count
    }

    func close() throws {
        try self.events.close()
    }
}

/// `ivr/events-NNNN.xml` being written, ``IVRWriter/eventsPerFile`` events per file.
private struct IVRFiles {
    let directory: String
    let writer = IVRWriter()
    var file: BufferedFile?
    var files = 0

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
    }

    mutating func write(_ call: SimCall, summary: inout SimulationSummary) throws {
        for event in self.writer.events(of: call) {
            if summary.ivrEvents % IVRWriter.eventsPerFile == 0 {
                try self.close()
                self.files += 1
                let name = "events-\(Digits.pad(self.files, 4)).xml"
                self.file = try BufferedFile(path: (self.directory as NSString).appendingPathComponent(name))
                self.file?.write(IVRWriter.header)
            }
            self.file?.write(event + "\n")
            summary.ivrEvents += 1
        }
    }

    func close() throws {
        self.file?.write(IVRWriter.footer)
        try self.file?.close()
    }
}

/// Appends text to a file through a 1 MiB buffer.
final class BufferedFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw SimulationError.cannotCreate(path)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw SimulationError.cannotCreate(path) }
        self.handle = handle
        self.buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) {
        self.buffer.append(contentsOf: text.utf8)
        if self.buffer.count >= 1 << 20 { self.flush() }
    }

    private func flush() {
        self.handle.write(Data(self.buffer))
        self.buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        self.flush()
        try self.handle.close()
    }
}

package enum SimulationError: Error, CustomStringConvertible {
    case cannotCreate(String)

    package var description: String {
        switch self {
        case .cannotCreate(let path): "cannot create \(path)"
        }
    }
}

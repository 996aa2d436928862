import FirstContactCore
import FirstContactIngest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// libFuzzer entry for every input FirstContact reads (scripts/fuzz.sh builds it with
// `--sanitize=fuzzer,address` and runs one target per process). One executable for all targets,
// chosen by FC_FUZZ_TARGET, so the fuzz build compiles the package once. A plain `swift build`
// links this file as a no-op executable.

/// What one fuzzing process feeds its input to.
enum FuzzTarget: Sendable {
    /// One format's body, decoded as `POST /v1/ingest/{format}` decodes it
    /// (``InputDecoder/records(in:source:)``); stream formats also as a batch file is read, in two pieces.
    case format(InputFormat)
    /// The HTTP body path for any format: the first byte picks the format, the rest is the body.
    case httpBody
    /// `ingest DIR` without `--format`: the detector guesses from the name and head, then decodes.
    case detect
    /// The YAML configuration, through ConfigurationLoader.
    case config

    init?(name: String) {
        switch name {
        case "http-body": self = .httpBody
        case "detect": self = .detect
        case "config": self = .config
        default:
            guard let format = InputFormat(rawValue: name) else { return nil }
            self = .format(format)
        }
    }

    static let names = InputFormat.allCases.map(\.rawValue) + ["http-body", "detect", "config"]
}

/// The target and decoder registry of this process, read once from the environment.
struct FuzzSetup: Sendable {
    let target: FuzzTarget
    let registry: DecoderRegistry

    static let current = FuzzSetup.fromEnvironment()

    private static func fromEnvironment() -> FuzzSetup {
        let name = getenv("FC_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(name: name) else {
            fatalError("set FC_FUZZ_TARGET to one of: \(FuzzTarget.names.joined(separator: ", "))")
        }
        // cdr_custom and other column layouts: the decoders read with that file's configuration.
        var configuration = FirstContactConfiguration()
        if let path = getenv("FC_FUZZ_CONFIG").map({ String(cString: $0) }), !path.isEmpty {
            do {
                configuration = try ConfigurationLoader.load(path: path)
            } catch {
                fatalError("FC_FUZZ_CONFIG \(path): \(error)")
            }
        }
        return FuzzSetup(target: target, registry: DecoderRegistry(configuration: configuration))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    let setup = FuzzSetup.current
    switch setup.target {
    case .format(let format):
        FuzzChecks.body(input, format: format, registry: setup.registry)
        if case .stream(let decoder) = setup.registry.decoder(for: format) {
            FuzzChecks.stream(input, decoder: decoder)
        }
    case .httpBody:
        guard let first = input.first else { return 0 }
        let format = InputFormat.allCases[Int(first) % InputFormat.allCases.count]
        FuzzChecks.body(Array(input.dropFirst()), format: format, registry: setup.registry)
    case .detect:
        FuzzChecks.detect(input, registry: setup.registry)
    case .config:
        FuzzChecks.config(input)
    }
    return 0
}

/// Cheap invariants every decoder keeps, whatever it is fed; a broken one traps, which libFuzzer
/// reports as a crash with the input that caused it.
enum FuzzChecks {
    static func body(_ body: [UInt8], format: InputFormat, registry: DecoderRegistry) {
        let source = "fuzz \(format.rawValue)"
        let decoder = registry.decoder(for: format)
        let records = decoder.records(in: body, source: source)
        if case .lines = decoder {
            let lines = LineReader.lines(in: body)
            self.require(records.count == lines.count, "\(records.count) records for \(lines.count) lines")
        }
        self.check(records, source: source, length: body.count)
    }

    /// A batch file of a stream format, read as ``IngestPipeline/readStream`` reads it, cut where
    /// the first byte says: the same records as the whole body at once.
    static func stream(_ input: [UInt8], decoder: StreamDecoder) {
        guard let first = input.first else { return }
        let cut = min(input.count, Int(first) * 7)
        let source = "fuzz stream"
        var pending: [UInt8] = []
        var offset: Int64 = 0
        var line = 1
        var records: [IngestRecord] = []
        for (piece, final) in [(input[..<cut], false), (input[cut...], false), (input[input.endIndex...], true)] {
            pending.append(contentsOf: piece)
            let position = SourcePosition(source: source, line: line, offset: offset)
            let (decoded, consumed) = decoder.decode(pending, at: position, final: final)
            self.require((0...pending.count).contains(consumed), "consumed \(consumed) of \(pending.count) bytes")
            self.require(!final || consumed == pending.count, "the final piece left \(pending.count - consumed) bytes")
            line += pending[..<consumed].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            offset += Int64(consumed)
            pending.removeFirst(consumed)
            records += decoded
        }
        self.check(records, source: source, length: input.count)
        let whole = decoder.decode(input, at: SourcePosition(source: source, line: 1, offset: 0), final: true).records
        self.require(
            records == whole, "read in two pieces at \(cut): \(records.count) records, whole: \(whole.count)")
    }

    static func detect(_ input: [UInt8], registry: DecoderRegistry) {
        guard let first = input.first else { return }
        let names = ["Master.csv", "queue_log", "acc.txt", "leg.cdr.xml", "events.log", "ivr.xml"]
        let path = "/var/log/fuzz/" + names[Int(first) % names.count]
        let body = Array(input.dropFirst())
        guard
            let format = InputFormatDetector.detect(
                path: path, head: Array(body.prefix(InputFormatDetector.headLength)))
        else { return }
        self.body(body, format: format, registry: registry)
    }

    static func config(_ input: [UInt8]) {
        // load(path:) refuses a file that is not UTF-8 before parsing it.
        guard let yaml = String(validating: input, as: UTF8.self) else { return }
        do {
            let configuration = try ConfigurationLoader.load(yaml: yaml, file: "fuzz.yaml")
            _ = DecoderRegistry(configuration: configuration)
        } catch let error as ConfigurationError {
            self.require(!error.diagnostics.isEmpty, "a configuration error without a diagnostic")
        } catch {
            fatalError("ConfigurationLoader threw \(type(of: error)), not a ConfigurationError: \(error)")
        }
    }

    private static func check(_ records: [IngestRecord], source: String, length: Int) {
        for record in records {
            let position: SourcePosition
            switch record {
            case .record(let call):
                position = call.position
                _ = call.eventTime
                _ = call.call
            case .reject(let reject):
                position = reject.position
                self.require(
                    reject.reason.count <= Reject.maxReasonLength,
                    "a reject reason of \(reject.reason.count) characters")
                self.require(reject.raw.count <= Reject.maxKeptRawBytes, "a reject keeping \(reject.raw.count) bytes")
            case .ignored(let ignored):
                position = ignored
            case .presence(let member):
                position = member.position
            }
            self.require(position.source == source, "position source \(position.source)")
            self.require(position.line >= 1, "position line \(position.line)")
            self.require(
                (0...Int64(length)).contains(position.offset), "position offset \(position.offset) in \(length) bytes")
        }
    }

    private static func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("invariant: \(message())") }
    }
}

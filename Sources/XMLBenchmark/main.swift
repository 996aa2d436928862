import FirstContactCore
import FirstContactIngest
import Foundation

// The XML layer's figures for BENCHMARKS.md (scripts/xml-decoder-benchmark.sh builds it in
// release and runs it): nothing fails because a machine is slow.
//
//   XMLBenchmark throughput ROUNDS FILE…   mod_xml_cdr documents decoded in memory, ROUNDS times:
//                                          documents/s and MB/s of the CDR decoder, and of the
//                                          XML reader alone (a handler that does nothing)
//   XMLBenchmark read FILE…                each file read once by the hardened reader: the time,
//                                          and the refusal if any

/// A handler that keeps nothing: what the reader costs by itself.
final class Nothing: XMLContentHandler {
    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) {}
    func endElement(_ name: String, text: [UInt8], depth: Int) {}
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func load(_ paths: some Sequence<String>) throws -> [[UInt8]] {
    try paths.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
}

func throughput(rounds: Int, documents: [[UInt8]]) throws {
    let decoder = FreeSWITCHCDRDecoder(zone: .utc)
    let position = SourcePosition(source: "benchmark", line: 1, offset: 0)
    let clock = ContinuousClock()
    var legs = 0
    let decoding = clock.measure {
        for _ in 0..<rounds {
            for document in documents {
                if case .record(.leg) = decoder.decode(document, position: position) { legs += 1 }
            }
        }
    }
    let bytes = Double(documents.map(\.count).reduce(0, +) * rounds)
    let decodeSeconds = seconds(decoding)
    print(
        "FreeSWITCHCDRDecoder: \(legs) documents in \(String(format: "%.3f", decodeSeconds)) s = "
            + "\(Int(Double(legs) / decodeSeconds)) documents/s, \(String(format: "%.1f", bytes / decodeSeconds / 1e6)) MB/s"
    )
    guard legs == documents.count * rounds else {
        throw BenchmarkError("only \(legs) of \(documents.count * rounds) documents gave a leg")
    }
    let reading = try clock.measure {
        for _ in 0..<rounds {
            for document in documents { try XMLReader.read(document, limits: XMLLimits(), into: Nothing()) }
        }
    }
    print("XMLReader alone: \(Int(Double(legs) / seconds(reading))) documents/s")
}

func read(_ paths: [String]) throws {
    var total = 0.0
    for (path, bytes) in zip(paths, try load(paths)) {
        var refusal: XMLRefusal?
        let elapsed = ContinuousClock().measure {
            do throws(XMLRefusal) {
                try XMLReader.read(bytes, limits: XMLLimits(), into: Nothing())
            } catch {
                refusal = error
            }
        }
        total += seconds(elapsed)
        let outcome = refusal.map { "refused (\($0.kind.rawValue))" } ?? "accepted"
        print(
            "\((path as NSString).lastPathComponent): \(bytes.count) bytes \(outcome) in \(String(format: "%.4f", seconds(elapsed))) s"
        )
    }
    print("\(paths.count) files read in \(String(format: "%.4f", total)) s")
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "throughput":
        guard arguments.count > 2, let rounds = Int(arguments[1]), rounds > 0 else {
            throw BenchmarkError("usage: XMLBenchmark throughput ROUNDS FILE…")
        }
        try throughput(rounds: rounds, documents: try load(arguments.dropFirst(2)))
    case "read":
        guard arguments.count > 1 else { throw BenchmarkError("usage: XMLBenchmark read FILE…") }
        try read(Array(arguments.dropFirst()))
    default:
        throw BenchmarkError("usage: XMLBenchmark throughput ROUNDS FILE… | read FILE…")
    }
} catch {
    FileHandle.standardError.write(Data("XMLBenchmark: \(error)\n".utf8))
    exit(1)
}

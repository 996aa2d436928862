import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Records everything ``XMLReader`` reports, for assertions.
final class RecordingHandler: XMLContentHandler {
    struct Element: Equatable {
        var name: String
        var depth: Int
        var attributes: [XMLAttribute]
        var text: String
    }

    var started: [(name: String, depth: Int, attributes: [XMLAttribute])] = []
    var ended: [Element] = []

    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) {
        self.started.append((name, depth, attributes))
    }

    func endElement(_ name: String, text: [UInt8], depth: Int) {
        let attributes = self.started.last { $0.name == name && $0.depth == depth }?.attributes ?? []
        self.ended.append(
            Element(name: name, depth: depth, attributes: attributes, text: String(decoding: text, as: UTF8.self)))
    }

    /// Every string the handler was given, for "the secret never came out" checks.
    var everything: String {
        (self.started.map { $0.name + $0.attributes.map { $0.name + $0.value }.joined() }
            + self.ended.map { $0.name + $0.text }).joined(separator: "\n")
    }
}

/// Reads `bytes` and returns the handler or the refusal.
private func read(_ bytes: [UInt8], limits: XMLLimits = XMLLimits()) -> (RecordingHandler, XMLRefusal?) {
    let handler = RecordingHandler()
    do {
        try XMLReader.read(bytes, limits: limits, into: handler)
        return (handler, nil)
    } catch {
        return (handler, error)
    }
}

private func fixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestFiles.fixture("xml/\(name)"))))
}

private func fixtureText(_ name: String) throws -> String {
    String(decoding: try fixtureBytes(name), as: UTF8.self)
}

/// Runs `body` and returns its result with the elapsed seconds.
private func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let result = try body()
    let elapsed = ContinuousClock.now - start
    return (result, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Generous bound for one hostile document: an expansion would take minutes, a refusal takes
/// milliseconds; 2 s keeps the test from failing on a slow, shared machine.
private let perDocumentBound = 2.0

@Suite("XMLReader: well-formed documents")
struct XMLReaderContentTests {
    @Test("elements, depth, text, attributes and CDATA are reported in order")
    func content() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <cdr core-uuid="a&amp;b &lt;c&gt; &#38;&#x41;">
              <variables>
                <name>Li &amp; Lei &#x674E;</name>
                <data><![CDATA[<not> & markup]]></data>
                <empty/>
              </variables>
            </cdr>
            """
        let (handler, refusal) = read(Array(xml.utf8))
        #expect(refusal == nil)
        #expect(handler.started.map(\.name) == ["cdr", "variables", "name", "data", "empty"])
        #expect(handler.started.map(\.depth) == [1, 2, 3, 3, 3])
        #expect(handler.started.first?.attributes == [XMLAttribute(name: "core-uuid", value: "a&b <c> &A")])
        let texts = Dictionary(uniqueKeysWithValues: handler.ended.map { ($0.name, $0.text) })
        #expect(texts["name"] == "Li & Lei 李")
        #expect(texts["data"] == "<not> & markup")
        #expect(texts["empty"] == "")
        #expect(handler.ended.last?.name == "cdr")
    }

    @Test("names with an undeclared prefix are read leniently (FreeSWITCH variable names)")
    func prefixedNames() {
        let (handler, refusal) = read(Array("<cdr><variables><sip:x>1</sip:x></variables></cdr>".utf8))
        #expect(refusal == nil)
        #expect(handler.ended.first?.name == "sip:x")
        #expect(handler.ended.first?.text == "1")
    }

    @Test("a UTF-8 byte order mark and an explicit UTF-8 declaration are accepted")
    func byteOrderMark() {
        let xml: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("<?xml version='1.0' encoding='utf-8'?><a>é</a>".utf8)
        let (handler, refusal) = read(xml)
        #expect(refusal == nil)
        #expect(handler.ended.first?.text == "é")
    }

    @Test("limits are inclusive: exactly at each limit is accepted")
    func atTheLimits() {
        let limits = XMLLimits(maxDocumentBytes: 200, maxDepth: 3, maxTextBytes: 10, maxAttributes: 2)
        let xml = "<a x='1' y='2'><b><c>0123456789</c></b></a>"
        let (_, refusal) = read(Array(xml.utf8), limits: limits)
        #expect(refusal == nil)
    }
}

/// One hostile or broken document, the refusal kind it must get and words its reason must hold.
struct HostileCase: CustomTestStringConvertible, Sendable {
    var name: String
    var kind: XMLRefusal.Kind
    var reasonContains: [String]
    var limits = XMLLimits()
    var bytes: @Sendable () throws -> [UInt8]
    var testDescription: String { self.name }

    /// Every case, shared by the per-case test and the whole-suite timing.
    static let all: [HostileCase] = [
        HostileCase(name: "billion laughs", kind: .doctype, reasonContains: ["DOCTYPE", "10 entities"]) {
            try fixtureBytes("billion-laughs.xml")
        },
        HostileCase(name: "quadratic blow-up", kind: .doctype, reasonContains: ["DOCTYPE", "1 entity"]) {
            try fixtureBytes("quadratic-blowup.xml")
        },
        HostileCase(name: "external DTD (port 9)", kind: .doctype, reasonContains: ["external DTD", "x.dtd"]) {
            Array(try fixtureText("external-dtd.xml.template").replacingOccurrences(of: "@PORT@", with: "9").utf8)
        },
        HostileCase(
            name: "external entity (file:///etc/passwd)", kind: .doctype,
            reasonContains: ["DOCTYPE", "1 of them external"]
        ) {
            Array(
                try fixtureText("external-entity.xml.template")
                    .replacingOccurrences(of: "@CANARY_PATH@", with: "/etc/passwd").utf8)
        },
        HostileCase(
            name: "external parameter entity", kind: .doctype, reasonContains: ["DOCTYPE", "1 of them external"]
        ) {
            Array(
                try fixtureText("parameter-entity.xml.template")
                    .replacingOccurrences(of: "@CANARY_PATH@", with: "/etc/passwd").utf8)
        },
        HostileCase(name: "depth bomb: 100,000 nested elements", kind: .tooDeep, reasonContains: ["deeper than 64"]) {
            Array(String(repeating: "<a>", count: 100_000).utf8) + Array(String(repeating: "</a>", count: 100_000).utf8)
        },
        HostileCase(name: "unclosed depth bomb", kind: .tooDeep, reasonContains: ["deeper than 64"]) {
            Array(String(repeating: "<a>", count: 1_000_000).utf8)
        },
        HostileCase(
            name: "document over the size limit", kind: .documentTooLarge, reasonContains: ["4194305 bytes", "4194304"]
        ) {
            let body = 4 * 1024 * 1024 + 1 - "<cdr></cdr>".utf8.count
            return Array("<cdr>".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: body) + Array("</cdr>".utf8)
        },
        HostileCase(
            name: "text node over the limit", kind: .textTooLarge, reasonContains: ["<caller_id_name>", "262144"]
        ) {
            Array("<cdr><variables><caller_id_name>".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
                + Array("</caller_id_name></variables></cdr>".utf8)
        },
        HostileCase(name: "CDATA over the limit", kind: .textTooLarge, reasonContains: ["<v>"]) {
            Array("<cdr><v><![CDATA[".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
                + Array("]]></v></cdr>".utf8)
        },
        HostileCase(name: "attribute value over the limit", kind: .textTooLarge, reasonContains: ["attribute of <cdr>"])
        {
            Array("<cdr a=\"".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 300_000) + Array("\"/>".utf8)
        },
        HostileCase(
            name: "200,000 attributes on one start tag", kind: .tooManyAttributes,
            reasonContains: ["more than 256 attributes"]
        ) {
            var xml = Array("<cdr".utf8)
            for index in 0..<200_000 { xml += Array(" a\(index)=\"\"".utf8) }
            return xml + Array("/>".utf8)
        },
        HostileCase(
            name: "namespace bomb: 16,384 declarations, then 100,000 prefixed elements", kind: .tooManyNamespaces,
            reasonContains: ["more than 64 namespace declarations"]
        ) {
            var xml: [UInt8] = []
            for depth in 0..<64 {
                xml += Array("<e\(depth)".utf8)
                for index in 0..<256 { xml += Array(" xmlns:p\(depth)_\(index)=\"u\(index)\"".utf8) }
                xml += Array(">".utf8)
            }
            xml += Array(String(repeating: "<p0_0:a/>", count: 100_000).utf8)
            for depth in (0..<64).reversed() { xml += Array("</e\(depth)>".utf8) }
            return xml
        },
        HostileCase(name: "invalid UTF-8", kind: .encoding, reasonContains: ["not UTF-8", "line 5"]) {
            try fixtureBytes("invalid-utf8.xml")
        },
        HostileCase(name: "declared ISO-8859-1", kind: .encoding, reasonContains: ["ISO-8859-1"]) {
            try fixtureBytes("latin1-declared.xml")
        },
        HostileCase(name: "UTF-16 with a byte order mark", kind: .encoding, reasonContains: ["UTF-16"]) {
            try fixtureBytes("utf16.xml")
        },
        HostileCase(name: "truncated inside an element", kind: .truncated, reasonContains: ["<answer_uepoch>"]) {
            try fixtureBytes("truncated.xml")
        },
        HostileCase(name: "truncated inside a start tag", kind: .truncated, reasonContains: ["<variables>"]) {
            Array("<cdr><variables><uui".utf8)
        },
        HostileCase(name: "root element never closed", kind: .truncated, reasonContains: ["<cdr>"]) {
            Array("<cdr><variables><uuid>u</uuid></variables>\n".utf8)
        },
        HostileCase(name: "not XML", kind: .notXML, reasonContains: ["not XML"]) {
            try fixtureBytes("not-xml.txt")
        },
        HostileCase(name: "empty", kind: .notXML, reasonContains: ["empty"]) { [] },
        HostileCase(name: "blanks only", kind: .notXML, reasonContains: ["not XML"]) { Array("  \n\t\n".utf8) },
        HostileCase(name: "mismatched end tag", kind: .malformed, reasonContains: ["not well-formed", "line 1"]) {
            Array("<cdr><a></b></cdr>".utf8)
        },
        HostileCase(name: "undeclared entity", kind: .malformed, reasonContains: ["not well-formed", "x"]) {
            Array("<cdr><a>&x;</a></cdr>".utf8)
        },
        HostileCase(name: "two root elements", kind: .malformed, reasonContains: ["not well-formed"]) {
            Array("<cdr/><cdr/>".utf8)
        },
    ]
}

/// A document at the limits that must be accepted (see ``XMLReaderHostileTests/worstAccepted(_:)``).
struct WorstCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: @Sendable () -> [UInt8]
    var testDescription: String { self.name }

    static let all: [WorstCase] = [
        WorstCase(name: "4 MiB of start tags with 256 attributes each") {
            var tag = Array("<a".utf8)
            for index in 0..<256 { tag += Array(" a\(index)=\"\"".utf8) }
            tag += Array("/>".utf8)
            var xml = Array("<r>".utf8)
            while xml.count + tag.count + 4 < 4 * 1024 * 1024 { xml += tag }
            return xml + Array("</r>".utf8)
        },
        WorstCase(name: "4 MiB of empty elements") {
            Array("<r>".utf8) + Array(String(repeating: "<a/>", count: (4 * 1024 * 1024 - 8) / 4).utf8)
                + Array("</r>".utf8)
        },
        WorstCase(name: "64 namespaces in scope and 500,000 prefixed elements") {
            var xml = Array("<r".utf8)
            for index in 0..<64 { xml += Array(" xmlns:p\(index)=\"u\(index)\"".utf8) }
            xml += Array(">".utf8) + Array(String(repeating: "<p0:a/>", count: 500_000).utf8)
            return xml + Array("</r>".utf8)
        },
    ]
}

@Suite("XMLReader: hostile and broken input is refused cheaply")
struct XMLReaderHostileTests {
    @Test("each is refused with the right reason, in bounded time", arguments: HostileCase.all)
    func refused(_ hostile: HostileCase) throws {
        let bytes = try hostile.bytes()
        let ((handler, refusal), seconds) = timed { read(bytes, limits: hostile.limits) }
        let reason = try #require(refusal, "\(hostile.name) was accepted")
        #expect(reason.kind == hostile.kind, "\(reason)")
        for word in hostile.reasonContains {
            #expect(reason.message.contains(word), "reason \"\(reason.message)\" lacks \"\(word)\"")
        }
        #expect(seconds < perDocumentBound, "\(hostile.name) took \(seconds) s")
        // Nothing from inside a DTD ever reaches the handler.
        if hostile.kind == .doctype { #expect(handler.started.isEmpty) }
    }

    /// The most expensive documents the limits still allow: they must be accepted, and still
    /// be cheap. Bounds are generous (debug builds, shared machines).
    @Test("worst cases within the limits are accepted in bounded time", arguments: WorstCase.all)
    func worstAccepted(_ worst: WorstCase) {
        let bytes = worst.bytes()
        let ((handler, refusal), seconds) = timed { read(bytes) }
        #expect(refusal == nil, "\(refusal?.message ?? "")")
        #expect(handler.started.count > 1000)
        #expect(seconds < 15)
    }

    @Test("an external entity's file is never read: its canary appears nowhere")
    func externalEntityNeverRead() throws {
        let canary = "FC-CANARY-\(UUID().uuidString)"
        let path = try TestFiles.temporaryFile(Array("\(canary)\n".utf8), name: "secret.txt")
        defer { TestFiles.removeTemporaryFile(path) }
        for template in ["external-entity.xml.template", "parameter-entity.xml.template"] {
            let xml = try fixtureText(template).replacingOccurrences(of: "@CANARY_PATH@", with: path)
            let (handler, refusal) = read(Array(xml.utf8))
            let reason = try #require(refusal)
            #expect(reason.kind == .doctype)
            #expect(reason.message.contains("ENTITY") || reason.message.contains("entit"))
            #expect(!reason.message.contains(canary))
            #expect(!handler.everything.contains(canary))

            // Through the CDR decoder too: neither the reason nor the kept bytes hold the secret.
            let record = FreeSWITCHCDRDecoder(zone: .utc).decode(Array(xml.utf8), position: testPosition())
            let reject = try #require(record.reject)
            #expect(reject.reason.contains("DOCTYPE"))
            #expect(!reject.reason.contains(canary))
            #expect(!String(decoding: reject.raw, as: UTF8.self).contains(canary))
        }
    }

    @Test("an external DTD is refused before any fetch: nobody connects to its server")
    func externalDTDNoNetwork() throws {
        let listener = try LocalListener()
        defer { listener.stop() }
        let xml = try fixtureText("external-dtd.xml.template").replacingOccurrences(
            of: "@PORT@", with: String(listener.port))
        let ((_, refusal), seconds) = timed { read(Array(xml.utf8)) }
        let reason = try #require(refusal)
        #expect(reason.kind == .doctype)
        #expect(reason.message.contains("http://127.0.0.1:\(listener.port)/x.dtd"))
        #expect(seconds < perDocumentBound)
        #expect(listener.connectionsAttempted == 0)
    }

    @Test("the whole hostile suite runs in bounded time and memory")
    func wholeSuite() throws {
        let inputs = try HostileCase.all.map { ($0, try $0.bytes()) }
        let before = peakResidentBytes()
        let (refused, seconds) = timed { inputs.filter { read($0.1, limits: $0.0.limits).1 != nil }.count }
        let peak = peakResidentBytes()
        let growth = peak - before
        #expect(refused == inputs.count)
        #expect(seconds < perDocumentBound * Double(inputs.count))
        // An expansion would need gigabytes; the inputs themselves are about 9 MB.
        #expect(growth < 256 * 1024 * 1024)
    }

    @Test("libxml2 writes nothing to stderr")
    func quiet() throws {
        let inputs = try HostileCase.all.map { ($0, try $0.bytes()) }
        let captured = try captureStandardError {
            for (hostile, bytes) in inputs { _ = read(bytes, limits: hostile.limits) }
        }
        // Other suites run in parallel and may print; libxml2's own lines look like these.
        for marker in ["parser error", "namespace error", "I/O error", "warning :", "Entity:", "^"] {
            #expect(!captured.contains(marker), "libxml2 printed: \(captured)")
        }
    }
}

// MARK: - Helpers

/// The process's peak resident set size in bytes (a high-water mark).
private func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss
    #endif
}

/// Runs `body` with fd 2 redirected to a temporary file and returns what was written.
private func captureStandardError(_ body: () throws -> Void) throws -> String {
    let path = NSTemporaryDirectory() + "fc-stderr-\(UUID().uuidString)"
    let file = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o600)
    guard file >= 0 else { throw CocoaError(.fileWriteUnknown) }
    defer {
        close(file)
        unlink(path)
    }
    fflush(nil)
    let saved = dup(2)
    dup2(file, 2)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
    }
    try body()
    fflush(nil)
    return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}

/// A TCP listener on 127.0.0.1 (ephemeral port) that counts connection attempts.
private final class LocalListener {
    let socketFD: Int32
    let port: UInt16

    init() throws {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw FixtureSetupError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw FixtureSetupError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.socketFD = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    /// Connections waiting to be accepted (each is accepted and closed).
    var connectionsAttempted: Int {
        var count = 0
        while true {
            let connection = accept(self.socketFD, nil, nil)
            guard connection >= 0 else { return count }
            close(connection)
            count += 1
        }
    }

    func stop() { close(self.socketFD) }
}

private struct FixtureSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

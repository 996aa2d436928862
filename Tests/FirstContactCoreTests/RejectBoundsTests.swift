import Testing

@testable import FirstContactCore

@Suite("A reject costs at most what it weighs")
struct RejectBoundsTests {
    static let position = SourcePosition(source: "acc.db", line: 2, offset: 10)

    @Test("a reason longer than 256 characters is cut to 256, ending in …")
    func longReasonIsCut() {
        let header = (0..<100_008).map { "c\($0)(str)" }.joined(separator: " ")
        let reject = Reject(position: Self.position, reason: "the header is \(header)", raw: Array("1:2".utf8))
        #expect(reject.reason.count == Reject.maxReasonLength)
        #expect(reject.reason.hasSuffix("…"))
        #expect(reject.reason.hasPrefix("the header is c0(str) c1(str)"))
    }

    @Test("a short reason is kept as written, multi-byte characters counted as characters")
    func shortReasonKept() {
        let reason = String(repeating: "张", count: Reject.maxReasonLength)
        #expect(Reject(position: Self.position, reason: reason, raw: []).reason == reason)
        #expect(Reject(position: Self.position, reason: "2 fields", raw: []).reason == "2 fields")
    }

    @Test("raw bytes over 64 KiB are cut, with the whole input's length and SHA-256 kept")
    func longRawIsCut() {
        let raw = [UInt8](repeating: UInt8(ascii: "x"), count: 1_000_000)
        let reject = Reject(position: Self.position, reason: "too long", raw: raw)
        #expect(reject.raw.count == Reject.maxKeptRawBytes)
        #expect(reject.rawLength == 1_000_000)
        #expect(reject.isRawTruncated)
        #expect(reject.rawSHA256 == SHA256.hex(String(repeating: "x", count: 1_000_000)))
    }

    @Test("raw bytes of up to 64 KiB are kept whole, with no digest")
    func shortRawKept() {
        let raw = [UInt8](repeating: 7, count: Reject.maxKeptRawBytes)
        let reject = Reject(position: Self.position, reason: "bad", raw: raw[...])
        #expect(reject.raw == raw)
        #expect(reject.rawLength == raw.count)
        #expect(reject.rawSHA256 == nil)
        #expect(!reject.isRawTruncated)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte-level checks made before libxml2 sees a document, for the few attacks libxml2 2.9
/// would only notice after paying for them.
///
/// * Encoding: FirstContact reads UTF-8 only. A UTF-16/32 byte order mark or an `encoding=`
///   other than UTF-8/ASCII is refused here, so libxml2 never switches to a converter.
/// * Attribute count: libxml2 2.9 compares every attribute of a start tag with every earlier
///   one (measured here: 160,000 attributes, 1.6 MB, took 5 s), so a start tag with too many
///   attributes is refused by counting `=` outside quoted values before parsing.
///
/// Everything else (well-formedness, DOCTYPE, depth, text size, invalid UTF-8 sequences) is
/// checked by ``XMLReader`` while libxml2 parses. The scan is one pass and allocates nothing.
enum XMLPrescan {
    /// - Returns: the refusal, or nil when the bytes may be handed to libxml2.
    static func check(_ bytes: UnsafeBufferPointer<UInt8>, limits: XMLLimits) -> XMLRefusal? {
        if let refusal = self.checkEncoding(bytes) { return refusal }
        return self.checkAttributeCounts(bytes, limit: limits.maxAttributes)
    }

    // MARK: - Encoding

    private static func checkEncoding(_ bytes: UnsafeBufferPointer<UInt8>) -> XMLRefusal? {
        let utf16or32 =
            bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE])
            || bytes.starts(with: [0x00, 0x00, 0xFE, 0xFF])
        // `<` in UTF-16/32 without a byte order mark starts with a NUL byte on one side or the other.
        let nulInHead = bytes.prefix(4).contains(0)
        if utf16or32 || nulInHead {
            return XMLRefusal(.encoding, "not UTF-8: the document starts like UTF-16/UTF-32; only UTF-8 XML is read")
        }
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        let declaration = Array("<?xml".utf8)
        guard bytes.count - start >= declaration.count,
            bytes[start..<(start + declaration.count)].elementsEqual(declaration)
        else { return nil }
        // The declaration is short; a missing `?>` within 1 KiB is left to libxml2 to report.
        let end = min(bytes.count, start + 1024)
        guard let close = self.find([UInt8(ascii: "?"), UInt8(ascii: ">")], in: bytes, from: start, to: end) else {
            return nil
        }
        guard let encoding = self.pseudoAttribute("encoding", in: bytes, from: start + declaration.count, to: close)
        else { return nil }
        switch encoding.lowercased() {
        case "utf-8", "utf8", "us-ascii", "ascii":
            return nil
        default:
            let shown = encoding.count > 40 ? "\(encoding.prefix(40))…" : encoding
            return XMLRefusal(
                .encoding, "not UTF-8: the XML declaration says encoding=\"\(shown)\"; only UTF-8 XML is read")
        }
    }

    /// The value of `name="…"` (or `'…'`) between `from` and `to`, as text.
    private static func pseudoAttribute(
        _ name: String, in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int
    ) -> String? {
        let key = Array(name.utf8)
        var index = from
        while let found = self.find(key, in: bytes, from: index, to: to) {
            var cursor = found + key.count
            while cursor < to, self.isBlank(bytes[cursor]) { cursor += 1 }
            guard cursor < to, bytes[cursor] == UInt8(ascii: "=") else {
                index = found + 1
                continue
            }
            cursor += 1
            while cursor < to, self.isBlank(bytes[cursor]) { cursor += 1 }
            guard cursor < to, bytes[cursor] == UInt8(ascii: "\"") || bytes[cursor] == UInt8(ascii: "'") else {
                return nil
            }
            let quote = bytes[cursor]
            let valueStart = cursor + 1
            var valueEnd = valueStart
            while valueEnd < to, bytes[valueEnd] != quote { valueEnd += 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        }
        return nil
    }

    // MARK: - Attribute counts

    /// Refuses a start tag with more than `limit` attributes, counting `=` outside quoted
    /// values; comments, CDATA sections and processing instructions are skipped whole. Other
    /// `<!` declarations (a DOCTYPE and its subset) are counted like tags: libxml2 refuses the
    /// DOCTYPE anyway, and the scan does not rely on that.
    ///
    /// Fast path: a raw `<` cannot occur inside a tag (not even in a quoted value: libxml2
    /// refuses it), so all of a tag's attributes lie between its `<` and the next `<`. A gap
    /// shorter than `limit` bytes cannot hold more than `limit` `=` signs and is skipped with
    /// memchr; only longer gaps are counted, and only a gap with too many `=` is read quote by quote.
    private static func checkAttributeCounts(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> XMLRefusal? {
        guard let base = bytes.baseAddress else { return nil }
        // Cheapest first: a document with at most `limit` `=` in all cannot have a tag with more
        // (a mod_xml_cdr document has a few dozen, in app_log attributes). This loop vectorises.
        var total = 0
        for byte in bytes { total &+= byte == UInt8(ascii: "=") ? 1 : 0 }
        guard total > limit else { return nil }
        let count = bytes.count
        let lt = Int32(UInt8(ascii: "<"))
        var index = 0
        while index < count {
            guard let found = memchr(base + index, lt, count - index) else { return nil }
            index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            let next = index + 1 < count ? bytes[index + 1] : 0
            if next == UInt8(ascii: "!") {
                if self.matches("<!--", at: index, in: bytes) {
                    guard let end = self.find(Array("-->".utf8), in: bytes, from: index + 4, to: count) else {
                        return nil
                    }
                    index = end + 3
                    continue
                } else if self.matches("<![CDATA[", at: index, in: bytes) {
                    guard let end = self.find(Array("]]>".utf8), in: bytes, from: index + 9, to: count) else {
                        return nil
                    }
                    index = end + 3
                    continue
                }
            }
            if next == UInt8(ascii: "?") {
                guard
                    let end = self.find([UInt8(ascii: "?"), UInt8(ascii: ">")], in: bytes, from: index + 2, to: count)
                else { return nil }
                index = end + 2
                continue
            }
            let gapEnd =
                memchr(base + index + 1, lt, count - index - 1).map {
                    base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
                } ?? count
            if gapEnd - index > limit {
                var equals = 0
                for byte in UnsafeBufferPointer(rebasing: bytes[index..<gapEnd]) where byte == UInt8(ascii: "=") {
                    equals += 1
                }
                if equals > limit, self.attributes(inTagAt: index, in: bytes) > limit {
                    return XMLRefusal(
                        .tooManyAttributes, "a start tag at byte \(index) has more than \(limit) attributes")
                }
            }
            index = gapEnd
        }
        return nil
    }

    /// `=` signs outside quotes from the `<` at `start` to the tag's closing `>`.
    private static func attributes(inTagAt start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var quote: UInt8 = 0
        var attributes = 0
        for byte in UnsafeBufferPointer(rebasing: bytes[(start + 1)...]) {
            if quote != 0 {
                if byte == quote { quote = 0 }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "=") {
                attributes += 1
            } else if byte == UInt8(ascii: ">") {
                break
            }
        }
        return attributes
    }

    // MARK: - Helpers

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func matches(_ text: StaticString, at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = text.utf8CodeUnitCount
        guard index + length <= bytes.count else { return false }
        return text.withUTF8Buffer { needle in
            for offset in 0..<length where bytes[index + offset] != needle[offset] { return false }
            return true
        }
    }

    /// The first index in `from..<to` where `needle` starts.
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard let first = needle.first, to - from >= needle.count else { return nil }
        var index = from
        let last = to - needle.count
        while index <= last {
            if bytes[index] == first {
                var offset = 1
                while offset < needle.count, bytes[index + offset] == needle[offset] { offset += 1 }
                if offset == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}

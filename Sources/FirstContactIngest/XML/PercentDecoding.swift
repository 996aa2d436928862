/// `%XX` decoding for FreeSWITCH variables and `application/x-www-form-urlencoded` bodies.
///
/// Lenient by design: a `%` not followed by two hex digits is kept as it is, because a
/// PBX value that happens to hold a bare `%` is data, not an attack, and rejecting a whole CDR
/// for it would lose the call.
package enum PercentDecoding {
    /// Decodes `%XX` once. `plusIsSpace` is for form bodies (`+` = space); FreeSWITCH variable
    /// values encode `+` as `%2B`, so there a `+` is kept.
    package static func decode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool = false) -> [UInt8] {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return Array(bytes)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), bytes.endIndex - index >= 3,
                let high = self.hexValue(bytes[index + 1]), let low = self.hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index += 1
        }
        return out
    }

    /// Decodes `%XX` once and reads the result as UTF-8 (invalid sequences become U+FFFD).
    package static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: self.decode(bytes), as: UTF8.self)
    }

    /// The raw (still encoded) value of the first field called `name` in a form body
    /// (`a=1&cdr=%3C...`), or nil when there is none.
    package static func formField(_ name: String, in body: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let key = Array(name.utf8)
        var rest = body
        while !rest.isEmpty {
            let end = rest.firstIndex(of: UInt8(ascii: "&")) ?? rest.endIndex
            let field = rest[..<end]
            if let equals = field.firstIndex(of: UInt8(ascii: "=")),
                self.decode(field[..<equals], plusIsSpace: true) == key
            {
                return field[(equals + 1)...]
            }
            rest = end < rest.endIndex ? rest[(end + 1)...] : []
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

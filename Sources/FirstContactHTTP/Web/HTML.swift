import FirstContactApp
import FirstContactCore
import Foundation

/// Server-side HTML for the web pages: one escaping function that every piece of data goes
/// through, and a few helpers that only ever emit escaped text.
package enum HTML {
    /// Escapes text for an HTML text node or a double-quoted attribute value: `& < > " '`.
    /// Everything else (Chinese names, emoji) passes unchanged; the pages are UTF-8.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Percent-encodes a query or path component (unreserved characters pass, the rest as UTF-8 bytes).
    package static func urlComponent(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }

    /// Decodes an `application/x-www-form-urlencoded` body or query (`+` is a space). Malformed
    /// percent escapes are kept literally rather than refused: the value is then checked by the action.
    package static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.formDecode(parts[0])
            let value = parts.count > 1 ? Self.formDecode(parts[1]) : ""
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// An `<option>`, selected when `value == current`; `data` marks a label from the configuration
    /// (a department's or agent's name) `translate="no"`.
    static func option(_ value: String, _ label: String, current: String?, data: Bool = false) -> String {
        "<option value=\"\(escape(value))\"\(value == (current ?? "") ? " selected" : "")\(data ? " translate=\"no\"" : "")>\(escape(label))</option>"
    }
}

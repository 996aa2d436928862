/// A customer's number as FirstContact compares it (SPEC "Customer number", FORMATS §7.2).
///
/// Callbacks are matched on this value; the raw text the PBX delivered is stored beside it.
package enum CustomerNumber: Hashable, Sendable {
    /// E.164, `+` and digits only: `+8613812345678`.
    case e164(String)
    /// Not normalisable, kept as delivered (trimmed): short numbers (`96116`), extensions,
    /// SIP user names with letters.
    case other(String)
    /// No caller ID (`anonymous`, `Restricted`, empty …): cannot get a callback timer.
    case withheld

    /// `+86…` for E.164, the raw text for `.other`, `withheld` for `.withheld`
    /// (the `customer` field of exports).
    package var text: String {
        switch self {
        case .e164(let number): return number
        case .other(let raw): return raw
        case .withheld: return "withheld"
        }
    }

    /// Rebuilds a number from its `text` (as stored or exported). `text` never yields
    /// `.other("withheld")`, so `CustomerNumber(text: n.text) == n` for every normalised `n`.
    package init(text: String) {
        if text == "withheld" || text.isEmpty {
            self = .withheld
        } else if text.first == "+", text.count >= 2, text.utf8.dropFirst().allSatisfy(NumberNormaliser.isDigit) {
            self = .e164(text)
        } else {
            self = .other(text)
        }
    }

    package var isWithheld: Bool { self == .withheld }

    /// The number for logs: E.164 keeps its first 3 and last 4 characters (`+86*******5678`),
    /// long `.other` values likewise; short ones (extensions, service numbers) are not personal
    /// and stay as they are.
    package var masked: String {
        switch self {
        case .withheld: return "withheld"
        case .e164(let text), .other(let text):
            let characters = Array(text)
            guard characters.count > 7 else { return text }
            return String(characters.prefix(3)) + String(repeating: "*", count: characters.count - 7)
                + String(characters.suffix(4))
        }
    }
}

/// Turns what a trunk delivered into a `CustomerNumber` with the configured country rules
/// (`country_code`, `national_prefix`, `outbound_prefix`).
///
/// Rules, in order:
/// 1. Trim white space. Empty text, `anonymous`, `restricted`, `unknown`, `private`,
///    `unavailable`, `withheld` (any case) or text without a digit → `.withheld`.
/// 2. Drop the separators `-`, space, `(`, `)`, `.`; in international spelling (`+`, `00`) the
///    trunk-prefix marker `(0)` (`+49 (0)30 123456`) is dropped with its digit.
/// 3. With `stripOutboundPrefix`, a number that starts with the outbound prefix and has more
///    than six digits after it loses the prefix.
/// 4. `+digits` → E.164; `00digits` → `+digits`.
/// 5. National prefix followed by at least six digits → `+<cc><rest>` (`01088886666` → `+861088886666`).
/// 6. Seven or more digits → `+<cc><digits>` (`13812345678` → `+8613812345678`), unless they
///    already start with the country code and are long enough to be international
///    (`8613812345678`, at least 11 digits after the code's length) → `+<digits>`.
/// 7. Everything else (six digits or fewer, letters) → `.other(trimmed raw)`.
///
/// Without a country code the national rules (5, 6) cannot apply and give `.other`.
package struct NumberNormaliser: Sendable, Hashable {
    package let countryCode: String
    package let nationalPrefix: String
    package let outboundPrefix: String

    /// - Parameters:
    ///   - countryCode: digits, e.g. `86` (a leading `+` is ignored).
    ///   - nationalPrefix: the trunk prefix of national numbers, e.g. `0`; empty for none.
    ///   - outboundPrefix: what agents dial before an outside number, e.g. `9`; empty for none.
    package init(countryCode: String, nationalPrefix: String, outboundPrefix: String = "") {
        self.countryCode = Self.digitsOnly(countryCode)
        self.nationalPrefix = Self.digitsOnly(nationalPrefix)
        self.outboundPrefix = Self.digitsOnly(outboundPrefix)
    }

    /// Words trunks put in the caller-id field when the number is hidden (compared lower-cased).
    package static let withheldWords: Set<String> = [
        "anonymous", "restricted", "unknown", "private", "unavailable", "withheld",
    ]

    /// - Parameters:
    ///   - raw: the number as the PBX recorded it.
    ///   - stripOutboundPrefix: true for numbers agents dialled (outbound legs), where the
    ///     outbound prefix may precede the number.
    package func normalise(_ raw: String, stripOutboundPrefix: Bool = false) -> CustomerNumber {
        let trimmed = Self.trim(raw)
        if trimmed.isEmpty || Self.withheldWords.contains(trimmed.lowercased())
            || !trimmed.utf8.contains(where: Self.isDigit)
        {
            return .withheld
        }

        var plus = false
        var cleaned = Self.removingSeparators(trimmed)
        if cleaned.first == UInt8(ascii: "+") {
            plus = true
            cleaned.removeFirst()
        }
        // Letters, `*`, `#`, a second `+`, `@` …: not a telephone number we can rewrite.
        guard !cleaned.isEmpty, cleaned.allSatisfy(Self.isDigit) else { return .other(trimmed) }
        var digits = String(decoding: cleaned, as: UTF8.self)

        if plus { return .e164("+" + digits) }

        if stripOutboundPrefix, !self.outboundPrefix.isEmpty, digits.hasPrefix(self.outboundPrefix),
            digits.utf8.count > self.outboundPrefix.utf8.count + 6
        {
            digits.removeFirst(self.outboundPrefix.count)
        }

        if digits.hasPrefix("00"), digits.utf8.count > 2 {
            return .e164("+" + digits.dropFirst(2))
        }
        guard !self.countryCode.isEmpty else { return .other(trimmed) }
        if !self.nationalPrefix.isEmpty, digits.hasPrefix(self.nationalPrefix),
            digits.utf8.count >= self.nationalPrefix.utf8.count + 6
        {
            return .e164("+" + self.countryCode + digits.dropFirst(self.nationalPrefix.count))
        }
        if digits.utf8.count >= 7 {
            if digits.hasPrefix(self.countryCode), digits.utf8.count >= 11 + self.countryCode.utf8.count {
                return .e164("+" + digits)
            }
            return .e164("+" + self.countryCode + digits)
        }
        return .other(trimmed)
    }

    /// The number for logs (see `CustomerNumber.masked`): `+86*******5678`.
    package func mask(_ number: CustomerNumber) -> String { number.masked }

    // MARK: - Helpers

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func digitsOnly(_ text: String) -> String {
        String(decoding: text.utf8.filter(Self.isDigit), as: UTF8.self)
    }

    private static func trim(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
            let last = text.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(text[first...last])
    }

    /// The bytes of `text` without `-`, space, `(`, `)`, `.`; in international spelling
    /// (leading `+` or `00`) the trunk-prefix marker `(0)` goes too.
    private static func removingSeparators(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        let international = bytes.first == UInt8(ascii: "+") || bytes.starts(with: [48, 48])
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "("), international, index + 2 < bytes.count,
                bytes[index + 1] == UInt8(ascii: "0"), bytes[index + 2] == UInt8(ascii: ")")
            {
                index += 3
                continue
            }
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: " "), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "."),
                UInt8(ascii: "\t"):
                break
            default:
                out.append(byte)
            }
            index += 1
        }
        return out
    }
}

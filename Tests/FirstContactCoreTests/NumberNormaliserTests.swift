import Testing

@testable import FirstContactCore

@Suite("Customer number normalisation")
struct NumberNormaliserTests {
    static let china = NumberNormaliser(countryCode: "86", nationalPrefix: "0")
    static let germany = NumberNormaliser(countryCode: "49", nationalPrefix: "0")

    @Test(
        "China (86, national prefix 0)",
        arguments: [
            // mobiles without any prefix
            ("13812345678", CustomerNumber.e164("+8613812345678")),
            (" 13812345678 ", .e164("+8613812345678")),
            ("138-1234-5678", .e164("+8613812345678")),
            ("138 1234 5678", .e164("+8613812345678")),
            ("138.1234.5678", .e164("+8613812345678")),
            // already international
            ("+8613812345678", .e164("+8613812345678")),
            ("+86 138 1234 5678", .e164("+8613812345678")),
            ("008613812345678", .e164("+8613812345678")),
            ("8613812345678", .e164("+8613812345678")),
            ("+14155550123", .e164("+14155550123")),
            ("0014155550123", .e164("+14155550123")),
            ("+44 (0)20 7946 0958", .e164("+442079460958")),
            // national with trunk prefix: area code + subscriber
            ("01088886666", .e164("+861088886666")),
            ("010-8888-6666", .e164("+861088886666")),
            ("(010) 8888 6666", .e164("+861088886666")),
            ("02112345678", .e164("+862112345678")),
            ("07551234567", .e164("+867551234567")),
            ("0123456", .e164("+86123456")),
            // seven or more digits without prefix: a local fixed-line number
            ("88886666", .e164("+8688886666")),
            ("8888666", .e164("+868888666")),
            // short numbers, extensions, service numbers: kept raw
            ("96116", .other("96116")),
            ("1001", .other("1001")),
            ("110", .other("110")),
            ("012345", .other("012345")),
            ("888666", .other("888666")),
            ("961-16", .other("961-16")),
            ("0", .other("0")),
            ("00", .other("00")),
            // SIP users and other non-numbers that carry digits
            ("alice01", .other("alice01")),
            (" user1001@pbx.example ", .other("user1001@pbx.example")),
            ("*97", .other("*97")),
            ("1001#", .other("1001#")),
            ("+86abc123", .other("+86abc123")),
            ("+", .withheld),
            // withheld
            ("", .withheld),
            ("   ", .withheld),
            ("anonymous", .withheld),
            ("Anonymous", .withheld),
            ("Restricted", .withheld),
            ("UNKNOWN", .withheld),
            ("private", .withheld),
            ("unavailable", .withheld),
            ("Withheld", .withheld),
            (" anonymous ", .withheld),
            ("alice", .withheld),
            ("-", .withheld),
        ]
    )
    func china(raw: String, expected: CustomerNumber) {
        #expect(Self.china.normalise(raw) == expected)
    }

    @Test(
        "Germany (49, national prefix 0)",
        arguments: [
            ("030123456", CustomerNumber.e164("+4930123456")),
            ("030 1234 5678", .e164("+493012345678")),
            ("0171 2345678", .e164("+491712345678")),
            ("+49 (0)30 123456", .e164("+4930123456")),
            ("0049 30 123456", .e164("+4930123456")),
            ("0049 (0)30 123456", .e164("+4930123456")),
            ("(030) 123456", .e164("+4930123456")),
            ("004930123456", .e164("+4930123456")),
            ("+4930123456", .e164("+4930123456")),
            ("491712345678901", .e164("+491712345678901")),
            ("1234567", .e164("+491234567")),
            ("112", .other("112")),
            ("Anonymous", .withheld),
        ]
    )
    func germany(raw: String, expected: CustomerNumber) {
        #expect(Self.germany.normalise(raw) == expected)
    }

    @Test(
        "the outbound prefix is dropped only when asked and only before a long enough number",
        arguments: [
            ("913812345678", true, CustomerNumber.e164("+8613812345678")),
            ("901088886666", true, .e164("+861088886666")),
            ("9008613812345678", true, .e164("+8613812345678")),
            ("9 138 1234 5678", true, .e164("+8613812345678")),
            ("91234567", true, .e164("+861234567")),  // 7 digits after the prefix
            ("9123456", true, .e164("+869123456")),  // only 6 after it: kept
            ("91001", true, .other("91001")),
            ("13812345678", true, .e164("+8613812345678")),
            ("913812345678", false, .e164("+86913812345678")),
        ]
    )
    func outboundPrefix(raw: String, strip: Bool, expected: CustomerNumber) {
        let normaliser = NumberNormaliser(countryCode: "86", nationalPrefix: "0", outboundPrefix: "9")
        #expect(normaliser.normalise(raw, stripOutboundPrefix: strip) == expected)
    }

    @Test("an empty outbound prefix strips nothing")
    func emptyOutboundPrefix() {
        #expect(Self.china.normalise("913812345678", stripOutboundPrefix: true) == .e164("+86913812345678"))
    }

    @Test("without a national prefix, only the digit-count rule applies")
    func noNationalPrefix() {
        let normaliser = NumberNormaliser(countryCode: "1", nationalPrefix: "")
        #expect(normaliser.normalise("4155550123") == .e164("+14155550123"))
        #expect(normaliser.normalise("0123456") == .e164("+10123456"))
        #expect(normaliser.normalise("411") == .other("411"))
    }

    @Test("North America: trunk prefix 1 before a ten-digit number")
    func northAmerica() {
        let normaliser = NumberNormaliser(countryCode: "1", nationalPrefix: "1")
        #expect(normaliser.normalise("1 (415) 555-0123") == .e164("+14155550123"))
        #expect(normaliser.normalise("415.555.0123") == .e164("+14155550123"))
        #expect(normaliser.normalise("+1 415 555 0123") == .e164("+14155550123"))
        #expect(normaliser.normalise("911") == .other("911"))
    }

    @Test("without a country code national numbers cannot be made E.164")
    func noCountryCode() {
        let normaliser = NumberNormaliser(countryCode: "", nationalPrefix: "0")
        #expect(normaliser.normalise("01088886666") == .other("01088886666"))
        #expect(normaliser.normalise("+8613812345678") == .e164("+8613812345678"))
        #expect(normaliser.normalise("008613812345678") == .e164("+8613812345678"))
    }

    @Test("a country code written with + is read as digits")
    func plusCountryCode() {
        let normaliser = NumberNormaliser(countryCode: "+86", nationalPrefix: "0")
        #expect(normaliser == Self.china)
        #expect(normaliser.normalise("13812345678") == .e164("+8613812345678"))
    }

    @Test(
        "text is the export form and reads back to the same number",
        arguments: [
            (CustomerNumber.e164("+8613812345678"), "+8613812345678"),
            (.other("96116"), "96116"),
            (.other("alice01"), "alice01"),
            (.withheld, "withheld"),
        ]
    )
    func text(number: CustomerNumber, text: String) {
        #expect(number.text == text)
        #expect(CustomerNumber(text: text) == number)
    }

    @Test("normalised numbers survive text → CustomerNumber(text:)")
    func textRoundTrip() {
        let raws = [
            "13812345678", "+44 20 7946 0958", "96116", "anonymous", "", "user1001@pbx", "+86abc1", "010-8888-6666",
        ]
        for raw in raws {
            let number = Self.china.normalise(raw)
            #expect(CustomerNumber(text: number.text) == number, "\(raw)")
        }
    }

    @Test(
        "masking keeps the first 3 and last 4 characters",
        arguments: [
            (CustomerNumber.e164("+8613812345678"), "+86*******5678"),
            (.e164("+861088886666"), "+86******6666"),
            (.e164("+4930123456"), "+49****3456"),
            (.other("96116"), "96116"),
            (.other("1001"), "1001"),
            (.other("user1001@pbx"), "use*****@pbx"),
            (.withheld, "withheld"),
        ]
    )
    func mask(number: CustomerNumber, masked: String) {
        #expect(Self.china.mask(number) == masked)
        #expect(number.masked == masked)
    }

    @Test("withheld numbers are recognisable")
    func withheld() {
        #expect(Self.china.normalise("anonymous").isWithheld)
        #expect(!Self.china.normalise("96116").isWithheld)
    }
}

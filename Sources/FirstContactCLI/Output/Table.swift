import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import Foundation

/// A plain text table for people: columns padded by display width (CJK characters are two
/// columns wide on a terminal, so 张敏 lines up with ASCII names).
struct Table {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) {
        self.headers = headers
    }

    mutating func add(_ row: [String]) { self.rows.append(row) }

    func render() -> String {
        var widths = self.headers.map(Self.width)
        for row in self.rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], Self.width(cell))
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - Self.width(cell))
            }.joined(separator: "  ")
        }
        var out = [line(self.headers), line(widths.map { String(repeating: "-", count: $0) })]
        out += self.rows.map(line)
        return out.joined(separator: "\n")
    }

    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            let v = scalar.value
            let wide =
                (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
            return total + (wide ? 2 : 1)
        }
    }
}

/// Times for people: local wall time in the configured zone, to the minute, written the way the
/// table's language writes dates.
struct LocalTimeFormatter {
    let zone: ZoneRules
    var localizer = Localizer(.english)

    func callAsFunction(_ time: Timestamp?) -> String {
        self.localizer.time(time, zone: self.zone)
    }
}

/// `--language en|zh-CN` of the commands that print tables for people. Without it the terminal's
/// `LC_ALL` / `LC_MESSAGES` / `LANG` decides, then `ui.language` in the configuration. JSON and
/// exports are machine contracts: always the same English whatever the language.
struct LanguageOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The language of tables and messages: en or zh-CN (default: LC_ALL, LC_MESSAGES or LANG, else ui.language).",
            valueName: "tag"))
    var language: Language?

    func localizer(_ engine: Engine) -> Localizer {
        Localizer(
            self.language ?? LanguageChoice.terminal(ProcessInfo.processInfo.environment)
                ?? engine.configuration.ui.language)
    }
}

extension Language: ExpressibleByArgument {}

extension Localizer {
    /// An obligation's kind as a table shows it: in English the name `--kind` takes, otherwise the term.
    func tableLabel(_ kind: ObligationKind) -> String {
        self.language == .english ? kind.rawValue : self.label(kind)
    }

    /// A department as a table shows it: in English the id `--department` takes, otherwise its name.
    func tableLabel(_ department: DepartmentID?, _ directory: Directory) -> String {
        guard let department else { return "-" }
        return self.language == .english
            ? department.rawValue : directory.department(department)?.name ?? department.rawValue
    }
}

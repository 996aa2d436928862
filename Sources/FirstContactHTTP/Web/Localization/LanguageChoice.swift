import FirstContactCore
import Foundation

/// Which language a reader gets: their own choice (the language switch on every page, kept in a
/// cookie), else what their browser asks for (`Accept-Language`) or their terminal is set to
/// (`LANG`), else the configuration's `ui.language`.
package enum LanguageChoice {
    /// The cookie the language switch sets (a preference, not a secret: it outlives sign-out so the
    /// sign-in page speaks the same language).
    package static let cookie = "fc_lang"

    package static func choose(chosen: String?, acceptLanguage: String?, configured: Language) -> Language {
        if let chosen, let language = Language(rawValue: chosen) { return language }
        if let acceptLanguage, let language = Self.preferred(acceptLanguage: acceptLanguage) { return language }
        return configured
    }

    /// The language a BCP 47 tag or POSIX locale names, if the catalogue has it: every Chinese
    /// (`zh`, `zh-CN`, `zh-Hans`, `zh_CN.UTF-8`, and the traditional ones, whose readers read
    /// simplified Chinese better than English) and every English.
    package static func language(tag: String) -> Language? {
        let primary = tag.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "." || $0 == "@" }).first
        switch primary.map({ $0.lowercased() }) {
        case "zh": return .chinese
        case "en": return .english
        default: return nil
        }
    }

    /// The supported language `Accept-Language` weighs highest (the first of equal weights); nil
    /// when it names none of them (`*` included: the configuration decides then).
    package static func preferred(acceptLanguage: String) -> Language? {
        var best: (language: Language, weight: Double)?
        for item in acceptLanguage.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first, let language = Self.language(tag: tag) else { continue }
            var weight = 1.0
            // A weight that is not a number counts as 0, which skips the tag: no browser sends one.
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            if weight > 0, weight > (best?.weight ?? 0) { best = (language, weight) }
        }
        return best?.language
    }

    /// The terminal's language: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is set and not
    /// empty decides (POSIX order); `C` and `POSIX` name no language.
    package static func terminal(_ environment: [String: String]) -> Language? {
        for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            guard let value = environment[name], !value.isEmpty else { continue }
            return Self.language(tag: value)
        }
        return nil
    }
}

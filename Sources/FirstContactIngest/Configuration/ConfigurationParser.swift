import FirstContactCore
import Yams

/// A YAML node with the dotted key path and position that name it in diagnostics.
struct ConfigNode {
    var node: Node
    /// `departments[1].callback_sla`; empty for the document.
    var path: String
    var line: Int
    var column: Int

    /// - Parameter fallback: where to point when the node carries no mark (nodes built in code).
    init(node: Node, path: String, fallback: (line: Int, column: Int)) {
        self.node = node
        self.path = path
        self.line = node.mark?.line ?? fallback.line
        self.column = node.mark?.column ?? fallback.column
    }

    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(
            node: node, path: self.path.isEmpty ? key : "\(self.path).\(key)", fallback: (self.line, self.column))
    }

    func element(_ index: Int, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: "\(self.path)[\(index)]", fallback: (self.line, self.column))
    }

    /// A plain `~`, `null` or nothing: YAML's way of writing "no value".
    var isNull: Bool {
        guard case .scalar(let scalar) = self.node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A scalar of digits only, as a number (`15`, not `15s` or `-1`).
    var wholeNumber: Int? {
        guard case .scalar(let scalar) = self.node, !scalar.string.isEmpty,
            scalar.string.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(scalar.string)
    }

    /// How the node looks, for "expected …, found …" messages.
    var shape: String {
        switch self.node {
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }
}

/// A value read from the file together with where it was written, kept for the cross-reference
/// and duplicate checks that can only run once every section has been read.
struct Located<Value> {
    var value: Value
    var line: Int
    var column: Int
    var path: String

    init(_ value: Value, at node: ConfigNode) {
        self.value = value
        self.line = node.line
        self.column = node.column
        self.path = node.path
    }

    private init(value: Value, line: Int, column: Int, path: String) {
        self.value = value
        self.line = line
        self.column = column
        self.path = path
    }

    /// The same position carrying another value (a parsed date in place of its text).
    func with<Other>(_ value: Other) -> Located<Other> {
        Located<Other>(value: value, line: self.line, column: self.column, path: self.path)
    }
}

/// The keys of one YAML mapping, read after its unknown keys have been reported.
struct ConfigFields {
    /// The mapping itself: where "missing key" problems are reported.
    var owner: ConfigNode
    fileprivate var values: [String: ConfigNode] = [:]
    fileprivate var keys: [String: Located<String>] = [:]

    /// The value under `key`; nil when the key is absent or explicitly null, which both mean
    /// "use the default" (an empty `head:` is as good as no head).
    subscript(key: String) -> ConfigNode? {
        guard let value = self.values[key], !value.isNull else { return nil }
        return value
    }

    /// Where `key` itself was written, when it was.
    func keyNode(_ key: String) -> Located<String>? { self.keys[key] }
}

/// Walks the YAML tree and collects every problem instead of stopping at the first: an admin
/// fixing a file wants the whole list in one `check-config` run.
///
/// The walk descends only into keys the schema knows and stops at a node of the wrong shape,
/// so its cost is bounded by the schema, not by what aliases could expand to.
struct ConfigurationParser {
    let file: String
    private(set) var diagnostics: [ConfigurationDiagnostic] = []
    /// Zones resolved so far in this load (calendars usually share the top-level zone).
    private var zones: [String: ZoneRules?] = [:]

    init(file: String) {
        self.file = file
    }

    // MARK: Reporting

    mutating func report(line: Int, column: Int, key: String, _ message: String) {
        self.diagnostics.append(
            ConfigurationDiagnostic(file: self.file, line: line, column: column, key: key, message: message)
        )
    }

    mutating func report(_ node: ConfigNode, _ message: String) {
        self.report(line: node.line, column: node.column, key: node.path, message)
    }

    mutating func report<Value>(_ located: Located<Value>, _ message: String) {
        self.report(line: located.line, column: located.column, key: located.path, message)
    }

    /// Diagnostics in file order; problems found by late cross-checks land next to their line.
    var sortedDiagnostics: [ConfigurationDiagnostic] {
        self.diagnostics.enumerated()
            .sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            .map(\.element)
    }

    // MARK: Shapes

    /// Reads a mapping whose keys the schema fixes, reporting unknown keys with a suggestion.
    mutating func fields(_ node: ConfigNode, allowed: [String]) -> ConfigFields? {
        guard let pairs = self.pairs(node) else { return nil }
        var fields = ConfigFields(owner: node)
        for (key, value) in pairs {
            guard let allowedKey = allowed.first(where: { $0 == key.value }) else {
                let hint = Suggestion.closest(to: key.value, in: allowed).map { " (did you mean `\($0)`?)" } ?? ""
                self.report(key, "unknown key `\(key.value)`\(hint)")
                continue
            }
            fields.values[allowedKey] = value
            fields.keys[allowedKey] = key
        }
        return fields
    }

    /// Reads a mapping whose keys are names chosen by the admin (calendars, IVR digits).
    ///
    /// YAML merge keys (`<<: *defaults`) are applied here, so anchors work as admins expect.
    mutating func pairs(_ node: ConfigNode) -> [(key: Located<String>, value: ConfigNode)]? {
        guard case .mapping(let mapping) = node.node else {
            self.report(node, "expected a mapping of keys, found \(node.shape)")
            return nil
        }
        var result: [(key: Located<String>, value: ConfigNode)] = []
        var merged: [(key: Located<String>, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                let at = ConfigNode(node: keyNode, path: node.path, fallback: (node.line, node.column))
                self.report(at, "keys must be plain names, found \(at.shape)")
                continue
            }
            let keyText = scalar.string
            let keyAt = ConfigNode(node: keyNode, path: node.path, fallback: (node.line, node.column))
            if keyText == "<<", scalar.style == .plain {
                merged += self.mergeSources(node.child("<<", valueNode), into: node)
                continue
            }
            let child = node.child(keyText, valueNode)
            var key = Located(keyText, at: keyAt)
            key.path = child.path
            result.append((key, child))
        }
        // Keys written in the mapping win over merged ones (YAML merge-key semantics).
        for entry in merged where !result.contains(where: { $0.key.value == entry.key.value }) {
            result.append(entry)
        }
        return result
    }

    private mutating func mergeSources(_ value: ConfigNode, into owner: ConfigNode) -> [(
        key: Located<String>, value: ConfigNode
    )] {
        let sources: [ConfigNode]
        switch value.node {
        case .mapping: sources = [value]
        case .sequence(let sequence): sources = sequence.enumerated().map { value.element($0.offset, $0.element) }
        default:
            self.report(value, "`<<` merges a mapping or a list of mappings, found \(value.shape)")
            return []
        }
        var result: [(key: Located<String>, value: ConfigNode)] = []
        for source in sources {
            guard case .mapping(let mapping) = source.node else {
                self.report(source, "`<<` merges a mapping or a list of mappings, found \(source.shape)")
                continue
            }
            let rebased = ConfigNode(node: .mapping(mapping), path: owner.path, fallback: (source.line, source.column))
            for entry in self.pairs(rebased) ?? [] where !result.contains(where: { $0.key.value == entry.key.value }) {
                result.append(entry)
            }
        }
        return result
    }

    /// The elements of a list.
    mutating func list(_ node: ConfigNode) -> [ConfigNode]? {
        guard case .sequence(let sequence) = node.node else {
            self.report(node, "expected a list (e.g. [a, b]), found \(node.shape)")
            return nil
        }
        return sequence.enumerated().map { node.element($0.offset, $0.element) }
    }

    /// A single value as text; numbers keep the digits as written (`1001`, `086`).
    mutating func text(_ node: ConfigNode) -> Located<String>? {
        guard case .scalar(let scalar) = node.node else {
            self.report(node, "expected a single value, found \(node.shape)")
            return nil
        }
        if node.isNull {
            self.report(node, "needs a value")
            return nil
        }
        return Located(scalar.string, at: node)
    }

    /// A value that may not be empty and is used as an identifier (URLs, exports, log keys).
    mutating func identifier(_ node: ConfigNode) -> Located<String>? {
        guard let value = self.text(node) else { return nil }
        if value.value.isEmpty || value.value.contains(where: { $0.isWhitespace || $0 == "/" }) {
            self.report(node, "\"\(value.value)\" is not a usable id (no spaces or `/`, not empty)")
            return nil
        }
        return value
    }

    /// A list of single values; bad elements are reported and left out.
    mutating func textList(_ node: ConfigNode, nonEmptyElements: Bool = true) -> [Located<String>]? {
        guard let elements = self.list(node) else { return nil }
        var result: [Located<String>] = []
        for element in elements {
            guard let value = self.text(element) else { continue }
            if nonEmptyElements, value.value.isEmpty {
                self.report(element, "must not be empty")
                continue
            }
            result.append(value)
        }
        return result
    }

    /// A required key; reports it when absent or empty.
    mutating func required(_ fields: ConfigFields, _ key: String) -> ConfigNode? {
        if let value = fields[key] { return value }
        if let keyNode = fields.keyNode(key) {
            self.report(keyNode, "needs a value")
        } else {
            self.report(fields.owner, "missing required key `\(key)`")
        }
        return nil
    }

    // MARK: Scalars

    /// `90s`, `30m`, `2h`, `1d`, in seconds.
    mutating func duration(_ node: ConfigNode, allowZero: Bool = false) -> Int64? {
        guard let text = self.text(node) else { return nil }
        guard let seconds = DurationSpec.seconds(from: text.value) else {
            self.report(node, "\"\(text.value)\" is not a duration (use 90s, 30m, 2h, 1d)")
            return nil
        }
        if seconds == 0, !allowZero {
            self.report(node, "\"\(text.value)\" must be longer than zero")
            return nil
        }
        return seconds
    }

    /// `true`/`false` (also YAML 1.1's `yes`/`no`/`on`/`off`, as Asterisk's own files write them).
    mutating func bool(_ node: ConfigNode) -> Bool? {
        guard let text = self.text(node) else { return nil }
        switch text.value.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            self.report(node, "\"\(text.value)\" is not true or false")
            return nil
        }
    }

    /// A whole number inside `range`.
    mutating func integer(_ node: ConfigNode, in range: ClosedRange<Int>) -> Int? {
        guard let text = self.text(node) else { return nil }
        guard let value = Int(text.value) else {
            self.report(node, "\"\(text.value)\" is not a whole number")
            return nil
        }
        guard range.contains(value) else {
            self.report(node, "\(value) is out of range (\(range.lowerBound)–\(range.upperBound))")
            return nil
        }
        return value
    }

    /// One of an enum's raw values.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ node: ConfigNode, _ type: Choice.Type, what: String)
        -> Choice?
    where Choice.RawValue == String {
        guard let text = self.text(node) else { return nil }
        if let value = Choice(rawValue: text.value) { return value }
        let known = Choice.allCases.map(\.rawValue)
        let hint =
            Suggestion.closest(to: text.value, in: known).map { "did you mean \"\($0)\"?" }
            ?? "use \(known.joined(separator: ", "))"
        self.report(node, "\"\(text.value)\" is not \(what) (\(hint))")
        return nil
    }

    /// Digits only (country code, dialling prefixes).
    mutating func digits(_ node: ConfigNode, lengths: ClosedRange<Int>) -> String? {
        guard let text = self.text(node) else { return nil }
        guard text.value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            lengths.contains(text.value.utf8.count)
        else {
            let size =
                lengths.lowerBound == lengths.upperBound
                ? "\(lengths.lowerBound)" : "\(lengths.lowerBound)–\(lengths.upperBound)"
            self.report(node, "\"\(text.value)\" must be \(size) digits (no `+` or spaces)")
            return nil
        }
        return text.value
    }

    // MARK: Zones and references

    /// An IANA zone, resolved once per load.
    mutating func zone(_ node: ConfigNode) -> ZoneRules? {
        guard let name = self.text(node) else { return nil }
        let rules: ZoneRules?
        if let known = self.zones[name.value] {
            rules = known
        } else {
            rules = ZoneRulesBuilder.rules(for: name.value)
            self.zones[name.value] = rules
        }
        guard let rules else {
            self.report(
                node, "\"\(name.value)\" is not a known IANA time zone (e.g. Asia/Shanghai, Europe/Berlin, UTC)")
            return nil
        }
        return rules
    }

    /// Checks that `reference` names one of `known`; reports it with a suggestion otherwise.
    @discardableResult
    mutating func checkReference(_ reference: Located<String>, kind: String, known: [String]) -> Bool {
        if known.contains(reference.value) { return true }
        let hint: String
        if let close = Suggestion.closest(to: reference.value, in: known) {
            hint = " (did you mean \"\(close)\"?)"
        } else if known.isEmpty {
            hint = " (none is defined)"
        } else if known.count <= 12 {
            hint = " (known: \(known.sorted().joined(separator: ", ")))"
        } else {
            hint = ""
        }
        self.report(reference, "unknown \(kind) \"\(reference.value)\"\(hint)")
        return false
    }
}

/// "Did you mean" for misspelt keys and references.
enum Suggestion {
    /// The candidate closest to `word` when it is at most two edits away (and not a wholesale
    /// replacement of a very short word, which would suggest nonsense).
    static func closest(to word: String, in candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        let letters = Array(word.lowercased())
        for candidate in candidates {
            let distance = self.distance(letters, Array(candidate.lowercased()))
            guard distance <= 2, distance < letters.count else { continue }
            if best.map({ distance < $0.distance }) ?? true { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Optimal string alignment distance: Levenshtein plus adjacent transpositions (`mon`/`mno`).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

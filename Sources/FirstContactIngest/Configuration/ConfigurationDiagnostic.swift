/// One problem found in a configuration file, pointing at the line and key that caused it.
///
/// Reads like a compiler message so editors and terminals can jump to it:
/// `firstcontact.yaml:12:5: departments[1].callback_sla: "30x" is not a duration (use 90s, 30m, 2h, 1d)`.
package struct ConfigurationDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file as it was named to the loader (a path, or a label for in-memory YAML).
    package var file: String
    /// 1-based line; 0 when the problem concerns the whole file (it could not be read).
    package var line: Int
    /// 1-based column, counted in Unicode scalars as libyaml does; 0 with `line` 0.
    package var column: Int
    /// Dotted path of the offending key, list indices 0-based (`departments[1].callback_sla`);
    /// empty for problems of the document itself (YAML syntax).
    package var key: String
    /// What is wrong and, where it helps, how to write it instead.
    package var message: String

    /// - Parameters:
    ///   - file: the file name shown at the start of the description.
    ///   - line: 1-based line, 0 for the whole file.
    ///   - column: 1-based column, 0 for the whole file.
    ///   - key: dotted path of the key, empty for the document.
    ///   - message: the explanation.
    package init(file: String, line: Int, column: Int, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    package var description: String {
        // Omit the parts that do not apply rather than printing `:0:0:` or `: :`.
        var text = self.file
        if self.line > 0 { text += ":\(self.line):\(self.column)" }
        text += ": "
        if !self.key.isEmpty { text += "\(self.key): " }
        return text + self.message
    }
}

/// A configuration that cannot be used, with every problem found in it (not just the first),
/// in file order.
package struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    package var diagnostics: [ConfigurationDiagnostic]
    package var file: String

    /// - Parameters:
    ///   - diagnostics: the problems, in the order they should be shown.
    ///   - file: the file they were found in.
    package init(diagnostics: [ConfigurationDiagnostic], file: String) {
        self.diagnostics = diagnostics
        self.file = file
    }

    /// One diagnostic per line, then a count, like a compiler's output.
    package var description: String {
        let count = self.diagnostics.count
        let summary = "\(self.file): \(count) configuration \(count == 1 ? "error" : "errors")"
        return (self.diagnostics.map(\.description) + [summary]).joined(separator: "\n")
    }
}

internal import CLibXML2

/// One attribute of a start tag. `&`, `<`, character references are already resolved.
package struct XMLAttribute: Hashable, Sendable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Receives one document's elements in document order from ``XMLReader/read(_:limits:into:)``.
///
/// A class, because libxml2 calls back through a C pointer; make one per document.
package protocol XMLContentHandler: AnyObject {
    /// An element opened. `depth` is 1 for the root. `name` is `prefix:local` when prefixed.
    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int)
    /// An element closed. `text` is the character data (CDATA included) since the last tag
    /// inside it: a leaf element's whole content, or the trailing blank of a container.
    func endElement(_ name: String, text: [UInt8], depth: Int)
}

/// The only door to libxml2: parses one in-memory document with the SAX2 streaming interface
/// (no tree is built) and refuses hostile input cheaply, with a precise reason.
///
/// What is refused, and how:
/// * bigger than ``XMLLimits/maxDocumentBytes``: before parsing;
/// * UTF-16/32 or a non-UTF-8 `encoding=`, start tags with too many attributes: by
///   ``XMLPrescan`` before libxml2 sees the bytes;
/// * any `<!DOCTYPE`: at the DOCTYPE itself, before its internal subset is read. The SAX
///   handler has no entity callbacks, so no entity is ever declared, let alone expanded or
///   fetched (billion laughs, quadratic blow-up and external entities all die here);
///   `XML_PARSE_NOENT`, `XML_PARSE_DTDLOAD`, `XML_PARSE_DTDATTR` and `XML_PARSE_DTDVALID` are
///   never set, `XML_PARSE_NONET` is, and the process-wide external entity loader refuses
///   every URL (belt and braces: nothing here asks it for one);
/// * nesting deeper than ``XMLLimits/maxDepth``, text nodes or attribute values over
///   ``XMLLimits/maxTextBytes``, more than ``XMLLimits/maxNamespaces`` namespace
///   declarations: as soon as the parser reports them, and parsing stops;
/// * invalid UTF-8, truncation, anything not well-formed: from libxml2's own error, which is
///   captured into the reason (libxml2 never writes to stderr).
package enum XMLReader {
    /// Parses `document` and reports its elements to `handler`.
    /// - Throws: ``XMLRefusal`` for anything refused; the handler may have seen a prefix of the
    ///   document by then and must discard what it collected.
    package static func read(
        _ document: [UInt8], limits: XMLLimits, into handler: some XMLContentHandler
    ) throws(XMLRefusal) {
        guard document.count <= limits.maxDocumentBytes else {
            throw XMLRefusal(
                .documentTooLarge,
                "document is \(document.count) bytes, over the \(limits.maxDocumentBytes)-byte limit"
            )
        }
        guard !document.isEmpty else { throw XMLRefusal(.notXML, "not XML: the document is empty") }
        // Evaluated once per process (a `static let` is initialised exactly once, thread-safely).
        _ = LibXML2.setUp
        let outcome: XMLRefusal? = document.withUnsafeBufferPointer { bytes in
            if let refusal = XMLPrescan.check(bytes, limits: limits) { return refusal }
            return self.parse(bytes, limits: limits, handler: handler)
        }
        if let outcome { throw outcome }
    }

    /// Options for every parse: no network, no error printing; never NOENT/DTDLOAD/DTDATTR/
    /// DTDVALID/XINCLUDE/HUGE (HUGE would lift libxml2's own depth and length safety limits).
    private static let options = Int32(
        XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, limits: XMLLimits, handler: any XMLContentHandler
    ) -> XMLRefusal? {
        let state = ParseState(handler: handler, limits: limits, document: bytes)
        var sax = Self.handler()
        return withExtendedLifetime(state) { () -> XMLRefusal? in
            let userData = Unmanaged.passUnretained(state).toOpaque()
            // No initial chunk: no callback can run before `state.context` is set.
            guard let context = xmlCreatePushParserCtxt(&sax, userData, nil, 0, nil) else {
                return XMLRefusal(.malformed, "libxml2 could not create a parser (out of memory)")
            }
            defer { xmlFreeParserCtxt(context) }
            state.context = context
            _ = xmlCtxtUseOptions(context, Self.options)
            guard let base = bytes.baseAddress else { return XMLRefusal(.notXML, "not XML: the document is empty") }
            // One chunk with `terminate`: the document is already in memory and bounded.
            _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { chars in
                xmlParseChunk(context, chars, Int32(bytes.count), 1)
            }
            if let refusal = state.refusal { return refusal }
            if context.pointee.wellFormed == 0 || state.fatal != nil {
                return state.failure()
            }
            if !state.sawRoot {
                return XMLRefusal(.notXML, "not XML: no root element")
            }
            return nil
        }
    }

    /// The SAX2 callbacks: elements, text, CDATA, the DOCTYPE tripwires and the error sink.
    /// Everything else (entity declarations, entity lookup, comments, PIs) is left out on
    /// purpose: a missing `entityDecl`/`getEntity` means no entity can ever exist.
    private static func handler() -> xmlSAXHandler {
        var sax = xmlSAXHandler()
        sax.initialized = UInt32(XML_SAX2_MAGIC)
        sax.startElementNs = { userData, localName, prefix, _, namespaceCount, _, attributeCount, _, attributes in
            ParseState.with(userData) { $0.startElement(localName, prefix, namespaceCount, attributeCount, attributes) }
        }
        sax.endElementNs = { userData, _, _, _ in
            ParseState.with(userData) { $0.endElement() }
        }
        sax.characters = { userData, characters, length in
            ParseState.with(userData) { $0.characters(characters, length) }
        }
        // Same as characters: whitespace is only "ignorable" with a DTD, which is never read.
        sax.ignorableWhitespace = sax.characters
        sax.cdataBlock = { userData, characters, length in
            ParseState.with(userData) { $0.characters(characters, length) }
        }
        sax.internalSubset = { userData, name, externalID, systemID in
            ParseState.with(userData) { $0.doctype(name: name, externalID: externalID, systemID: systemID) }
        }
        sax.externalSubset = { userData, name, externalID, systemID in
            ParseState.with(userData) { $0.doctype(name: name, externalID: externalID, systemID: systemID) }
        }
        // Never reached without a DTD; if it were, refusing the lookup keeps the entity unread.
        sax.resolveEntity = { userData, publicID, systemID in
            ParseState.with(userData) { $0.externalEntity(publicID: publicID, systemID: systemID) }
            return nil
        }
        sax.serror = { userData, error in
            ParseState.with(userData) { $0.error(error) }
        }
        return sax
    }
}

/// Process-wide libxml2 set-up, run once.
private enum LibXML2 {
    /// `xmlInitParser` (thread-safe initialisation of libxml2's globals) and the refusing
    /// external entity loader. Both are write-once: nothing changes them afterwards.
    static let setUp: Void = {
        xmlInitParser()
        xmlSetExternalEntityLoader { _, _, _ in nil }
    }()
}

/// The state of one parse, reached from libxml2's callbacks through `userData`.
///
/// Lives exactly as long as ``XMLReader/read(_:limits:into:)`` and is used only by the thread
/// running it (libxml2 calls back synchronously from `xmlParseChunk`), so it needs no locking.
///
/// The mutable properties are `@exclusivity(unchecked)`: dynamic exclusivity checks cost about
/// 12 % of a parse (three per callback, a thousand callbacks per CDR). Safe because every access
/// is a read or a mutation that completes inside one callback, callbacks never nest (libxml2
/// calls them one after another from `xmlParseChunk`), and no `inout` access to a property is
/// held across a call out of this class (the handler receives copies).
private final class ParseState {
    let handler: any XMLContentHandler
    let limits: XMLLimits
    let document: UnsafeBufferPointer<UInt8>
    @exclusivity(unchecked) var context: xmlParserCtxtPtr?
    /// Our own refusal (limits, DOCTYPE); wins over whatever libxml2 reports after the stop.
    @exclusivity(unchecked) var refusal: XMLRefusal?
    /// The first fatal error and the first error of any kind libxml2 reported.
    @exclusivity(unchecked) var fatal: CapturedError?
    @exclusivity(unchecked) var firstError: CapturedError?
    @exclusivity(unchecked) var names: [String] = []
    @exclusivity(unchecked) var text: [UInt8] = []
    @exclusivity(unchecked) var sawRoot = false
    /// Namespace declarations seen so far in the document.
    @exclusivity(unchecked) var namespaces = 0

    struct CapturedError {
        var code: Int32
        var message: String
        var line: Int32
        var column: Int32
    }

    init(handler: any XMLContentHandler, limits: XMLLimits, document: UnsafeBufferPointer<UInt8>) {
        self.handler = handler
        self.limits = limits
        self.document = document
        self.names.reserveCapacity(16)
        self.text.reserveCapacity(256)
    }

    /// Runs `body` with the state behind `userData`, unless the parse was already refused
    /// (after a stop libxml2 may still deliver a callback or two from the same chunk).
    ///
    /// `_withUnsafeGuaranteedRef` skips a retain/release pair per callback (a document makes
    /// about a thousand callbacks); it is safe because `XMLReader.parse` keeps the state alive
    /// (`withExtendedLifetime`) for as long as libxml2 can call back.
    static func with(_ userData: UnsafeMutableRawPointer?, _ body: (ParseState) -> Void) {
        guard let userData else { return }
        Unmanaged<ParseState>.fromOpaque(userData)._withUnsafeGuaranteedRef { state in
            if state.refusal == nil { body(state) }
        }
    }

    /// The current line, for reasons.
    var line: Int32 { self.context.map { xmlSAX2GetLineNumber(UnsafeMutableRawPointer($0)) } ?? 0 }

    func stop(_ refusal: XMLRefusal) {
        guard self.refusal == nil else { return }
        self.refusal = refusal
        if let context = self.context { xmlStopParser(context) }
    }

    // MARK: Callbacks

    func startElement(
        _ localName: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?, _ namespaceCount: Int32,
        _ attributeCount: Int32, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        guard let localName else { return }
        var name = String(cString: localName)
        if let prefix { name = String(cString: prefix) + ":" + name }
        self.namespaces += Int(namespaceCount)
        guard self.namespaces <= self.limits.maxNamespaces else {
            // Declarations come before the elements that would make lookups expensive.
            self.stop(
                XMLRefusal(
                    .tooManyNamespaces,
                    "more than \(self.limits.maxNamespaces) namespace declarations, at <\(Self.shown(name))>"
                        + " (line \(self.line))"
                )
            )
            return
        }
        let depth = self.names.count + 1
        guard depth <= self.limits.maxDepth else {
            self.stop(
                XMLRefusal(
                    .tooDeep,
                    "nesting deeper than \(self.limits.maxDepth) elements at <\(Self.shown(name))> (line \(self.line))"
                )
            )
            return
        }
        guard Int(attributeCount) <= self.limits.maxAttributes else {
            self.stop(
                XMLRefusal(
                    .tooManyAttributes,
                    "<\(Self.shown(name))> has \(attributeCount) attributes, more than \(self.limits.maxAttributes)"
                        + " (line \(self.line))"
                )
            )
            return
        }
        var list: [XMLAttribute] = []
        if attributeCount > 0, let attributes {
            list.reserveCapacity(Int(attributeCount))
            for index in 0..<Int(attributeCount) {
                // Five pointers per attribute: localname, prefix, URI, value start, value end.
                let base = index * 5
                guard let attributeName = attributes[base], let start = attributes[base + 3],
                    let end = attributes[base + 4]
                else { continue }
                let length = end - start
                guard length <= self.limits.maxTextBytes else {
                    self.stop(
                        XMLRefusal(
                            .textTooLarge,
                            "an attribute of <\(Self.shown(name))> is \(length) bytes, over the"
                                + " \(self.limits.maxTextBytes)-byte limit (line \(self.line))"
                        )
                    )
                    return
                }
                var attribute = String(cString: attributeName)
                if let attributePrefix = attributes[base + 1] {
                    attribute = String(cString: attributePrefix) + ":" + attribute
                }
                let value = Self.attributeValue(UnsafeBufferPointer(start: start, count: max(0, length)))
                list.append(XMLAttribute(name: attribute, value: value))
            }
        }
        self.sawRoot = true
        self.names.append(name)
        self.text.removeAll(keepingCapacity: true)
        self.handler.startElement(name, attributes: list, depth: depth)
    }

    func endElement() {
        guard let name = self.names.popLast() else { return }
        self.handler.endElement(name, text: self.text, depth: self.names.count + 1)
        self.text.removeAll(keepingCapacity: true)
    }

    func characters(_ characters: UnsafePointer<xmlChar>?, _ length: Int32) {
        guard let characters, length > 0 else { return }
        guard self.text.count + Int(length) <= self.limits.maxTextBytes else {
            let element = self.names.last.map { "<\(Self.shown($0))>" } ?? "the prolog"
            self.stop(
                XMLRefusal(
                    .textTooLarge,
                    "text in \(element) is longer than the \(self.limits.maxTextBytes)-byte limit (line \(self.line))"
                )
            )
            return
        }
        self.text.append(contentsOf: UnsafeBufferPointer(start: characters, count: Int(length)))
    }

    func doctype(
        name: UnsafePointer<xmlChar>?, externalID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?
    ) {
        let root = name.map { String(cString: $0) } ?? ""
        var parts: [String] = []
        if let externalID { parts.append("PUBLIC \"\(Self.shown(String(cString: externalID)))\"") }
        if let systemID { parts.append("SYSTEM \"\(Self.shown(String(cString: systemID)))\"") }
        var detail = parts.isEmpty ? "" : " with an external DTD (\(parts.joined(separator: " ")))"
        if let subset = DoctypeSummary(document: self.document) {
            detail += parts.isEmpty ? " with an internal subset" : " and an internal subset"
            if subset.entities > 0 {
                detail += " declaring \(subset.entities) entit\(subset.entities == 1 ? "y" : "ies")"
                if subset.externalEntities > 0 {
                    detail += ", \(subset.externalEntities) of them external (SYSTEM/PUBLIC)"
                }
            }
        }
        self.stop(
            XMLRefusal(
                .doctype,
                "DOCTYPE <!DOCTYPE \(Self.shown(root))>\(detail) refused: DTDs are never loaded and entities never"
                    + " declared, expanded or fetched (line \(self.line))"
            )
        )
    }

    func externalEntity(publicID: UnsafePointer<xmlChar>?, systemID: UnsafePointer<xmlChar>?) {
        let id = systemID.map { String(cString: $0) } ?? publicID.map { String(cString: $0) } ?? ""
        self.stop(XMLRefusal(.doctype, "external entity \"\(Self.shown(id))\" refused: entities are never fetched"))
    }

    func error(_ error: xmlErrorPtr?) {
        guard let error else { return }
        let level = error.pointee.level
        guard level == XML_ERR_ERROR || level == XML_ERR_FATAL else { return }
        let raw = error.pointee.message.map { String(cString: $0) } ?? "error \(error.pointee.code)"
        let message = raw.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            .trimmingBlanks()
        let captured = CapturedError(
            code: error.pointee.code, message: message, line: error.pointee.line, column: error.pointee.int2)
        if self.firstError == nil { self.firstError = captured }
        if level == XML_ERR_FATAL, self.fatal == nil { self.fatal = captured }
    }

    /// The refusal for a document libxml2 found not well-formed.
    func failure() -> XMLRefusal {
        guard let error = self.fatal ?? self.firstError else {
            return XMLRefusal(.malformed, "not well-formed XML")
        }
        let at = "line \(error.line), column \(error.column)"
        let message = Self.shown(error.message, limit: 160)
        switch Int(error.code) {
        case Int(XML_ERR_INVALID_CHAR.rawValue) where error.message.contains("UTF-8"),
            Int(XML_ERR_INVALID_ENCODING.rawValue):
            return XMLRefusal(.encoding, "not UTF-8: \(message) (\(at))")
        case Int(XML_ERR_DOCUMENT_EMPTY.rawValue), Int(XML_ERR_DOCUMENT_START.rawValue):
            // libxml2 says "Document is empty" for text where the first element should be.
            return XMLRefusal(.notXML, "not XML: no element where the document should start (\(at))")
        default:
            break
        }
        // libxml2 reports input that runs out as "Extra content at the end of the document"
        // (XML_ERR_DOCUMENT_END), which misleads; say what happened instead.
        let endOfInput = Int(error.code) == Int(XML_ERR_DOCUMENT_END.rawValue)
        if !self.names.isEmpty, self.isAtEnd(error) {
            var open = self.names.suffix(4).map { "<\(Self.shown($0))>" }.joined(separator: " ")
            if self.names.count > 4 { open = "… " + open }
            let detail = endOfInput ? "line \(error.line)" : "\(message), \(at)"
            return XMLRefusal(.truncated, "truncated: the document ends inside \(open) (\(detail))")
        }
        if !self.sawRoot {
            let detail = endOfInput ? "no root element" : "no root element (\(message), \(at))"
            return XMLRefusal(.notXML, "not XML: \(detail)")
        }
        return XMLRefusal(.malformed, "not well-formed XML: \(message) (\(at))")
    }

    /// Whether libxml2 gave up because the input ran out: a tag left unfinished, the end reached
    /// with elements still open, or the parser standing at the end of its input.
    private func isAtEnd(_ error: CapturedError) -> Bool {
        switch Int(error.code) {
        case Int(XML_ERR_TAG_NOT_FINISHED.rawValue), Int(XML_ERR_DOCUMENT_END.rawValue):
            return true
        default:
            break
        }
        guard let context = self.context, let input = context.pointee.input, let cur = input.pointee.cur,
            let end = input.pointee.end
        else { return false }
        return cur >= end
    }

    // MARK: Helpers

    /// `&#38;`, which libxml2's SAX2 leaves in attribute values for the tree builder to undo
    /// (a raw `&` cannot occur, so every `&#38;` stands for one `&`).
    static func attributeValue(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        let escape = Array("&#38;".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "&"), index + escape.count <= bytes.count,
                bytes[index..<(index + escape.count)].elementsEqual(escape)
            {
                out.append(UInt8(ascii: "&"))
                index += escape.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A name or value cut short for a reason line.
    static func shown(_ text: String, limit: Int = 60) -> String {
        text.count > limit ? "\(text.prefix(limit))…" : text
    }
}

/// What a DOCTYPE's internal subset declares, read from the raw bytes for the refusal reason.
/// Only counts `<!ENTITY` markers between `<!DOCTYPE` and the end of the subset; never
/// interprets them.
private struct DoctypeSummary {
    var entities = 0
    var externalEntities = 0

    /// nil when the document has no `[` internal subset after its `<!DOCTYPE`.
    init?(document: UnsafeBufferPointer<UInt8>) {
        guard let start = Self.find("<!DOCTYPE", in: document, from: 0) else { return nil }
        // The subset opens with `[` before the DOCTYPE's first `>` outside quotes.
        var index = start + 9
        var quote: UInt8 = 0
        var opened = false
        while index < document.count {
            let byte = document[index]
            if quote != 0 {
                if byte == quote { quote = 0 }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                opened = true
                break
            } else if byte == UInt8(ascii: ">") {
                break
            }
            index += 1
        }
        guard opened else { return nil }
        let subsetEnd = Self.find("]>", in: document, from: index) ?? document.count
        var cursor = index
        while let entity = Self.find("<!ENTITY", in: document, from: cursor), entity < subsetEnd {
            self.entities += 1
            let declarationEnd = min(Self.find(">", in: document, from: entity) ?? subsetEnd, subsetEnd)
            let declaration = UnsafeBufferPointer(rebasing: document[entity..<declarationEnd])
            let external =
                Self.find("SYSTEM", in: declaration, from: 0) ?? Self.find("PUBLIC", in: declaration, from: 0)
            if external != nil {
                self.externalEntities += 1
            }
            cursor = entity + 8
        }
    }

    private static func find(_ needle: StaticString, in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        needle.withUTF8Buffer { pattern -> Int? in
            guard let first = pattern.first, bytes.count >= pattern.count else { return nil }
            var index = from
            while index <= bytes.count - pattern.count {
                if bytes[index] == first, bytes[index..<(index + pattern.count)].elementsEqual(pattern) { return index }
                index += 1
            }
            return nil
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    fileprivate func trimmingBlanks() -> String {
        let blanks: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let first = self.firstIndex(where: { !blanks.contains($0) }),
            let last = self.lastIndex(where: { !blanks.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}

/// How much one XML document may hold before ``XMLReader`` refuses it.
///
/// The defaults are far above what a PBX writes (a mod_xml_cdr document is 8–20 KiB, about
/// 300 elements, nesting 6 deep) and far below what an attack needs to hurt: everything past a
/// limit is refused as soon as it is seen, so time and memory stay proportional to the limits.
package struct XMLLimits: Hashable, Sendable {
    /// Largest document accepted, in bytes (checked before parsing starts).
    package var maxDocumentBytes: Int
    /// Deepest element nesting accepted (the root is depth 1).
    package var maxDepth: Int
    /// Longest text node (or attribute value) accepted, in bytes.
    package var maxTextBytes: Int
    /// Most attributes (namespace declarations included) on one start tag. libxml2 2.9 checks
    /// attribute names for duplicates pairwise, so this limit keeps one huge start tag from
    /// costing quadratic time; it is enforced on the bytes before libxml2 sees them.
    package var maxAttributes: Int
    /// Most namespace declarations (`xmlns`, `xmlns:p`) in one document. libxml2 2.9 looks
    /// every prefixed name up in a list of all namespaces in scope, so thousands of them
    /// followed by many prefixed elements cost seconds (measured: 16,384 declarations and
    /// 100,000 elements, 1.2 MB, 1.5 s); PBX documents declare none or one.
    package var maxNamespaces: Int

    package init(
        maxDocumentBytes: Int = 4 * 1024 * 1024,
        maxDepth: Int = 64,
        maxTextBytes: Int = 256 * 1024,
        maxAttributes: Int = 256,
        maxNamespaces: Int = 64
    ) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
        self.maxTextBytes = maxTextBytes
        self.maxAttributes = maxAttributes
        self.maxNamespaces = maxNamespaces
    }
}

/// Why ``XMLReader`` refused a document: the kind of problem and a one-line, precise reason.
package struct XMLRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// The families of refusal, for tests and statistics; ``message`` carries the details.
    package enum Kind: String, Hashable, Sendable, CaseIterable {
        /// Over ``XMLLimits/maxDocumentBytes``.
        case documentTooLarge = "document-too-large"
        /// Any `<!DOCTYPE`: internal subsets (entity declarations) and external DTDs alike.
        case doctype
        /// Deeper than ``XMLLimits/maxDepth``.
        case tooDeep = "too-deep"
        /// A text node or attribute value over ``XMLLimits/maxTextBytes``.
        case textTooLarge = "text-too-large"
        /// A start tag with more than ``XMLLimits/maxAttributes`` attributes.
        case tooManyAttributes = "too-many-attributes"
        /// More than ``XMLLimits/maxNamespaces`` namespace declarations in the document.
        case tooManyNamespaces = "too-many-namespaces"
        /// Not UTF-8: invalid byte sequences, a UTF-16/32 byte order mark, another declared encoding.
        case encoding
        /// The document stops before its root element is closed.
        case truncated
        /// No XML at all: empty, or text where the first element should be.
        case notXML = "not-xml"
        /// Any other well-formedness error libxml2 reports.
        case malformed
        /// Well-formed XML that is not the document the decoder reads (wrong root element…).
        case unexpectedContent = "unexpected-content"
    }

    package var kind: Kind
    /// Human-readable reason, e.g. `nesting deeper than 64 elements at <a> (line 1)`.
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { self.message }
}

import FirstContactCore

/// The one place that knows which decoder reads which ``InputFormat``, and how its input is cut:
/// batch files, followed files and HTTP bodies all ask here.
package struct DecoderRegistry: Sendable {
    private let asterisk: AsteriskOptions
    private let zone: ZoneRules

    package init(configuration: FirstContactConfiguration) {
        self.asterisk = configuration.asterisk
        self.zone = configuration.timezone
    }

    /// A fresh decoder for `format`. Ask for a new one per file or request body: the Kamailio
    /// decoder keeps the column names of the db_text header it has read.
    package func decoder(for format: InputFormat) -> InputDecoder {
        switch format {
        case .asteriskCSV:
            let cdr = AsteriskCDRDecoder(options: self.asterisk, zone: self.zone)
            return .lines(LineDecoder { line, position in cdr.decode(line: line, position: position) })
        case .asteriskQueueLog:
            let queueLog = QueueLogDecoder()
            return .lines(LineDecoder { line, position in queueLog.decode(line: line, position: position) })
        case .asteriskCEL:
            let cel = AsteriskCELDecoder(options: self.asterisk, zone: self.zone)
            return .lines(LineDecoder { line, position in cel.decode(line: line, position: position) })
        case .kamailioAcc:
            let acc = KamailioAccFileDecoder()
            return .lines(LineDecoder { line, position in acc.decode(line: line[...], position: position) })
        case .freeswitchXMLCDR:
            let cdr = FreeSWITCHCDRDecoder(zone: self.zone)
            return .document(
                DocumentDecoder(maxBytes: cdr.limits.maxDocumentBytes) { document, position in
                    [cdr.decode(document, position: position)]
                })
        case .ivrEvents:
            let ivr = IVREventDecoder()
            return .document(
                DocumentDecoder(maxBytes: ivr.limits.maxDocumentBytes) { document, position in
                    ivr.decode(document, position: position)
                })
        case .freeswitchEvents:
            // Event-socket logs grow to gigabytes a day: never read whole from a file.
            let events = FreeSWITCHEventDecoder(zone: self.zone)
            return .stream(
                StreamDecoder(maxPendingBytes: events.limits.maxDocumentBytes) { bytes, position, final in
                    events.decode(bytes, position: position, final: final)
                })
        }
    }
}

/// How a format's input is cut into records.
package enum InputDecoder: Sendable {
    /// One record per line, appended as calls end (Master.csv, queue_log, Kamailio acc): the
    /// only shape a file follower can tail.
    case lines(LineDecoder)
    /// One document per file or request body (a mod_xml_cdr leg, an IVR event file).
    case document(DocumentDecoder)
    /// A stream read in pieces (FreeSWITCH event-socket captures).
    case stream(StreamDecoder)

    /// The records of one input held whole in memory, such as an HTTP request body, each at its
    /// position in `source`. A body that cannot be read is rejects, never a thrown error:
    /// retrying would not make it readable.
    package func records(in body: [UInt8], source: String) -> [IngestRecord] {
        let start = SourcePosition(source: source, line: 1, offset: 0)
        switch self {
        case .lines(let decoder):
            return LineReader.lines(in: body).map { line in
                decoder.decode(line.bytes, at: SourcePosition(source: source, line: line.number, offset: line.offset))
            }
        case .document(let decoder):
            return decoder.decode(body, at: start)
        case .stream(let decoder):
            return decoder.decode(body, at: start, final: true).records
        }
    }
}

/// Decodes one line of a line-based format (Master.csv, queue_log, Kamailio acc).
package struct LineDecoder: Sendable {
    private let body: @Sendable ([UInt8], SourcePosition) -> IngestRecord

    package init(_ body: @escaping @Sendable ([UInt8], SourcePosition) -> IngestRecord) {
        self.body = body
    }

    package func decode(_ line: [UInt8], at position: SourcePosition) -> IngestRecord {
        self.body(line, position)
    }
}

/// Decodes one document of a one-document-per-file format into its records.
package struct DocumentDecoder: Sendable {
    /// The largest document accepted; a bigger file becomes one reject and is not read whole.
    package let maxBytes: Int
    private let body: @Sendable ([UInt8], SourcePosition) -> [IngestRecord]

    package init(maxBytes: Int, _ body: @escaping @Sendable ([UInt8], SourcePosition) -> [IngestRecord]) {
        self.maxBytes = maxBytes
        self.body = body
    }

    /// The records of one document (a CDR: one leg or one reject; an IVR file: one record,
    /// reject or ignored entry per event); never throws.
    package func decode(_ document: [UInt8], at position: SourcePosition) -> [IngestRecord] {
        self.body(document, position)
    }
}

/// Decodes a stream piece by piece: each call gets what is left of the previous one plus the
/// next bytes read, and says how much of it made complete records.
package struct StreamDecoder: Sendable {
    /// The longest frame or event waited for: past it without an end, the rest of the file is
    /// one reject (as an over-long line is for the line formats).
    package let maxPendingBytes: Int
    private let body: @Sendable ([UInt8], SourcePosition, Bool) -> (records: [IngestRecord], consumed: Int)

    package init(
        maxPendingBytes: Int,
        _ body: @escaping @Sendable ([UInt8], SourcePosition, Bool) -> (records: [IngestRecord], consumed: Int)
    ) {
        self.maxPendingBytes = maxPendingBytes
        self.body = body
    }

    /// - Parameter final: no bytes follow `bytes` (then everything is consumed).
    package func decode(
        _ bytes: [UInt8], at position: SourcePosition, final: Bool
    ) -> (records: [IngestRecord], consumed: Int) {
        self.body(bytes, position, final)
    }
}

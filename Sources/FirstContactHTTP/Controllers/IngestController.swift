import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/ingest/{format}`: what a PBX posts (roles pbx, admin).
struct IngestController {
    let api: API

    func register(on routes: inout RouteTable) {
        routes.add(.post, "v1/ingest/:format") { request, context in try await self.ingest(request, context) }
    }

    /// `POST /v1/ingest/{format}`: the body's lines, decoded, stored and derived before the answer.
    /// Concurrent requests share one transaction (``IngestBatcher``); each gets its own counts.
    func ingest(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try context.principal([.pbx, .admin])
        let name = try context.parameters.require("format")
        guard let format = InputFormat(rawValue: name) else {
            throw HTTPError(
                .notFound,
                message:
                    "unknown format \(name); formats: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var request = request
        let body = try await request.collectBody(upTo: self.api.engine.configuration.http.maxBody)
        let bytes = [UInt8](buffer: body)
        // The document requires a body: an empty post is a client that lost its records.
        guard !bytes.isEmpty else {
            throw HTTPError(.badRequest, message: "the body is empty: post the records to ingest")
        }
        // The same body posted again is the same source: its records and rejects are stored once.
        let source = "POST /v1/ingest/\(name) \(StableHash.hex(StableHash.fnv1a64(bytes)))"
        // Line formats: one record or reject per line. Documents (mod_xml_cdr posts one per
        // request, raw XML or the `cdr=` form): a document that cannot be read is stored as a
        // reject and answered 200, since retrying would not make it readable and nothing is lost.
        let records = self.api.engine.decoder(for: format).records(in: bytes, source: source)
        let rejected = records.compactMap { record -> Reject? in
            if case .reject(let reject) = record { return reject }
            return nil
        }
        let outcome = try await self.api.batcher.ingest(records)
        self.api.metrics.ingested(format: name, outcome)
        if outcome.newRecords > 0 { self.api.changes.publish(LiveChanges.ingested, contact: nil, department: nil) }
        context.logger.info(
            "ingested",
            metadata: [
                "ingest.format": .string(name), "ingest.records": .stringConvertible(outcome.records),
                "ingest.new": .stringConvertible(outcome.newRecords),
                "ingest.duplicates": .stringConvertible(outcome.duplicates),
                "ingest.rejects": .stringConvertible(outcome.rejects),
            ])
        // One line per request however many rows it rejected (a mutated body once wrote 215 MB
        // of log, a line per row): the count and the first reason, masked like every number in
        // the logs since a reason may quote a field (a caller ID…).
        if let first = rejected.first {
            context.logger.notice(
                "rejected",
                metadata: [
                    "ingest.format": .string(name), "ingest.rejects": .stringConvertible(rejected.count),
                    "ingest.rejects_dropped": .stringConvertible(outcome.rejectsDropped),
                    "ingest.first_line": .stringConvertible(first.position.line),
                    "ingest.first_reason": .string(LogMasking.maskNumbers(first.reason)),
                ])
        }
        let out = JSONWriter()
        out.object {
            out.field("records") { out.int(outcome.records) }
            out.field("new") { out.int(outcome.newRecords) }
            out.field("duplicates") { out.int(outcome.duplicates) }
            out.field("rejects") {
                out.array(rejected) { reject in
                    out.object {
                        out.field("line") { out.int(reject.position.line) }
                        out.field("reason") { out.string(reject.reason) }
                    }
                }
            }
        }
        return API.json(out.text)
    }
}

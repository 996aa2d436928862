import FirstContactCore
import FirstContactStore
import Foundation

extension ExportDocument {
    /// The whole export of a store: every contact and violation, and the stored rejects.
    package static func render(_ snapshot: StoreSnapshot) -> String {
        let out = JSONWriter()
        out.object {
            out.field("as_of") { out.time(snapshot.clock) }
            out.field("contacts") {
                out.array(snapshot.contacts.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) { contact in
                    Self.contact(contact, into: out)
                }
            }
            out.field("violations") {
                out.array(snapshot.violations.sorted { ($0.at, $0.id) < ($1.at, $1.id) }) { violation in
                    Self.violation(violation, review: snapshot.reviews[violation.id], into: out)
                }
            }
            out.field("rejects") {
                out.array(snapshot.rejects) { reject in
                    out.object {
                        out.field("source") { out.string(reject.position.source) }
                        out.field("line") { out.int(reject.position.line) }
                        out.field("offset") { out.int(Int(reject.position.offset)) }
                        out.field("reason") { out.string(reject.reason) }
                        out.field("raw") { out.string(Data(reject.raw).base64EncodedString()) }
                        if let digest = reject.rawSHA256 {
                            out.field("raw_length") { out.int(reject.rawLength) }
                            out.field("raw_sha256") { out.string(digest) }
                        }
                    }
                }
            }
            // Only when the cap dropped some, so an export of a store without drops is unchanged.
            if !snapshot.rejectsDropped.isEmpty {
                out.field("rejects_dropped") {
                    out.object {
                        for (source, count) in snapshot.rejectsDropped.sorted(by: { $0.key < $1.key }) {
                            out.field(source) { out.int(count) }
                        }
                    }
                }
            }
        }
        return out.text + "\n"
    }
}

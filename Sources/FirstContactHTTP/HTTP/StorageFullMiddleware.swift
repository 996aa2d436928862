import FirstContactApp
import FirstContactCore
import FirstContactStore
import HTTPTypes
import Hummingbird

/// A write that failed for lack of space, on any route (ingest, people's actions, the web pages'
/// forms), is answered `507 Insufficient Storage` with `Retry-After` and a JSON error naming the
/// database and the space left, rather than an empty 500: the caller keeps what it sent and
/// tries again later, and an operator reading the answer knows which disk to look at. The log
/// says it once a minute (``StorageWatch/report(_:logger:at:)``), not once per request.
struct StorageFullMiddleware<Context: RequestContext>: RouterMiddleware {
    let storage: StorageWatch

    /// Seconds a client is asked to wait: room is made by a person or a cleanup job, not in a moment.
    static var retryAfter: Int { 60 }
    /// RFC 4918's status, which swift-http-types does not name.
    static var insufficientStorage: HTTPResponse.Status {
        HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch StoreError.storageFull(let path) {
            self.storage.report(StoreError.storageFull(path: path), logger: context.logger)
            let free = self.storage.freeBytes
            let out = JSONWriter()
            out.object {
                out.field("error") {
                    out.object {
                        out.field("message") {
                            out.string(
                                "storage full: the disk holding the database \(path) has \(free.map { "\($0) bytes" } ?? "an unknown amount of space") free; this request was not acknowledged: send it again once there is room"
                            )
                        }
                        out.field("database") { out.string(path) }
                        out.field("free_bytes") { free.map { out.int(Int($0)) } ?? out.null() }
                    }
                }
            }
            var response = API.json(out.text, status: Self.insufficientStorage)
            response.headers[.retryAfter] = String(Self.retryAfter)
            return response
        }
    }
}

import AsyncHTTPClient
import FirstContactApp
import NIOCore
import NIOHTTP1

/// Sends one webhook POST. A protocol so the delivery logic does not depend on the HTTP client.
package protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url`. Returns the HTTP status; throws on connection errors and timeouts.
    func post(url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int
}

/// The real transport: AsyncHTTPClient (the process-wide shared client by default).
package struct HTTPClientWebhookTransport: WebhookTransport {
    let client: HTTPClient
    let timeout: TimeAmount

    package init(client: HTTPClient = .shared, timeout: TimeAmount = .seconds(10)) {
        self.client = client
        self.timeout = timeout
    }

    package func post(url: String, headers: [(String, String)], body: [UInt8]) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await self.client.execute(request, timeout: self.timeout)
        // Read (and drop) the answer so the connection can be reused.
        for try await _ in response.body {}
        return Int(response.status.code)
    }
}

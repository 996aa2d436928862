import Crypto
import FirstContactApp
import Foundation

/// The signature on every webhook POST: `X-FirstContact-Signature: sha256=<hex>` where hex is
/// HMAC-SHA256 over `timestamp + "." + body` with the URL's secret, and `timestamp` is the
/// `X-FirstContact-Timestamp` header (unix seconds). Signing the timestamp lets receivers reject
/// replays of old deliveries.
package enum WebhookSignature {
    package static func sign(secret: [UInt8], timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a received signature in constant time (what a receiver does).
    package static func verify(_ signature: String, secret: [UInt8], timestamp: Int64, body: [UInt8]) -> Bool {
        let expected = Array(Self.sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

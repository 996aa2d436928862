import FirstContactApp
import FirstContactCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import FirstContactHTTP

// Issue "Hardened against hostile input" §5: a client past a limit gets a clear status with
// Retry-After, and the server keeps nothing for it beyond the refusal.
@Suite("Abusive clients get 429 with Retry-After")
struct AbusiveClientTests {
    @Test(
        "a token holding http.max_streams_per_token event streams gets 429 for one more; a stream that ends frees its place"
    )
    func streamsPerToken() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let limits = ClientLimits(
            options: {
                var options = HTTPOptions()
                options.maxStreamsPerToken = 2
                return options
            }())
        // Two streams held open (their bodies not finished yet).
        let held = [try limits.stream(for: "ops") { _ in }, try limits.stream(for: "ops") { _ in }]
        #expect(limits.openStreams("ops") == 2)
        let refused = #expect(throws: HTTPError.self) { try limits.stream(for: "ops") { _ in } }
        #expect(refused?.status == .tooManyRequests)
        #expect(refused?.headers[.retryAfter] == "30")
        // Another token is not affected, and a body that never ran gives its place back when it goes.
        do { _ = try limits.stream(for: "someone-else") { _ in } }
        #expect(limits.openStreams("someone-else") == 0)
        #expect(held.count == 2)
        #expect(limits.openStreams("ops") == 2)

        // Through the API: with a limit of 1, streams that end one after another all pass.
        let (app, _) = try await WebTests.app(in: directory) { $0.http.maxStreamsPerToken = 1 }
        try await app.test(.router) { client in
            for _ in 0..<3 {
                let response = try await client.execute(
                    uri: "/v1/events?follow=false", method: .get, headers: [.authorization: "Bearer demo-supervisor"])
                #expect(response.status == .ok)
            }
        }
    }

    @Test(
        "failed sign-ins past http.sign_in_attempts from one address get 429 with Retry-After, even with a good token")
    func signInAttempts() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await WebTests.app(in: directory) {
            $0.http.signInAttempts = 3
            $0.http.signInWindow = 600
        }
        try await app.test(.router) { client in
            func attempt(_ token: String) async throws -> TestResponse {
                let login = try await client.execute(uri: "/ui/login", method: .get)
                let nonce = try #require(WebTests.field("nonce", in: WebTests.body(login)))
                return try await client.execute(
                    uri: "/ui/login", method: .post,
                    headers: [
                        .cookie: "\(WebSessions.loginCookie)=\(nonce)",
                        .contentType: "application/x-www-form-urlencoded",
                    ],
                    body: ByteBuffer(string: "nonce=\(nonce)&token=\(token)"))
            }
            for _ in 0..<3 { #expect(try await attempt("guess").status == .unauthorized) }
            let refused = try await attempt("demo-supervisor")
            #expect(refused.status == .tooManyRequests)
            let wait = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(wait > 0 && wait <= 600)
            #expect(WebTests.body(refused).contains("Too many failed sign-ins"))
        }
    }

    @Test("the wait ends when the oldest failure leaves the window")
    func waitEnds() {
        let limits = ClientLimits(
            options: {
                var options = HTTPOptions()
                options.signInAttempts = 2
                options.signInWindow = 60
                return options
            }())
        let start = Date(timeIntervalSince1970: 1_000_000)
        limits.signInFailed("10.0.0.9", now: start)
        #expect(limits.signInWait("10.0.0.9", now: start) == nil)
        limits.signInFailed("10.0.0.9", now: start.addingTimeInterval(10))
        #expect(limits.signInWait("10.0.0.9", now: start.addingTimeInterval(10)) == 50)
        #expect(limits.signInWait("10.0.0.8", now: start.addingTimeInterval(10)) == nil)
        #expect(limits.signInWait("10.0.0.9", now: start.addingTimeInterval(61)) == nil)
    }
}

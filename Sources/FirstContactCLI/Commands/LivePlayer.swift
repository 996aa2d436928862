import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactSimulator
import Foundation

/// `simulate --live`: posts a ``LiveSchedule`` to a running `serve` as a PBX would, each call's
/// records when the call ends, until SIGINT or SIGTERM.
struct LivePlayer {
    let configuration: FirstContactConfiguration
    let seed: UInt64
    let rate: Int
    let speed: Double
    let playsAs: CivilTime?
    let server: String
    let token: String
    let transport: any WebhookTransport = HTTPClientWebhookTransport(timeout: .seconds(60))
    let clock = SystemWallClock()

    /// The seed goes in posts of at most this many calls: a bounded body and transaction each.
    static let seedChunk = 2000

    enum Failure: Error, CustomStringConvertible {
        case refused(format: InputFormat, status: Int)

        var description: String {
            switch self {
            case .refused(let format, let status):
                "the server refused POST /v1/ingest/\(format.rawValue) with \(status): check --token (role pbx) and --to"
            }
        }
    }

    /// Plays until SIGINT or SIGTERM, then returns (a refused post is thrown).
    func runUntilInterrupted() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await self.play()
                return false
            }
            group.addTask {
                await Self.untilSignalled()
                return true
            }
            defer { group.cancelAll() }
            if try await group.next() == true { print("simulate --live: stopped") }
        }
    }

    private func play() async throws {
        let start = self.clock.now()
        var schedule = LiveSchedule(
            configuration: self.configuration, seed: self.seed, rate: self.rate, speed: self.speed, now: start,
            playsAs: self.playsAs)
        let zone = self.configuration.timezone
        let plays = zone.local(start + schedule.shift).time
        let shifted = schedule.shift == 0 ? "" : " (the day's traffic shifted so that now plays as \(plays.iso))"
        print(
            "simulate --live: \(self.rate) customers a day, \(Self.format(self.speed))× arrivals, posting to \(self.server) as of \(zone.local(start).time.iso) \(zone.identifier)\(shifted)"
        )
        var seeded = 0
        while true {
            let batch = schedule.due(upTo: start, maximumCalls: Self.seedChunk)
            if batch.isEmpty { break }
            try await self.post(batch)
            seeded += batch.calls.count
        }
        print("simulate --live: seeded \(seeded) calls of today's hours that have passed; playing on (Ctrl-C stops)")
        fflush(nil)
        var (played, reported) = (0, self.clock.now())
        while !Task.isCancelled {
            let wait = schedule.nextTime() - self.clock.now()
            if wait > 0 { try await Task.sleep(for: .seconds(min(wait, 10))) }
            let now = self.clock.now()
            let batch = schedule.due(upTo: now)
            try await self.post(batch)
            played += batch.calls.count
            if now - reported >= 30 {
                print("simulate --live: \(played) calls posted since the seed, \(zone.local(now).time.iso)")
                fflush(nil)
                reported = now
            }
        }
    }

    /// Posts each body, retrying connection errors and 5xx answers with back-off (0.5 s doubling
    /// up to 10 s) for as long as it takes: the server may not be up yet, or restarting. A
    /// repeated post is harmless (records are stored once). Any other answer stops the player.
    private func post(_ batch: LiveBatch) async throws {
        let url = self.server.hasSuffix("/") ? String(self.server.dropLast()) : self.server
        for (format, body) in batch.bodies {
            var delay = 0.5
            var failures = 0
            while true {
                let problem: String
                do {
                    let status = try await self.transport.post(
                        url: "\(url)/v1/ingest/\(format.rawValue)",
                        headers: [("Authorization", "Bearer \(self.token)"), ("Content-Type", "text/plain")],
                        body: Array(body.utf8))
                    if (200..<300).contains(status) { break }
                    guard status >= 500 || status == 429 else { throw Failure.refused(format: format, status: status) }
                    problem = "HTTP \(status)"
                } catch let error as Failure {
                    throw error
                } catch {
                    try Task.checkCancellation()
                    problem = "\(error)"
                }
                failures += 1
                // Said once, then every tenth try: waiting for a server that starts later is normal.
                if failures == 1 || failures % 10 == 0 {
                    FileHandle.standardError.write(
                        Data("simulate --live: \(url) not answering (\(problem)); retrying\n".utf8))
                }
                try await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 10)
            }
        }
    }

    /// Returns at the first SIGINT or SIGTERM (or when the task is cancelled).
    private static func untilSignalled() async {
        let numbers = [SIGINT, SIGTERM]
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        defer { for source in sources { source.cancel() } }
        for await _ in stream { return }
    }

    private static func format(_ speed: Double) -> String {
        speed == speed.rounded() ? String(Int(speed)) : String(speed)
    }
}

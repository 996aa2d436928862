import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactIngest
import FirstContactStore
import Foundation
import GRDB
import Logging
import Testing

/// Paths and helpers shared by the App tests.
enum Fixture {
    /// The package root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sampleConfig = root.appendingPathComponent("samples/firstcontact.yaml").path
    static let sampleDay = root.appendingPathComponent("samples/day-2026-11-27")
    static let sampleEnd = "2026-11-27T23:59:59+08:00"
    static let corpus = root.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    /// A fresh temporary directory, removed by the caller's `defer`.
    static func temporaryDirectory() throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func engine() throws -> Engine { try Engine.load(configuration: Self.sampleConfig) }

    /// SQLite: the customers without a number, and the calls and IVR events of a customer not
    /// filed under their own customer's number.
    static func misfiled(_ path: String) throws -> Int {
        try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM customer WHERE seq IS NULL)
                        + (SELECT count(*) FROM call r LEFT JOIN customer c ON c.customer_key = r.customer_key
                            WHERE r.customer_key IS NOT NULL AND (r.customer_seq IS NULL OR r.customer_seq IS NOT c.seq))
                        + (SELECT count(*) FROM ivr_event r LEFT JOIN customer c ON c.customer_key = r.customer_key
                            WHERE r.customer_seq IS NULL OR r.customer_seq IS NOT c.seq)
                    """) ?? 0
        }
    }

    /// The sample day's records (Master.csv, queue_log, the IVR's events), as `serve` decodes
    /// posted bodies.
    static func sampleDayRecords(_ engine: Engine) throws -> [IngestRecord] {
        let files: [(String, InputFormat)] = [
            ("asterisk/Master.csv", .asteriskCSV), ("asterisk/queue_log", .asteriskQueueLog),
            ("ivr/events-0001.xml", .ivrEvents),
        ]
        return try files.flatMap { path, format in
            let file = Self.sampleDay.appendingPathComponent(path)
            return engine.decoder(for: format).records(in: Array(try Data(contentsOf: file)), source: file.path)
        }
    }

    /// The service's logger for tests: warnings and errors only, so the request log of thousands
    /// of test requests does not bury the test output (LogMaskingTests captures its own).
    static var quietLogger: Logger {
        var logger = Logger(label: "firstcontact.tests")
        logger.logLevel = .warning
        return logger
    }

    /// Ingests `paths` into a new SQLite file in `directory`, optionally ticks, and returns the export.
    static func export(
        ingesting batches: [[String]], into directory: URL, tick: String? = nil, engine: Engine? = nil,
        batchSize: Int? = nil,
        derivationChunk: Int = SQLiteContactStore.derivationChunk,
        derivationSlice: Int = SQLiteContactStore.derivationSlice
    ) async throws -> (String, IngestSummary?) {
        let engine = try engine ?? Self.engine()
        let store = try SQLiteContactStore(
            path: directory.appendingPathComponent("fc.sqlite").path, derivationChunk: derivationChunk,
            derivationSlice: derivationSlice)
        var pipeline = IngestPipeline(engine: engine, store: store)
        if let batchSize { pipeline.batchSize = batchSize }
        var last: IngestSummary?
        for paths in batches {
            last = try await pipeline.ingest(paths: paths, format: nil)
        }
        if let tick, let now = Timestamp(iso8601: tick) {
            _ = try await store.advanceClock(to: now, correlator: engine.correlator)
        }
        return (ExportDocument.render(try await store.snapshot()), last)
    }

    /// Runs the built `firstcontact` binary from an async test: the wait for the process happens
    /// on a Dispatch thread, not on one of the few threads every suite's tasks share (a full run
    /// of the suites in parallel stalled when CLI runs blocked them all).
    static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:])
        async throws -> (status: Int32, output: String)
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try Self.runBlocking(arguments, in: directory, environment: environment) })
            }
        }
    }

    /// The test process's environment with `environment` added (and overriding it): what a
    /// spawned binary runs with.
    static func environment(adding environment: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }

    /// Runs the built `firstcontact` binary, blocking the calling thread.
    /// `environment` is added to (and overrides) the test process's own.
    static func runBlocking(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws
        -> (
            status: Int32, output: String
        )
    {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("firstcontact")
        let candidates = [binary, Self.root.appendingPathComponent(".build/debug/firstcontact")]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw FixtureError("the firstcontact binary was not built next to the tests")
        }
        let merged = Self.environment(adding: environment)
        guard directory == nil else {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = merged
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        return try Self.spawn(executable.path, arguments, environment: merged)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which the Glibc module does not
    /// export.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else {
            fatalError("this glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 or later needed)")
        }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Runs `path` with stdout and stderr into one pipe, through posix_spawn. Foundation's
    /// `Process.run()` lists `/proc/self/fd` to close what the child must not inherit and
    /// crashed (SIGSEGV in memcpy) when the test process held more than ≈ 1,300 descriptors,
    /// which the suites running in parallel reach. The child closes every descriptor above its
    /// output (`closefrom`): NIO opens its sockets without close-on-exec, and a command spawned
    /// while another test held a PostgreSQL connection kept that session alive after the test
    /// had closed it, until the command exited (seen as a session left after `closeOpened`).
    static func spawn(_ path: String, _ arguments: [String], environment: [String: String]) throws -> (
        status: Int32, output: String
    ) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw FixtureError("pipe: \(String(cString: strerror(errno)))") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        guard Self.closeFrom(&actions, 3) == 0 else { throw FixtureError("posix_spawn_file_actions_addclosefrom_np") }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(ends[1])
        defer { close(ends[0]) }
        guard spawned == 0 else { throw FixtureError("posix_spawn \(path): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(ends[0], &buffer, buffer.count)
            if count > 0 {
                output += buffer[..<count]
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        // As Process reports it: the exit code, or the signal that ended the child.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
        return (code, String(decoding: output, as: UTF8.self))
    }
}

extension Tag {
    /// Starts the real binary many times, kills it, or runs for minutes.
    @Tag static var slow: Self
}

/// Whether `.slow` tests run: only when `FC_SLOW_TESTS=1` (scripts/test.sh sets it under CI), so
/// that a local `swift test` stays quick. Traits of a slow suite:
/// `.tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped), .timeLimit(.scaled(minutes: N))`.
enum SlowTests {
    static let enabled = ProcessInfo.processInfo.environment["FC_SLOW_TESTS"] == "1"
    static let skipped: Comment = "slow: runs with FC_SLOW_TESTS=1 (CI sets it)"
}

/// How much longer than normal a test may wait: `FC_TEST_TIME_SCALE` (default 1), which
/// `scripts/test.sh` sets under CI and under a sanitizer. A test's time counts from when it is
/// started, and the whole suite starts at once on CI's two cores: a test that takes a second
/// alone has finished after 180 s there. Under a sanitizer every test runs several times slower too.
enum TestTime {
    static let scale = environmentScale("FC_TEST_TIME_SCALE")
}

/// A whole factor of at least 1 read from the environment variable `name` (1 when unset).
private func environmentScale(_ name: String) -> Int {
    max(1, ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? 1)
}

/// How much more resident memory a process may show than normal: `FC_TEST_MEMORY_SCALE` (default
/// 1), which `scripts/test.sh --sanitize=…` sets to 2 under ThreadSanitizer and 3 under
/// AddressSanitizer: a sanitizer's shadow pages and allocator count in the resident size (a
/// stalled-stream test grew 34 MB under ThreadSanitizer where it grows 11–14 MB alone). Scaled, a
/// server that buffered what it owes still fails it.
enum TestMemory {
    static let scale = environmentScale("FC_TEST_MEMORY_SCALE")
}

extension TimeLimitTrait.Duration {
    static func scaled(minutes: Int) -> Self { .minutes(minutes * TestTime.scale) }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

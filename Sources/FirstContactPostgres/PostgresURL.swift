import Foundation

/// Where a `--db` value of the libpq URL form points: `postgres://` or `postgresql://`, then
/// `user[:password]@host[:port]/database`, or a unix socket directory as `?host=/dir` (libpq's
/// form: the socket file is `/dir/.s.PGSQL.<port>`).
///
/// The password comes from the URL or else from `PGPASSWORD`, as libpq takes it. Parameters this
/// store does not act on are refused rather than ignored: a `sslmode=require` silently dropped
/// would send the password in clear.
package struct PostgresURL: Hashable, Sendable {
    package enum Endpoint: Hashable, Sendable {
        case tcp(host: String, port: Int)
        /// The directory holding the server's socket file, and the port that names the file.
        case socket(directory: String, port: Int)

        /// The socket file's path (`<directory>/.s.PGSQL.<port>`), nil for TCP.
        package var socketPath: String? {
            guard case .socket(let directory, let port) = self else { return nil }
            return (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
        }
    }

    /// `sslmode`, as libpq reads it.
    package enum TLSMode: Hashable, Sendable {
        /// `disable`: never TLS.
        case disable
        /// `allow`, `prefer` (libpq's default): TLS when the server offers it, its certificate not
        /// checked; plain when it does not.
        case prefer
        /// `require`: TLS or no connection; the certificate is not checked (libpq's `require`
        /// without a root certificate).
        case require
        /// `verify-ca`: TLS with a certificate signed by `sslrootcert` (else the system's roots).
        case verifyCA(rootCertificate: String?)
        /// `verify-full`: as `verify-ca`, and the certificate names the host.
        case verifyFull(rootCertificate: String?)
    }

    package var endpoint: Endpoint
    /// Over TCP only: a unix socket never uses TLS (as with libpq).
    package var tls: TLSMode = .prefer
    package var user: String
    package var password: String?
    package var database: String
    /// `application_name`, shown in the server's `pg_stat_activity`.
    package var applicationName: String?
    /// `connect_timeout` in seconds (libpq's 0, wait for ever, is refused).
    package var connectTimeout: Int64 = 10

    package static let defaultPort = 5432

    /// Whether `location` is meant as a PostgreSQL URL (and not a SQLite path).
    package static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// - Parameter environment: where `PGPASSWORD` (and `USER`, libpq's default user) are read.
    /// - Throws: ``PostgresURLError`` naming what is wrong.
    package init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let schemeEnd = text.range(of: "://"),
            ["postgres", "postgresql"].contains(String(text[..<schemeEnd.lowerBound]))
        else { throw PostgresURLError(url: text, problem: "it does not start with postgres:// or postgresql://") }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: [(String, String)] = []
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw PostgresURLError(url: text, problem: "the parameter \"\(pair)\" is not name=value")
                }
                query.append((try Self.decoded(parts[0], in: text), try Self.decoded(parts[1], in: text)))
            }
            rest = rest[..<mark]
        }
        let slash = rest.firstIndex(of: "/")
        let authority = slash.map { rest[..<$0] } ?? rest
        let path = slash.map { rest[rest.index(after: $0)...] } ?? ""
        var user: String?
        var password: String?
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = try Self.decoded(info[..<colon], in: text)
                password = try Self.decoded(info[info.index(after: colon)...], in: text)
            } else {
                user = try Self.decoded(info, in: text)
            }
        }
        var host: String?
        var port: Int?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw PostgresURLError(url: text, problem: "the IPv6 address has no closing ]")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), in: text) }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try Self.decoded(hostPort[..<colon], in: text)
            port = try Self.port(hostPort[hostPort.index(after: colon)...], in: text)
        } else if !hostPort.isEmpty {
            host = try Self.decoded(hostPort, in: text)
        }
        var database = path.isEmpty ? nil : try Self.decoded(path, in: text)
        var applicationName: String?
        var connectTimeout: Int64?
        // libpq's environment variables for them, which the URL overrides.
        var sslMode = environment["PGSSLMODE"].flatMap { $0.isEmpty ? nil : $0 } ?? "prefer"
        var rootCertificate = environment["PGSSLROOTCERT"].flatMap { $0.isEmpty ? nil : $0 }
        for (name, value) in query {
            switch name {
            case "host": host = value
            case "port": port = try Self.port(Substring(value), in: text)
            case "user": user = value
            case "password": password = value
            case "dbname": database = value
            case "sslmode": sslMode = value
            case "sslrootcert": rootCertificate = value
            case "application_name": applicationName = value
            case "connect_timeout":
                guard let seconds = Int64(value), seconds > 0 else {
                    throw PostgresURLError(
                        url: text, problem: "connect_timeout=\(value) is not a whole number of seconds above 0")
                }
                connectTimeout = seconds
            default:
                throw PostgresURLError(
                    url: text,
                    problem:
                        "unknown parameter \"\(name)\" (known: host, port, user, password, dbname, sslmode, sslrootcert, application_name, connect_timeout)"
                )
            }
        }
        guard let user = user.flatMap({ $0.isEmpty ? nil : $0 }) ?? environment["PGUSER"] ?? environment["USER"]
        else { throw PostgresURLError(url: text, problem: "it names no user (and USER is not set)") }
        if database?.contains("/") == true {
            throw PostgresURLError(url: text, problem: "the database name \"\(database ?? "")\" contains a slash")
        }
        let resolvedPort = port ?? Self.defaultPort
        switch host {
        case .some(let directory) where directory.hasPrefix("/"):
            self.endpoint = .socket(directory: directory, port: resolvedPort)
        case .some(let name) where !name.isEmpty:
            self.endpoint = .tcp(host: name, port: resolvedPort)
        default:
            throw PostgresURLError(
                url: text, problem: "it names no host (give host:port, or ?host=/socket/directory for a unix socket)")
        }
        self.user = user
        self.password = password ?? environment["PGPASSWORD"]
        self.database = database.flatMap { $0.isEmpty ? nil : $0 } ?? user
        self.applicationName = applicationName
        if let connectTimeout { self.connectTimeout = connectTimeout }
        switch sslMode {
        case "disable": self.tls = .disable
        case "allow", "prefer": self.tls = .prefer
        case "require": self.tls = .require
        case "verify-ca": self.tls = .verifyCA(rootCertificate: rootCertificate)
        case "verify-full": self.tls = .verifyFull(rootCertificate: rootCertificate)
        default:
            throw PostgresURLError(
                url: text,
                problem: "sslmode=\(sslMode) is none of disable, allow, prefer, require, verify-ca, verify-full")
        }
    }

    private static func decoded(_ part: Substring, in url: String) throws -> String {
        guard let text = String(part).removingPercentEncoding else {
            throw PostgresURLError(url: url, problem: "\"\(part)\" is not valid percent-encoding")
        }
        return text
    }

    private static func port(_ text: Substring, in url: String) throws -> Int {
        guard let port = Int(text), (1...65_535).contains(port) else {
            throw PostgresURLError(url: url, problem: "the port \"\(text)\" is not a number from 1 to 65535")
        }
        return port
    }

    /// The URL with the password left out: for messages, and as `--db` for another process (which
    /// takes the password from `PGPASSWORD`).
    package var redacted: String {
        switch self.endpoint {
        case .tcp(let host, let port):
            "postgresql://\(self.user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(self.database)"
                + self.tlsParameters
        case .socket(let directory, let port):
            "postgresql://\(self.user)@/\(self.database)?host=\(directory)&port=\(port)"
        }
    }

    /// `sslmode` (and `sslrootcert`) as given, so that the URL shown back connects the same way.
    private var tlsParameters: String {
        switch self.tls {
        case .prefer: ""
        case .disable: "?sslmode=disable"
        case .require: "?sslmode=require"
        case .verifyCA(let root): "?sslmode=verify-ca" + (root.map { "&sslrootcert=\($0)" } ?? "")
        case .verifyFull(let root): "?sslmode=verify-full" + (root.map { "&sslrootcert=\($0)" } ?? "")
        }
    }
}

/// A `--db` value that starts like a PostgreSQL URL but cannot be used as one.
package struct PostgresURLError: Error, Equatable, CustomStringConvertible {
    /// The URL as given, its password replaced.
    package var url: String
    package var problem: String

    init(url: String, problem: String) {
        self.url = Self.withoutPassword(url)
        self.problem = problem
    }

    package var description: String { "bad PostgreSQL URL \(self.url): \(self.problem)" }

    /// `scheme://user:secret@…?password=secret` → `scheme://user:***@…?password=***`: an error
    /// message must not show the password, wherever the URL gives it.
    static func withoutPassword(_ url: String) -> String {
        var url = url
        if let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        {
            url = String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
        }
        guard let mark = url.firstIndex(of: "?") else { return url }
        let parameters = url[url.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map {
            $0.lowercased().hasPrefix("password=") ? "password=***" : String($0)
        }
        return String(url[...mark]) + parameters.joined(separator: "&")
    }
}

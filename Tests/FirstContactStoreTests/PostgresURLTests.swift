import FirstContactPostgres
import Testing

@Suite("PostgreSQL URLs for --db")
struct PostgresURLTests {
    let environment = ["USER": "hotline"]

    @Test("user, password, host, port and database are read from a TCP URL, percent-decoded")
    func tcp() throws {
        let url = try PostgresURL("postgres://fc%40app:s%3Acret@db.example:6543/first%20contact", environment: [:])
        #expect(url.endpoint == .tcp(host: "db.example", port: 6543))
        #expect(url.user == "fc@app")
        #expect(url.password == "s:cret")
        #expect(url.database == "first contact")
    }

    @Test("?host=/dir names a unix socket directory; the port names the socket file; the database defaults to the user")
    func socket() throws {
        let url = try PostgresURL("postgresql://postgres@/?host=/tmp/fc-pg-1&port=55432", environment: [:])
        #expect(url.endpoint == .socket(directory: "/tmp/fc-pg-1", port: 55432))
        #expect(url.endpoint.socketPath == "/tmp/fc-pg-1/.s.PGSQL.55432")
        #expect(url.database == "postgres")
        #expect(url.password == nil)
    }

    @Test("the password comes from PGPASSWORD when the URL has none, and the URL's wins over it")
    func passwordFromEnvironment() throws {
        let environment = ["PGPASSWORD": "from-env", "USER": "x"]
        #expect(try PostgresURL("postgresql://fc@localhost/fc", environment: environment).password == "from-env")
        #expect(try PostgresURL("postgresql://fc:given@localhost/fc", environment: environment).password == "given")
    }

    @Test("the default port is 5432, an IPv6 host is bracketed, and USER is the user when the URL names none")
    func defaults() throws {
        let url = try PostgresURL("postgresql://[::1]/fc", environment: self.environment)
        #expect(url.endpoint == .tcp(host: "::1", port: 5432))
        #expect(url.user == "hotline")
        #expect(try PostgresURL("postgresql://localhost", environment: self.environment).database == "hotline")
        // Shown back in messages as it was given: an address with colons stays bracketed.
        #expect(url.redacted == "postgresql://hotline@[::1]:5432/fc")
    }

    @Test(
        "a bad URL is refused with what is wrong in it, and never shows the password",
        arguments: [
            ("mysql://u@h/db", "does not start with postgres://"),
            ("postgresql://u@h:99999/db", "the port \"99999\""),
            ("postgresql://u@h:port/db", "the port \"port\""),
            ("postgresql://u@/db", "names no host"),
            ("postgresql://u:secret@h/db?sslmode=verify", "sslmode=verify is none of disable, allow, prefer"),
            ("postgresql://u:secret@h/db?options=-c", "unknown parameter \"options\""),
            ("postgresql://u@h/db?host", "is not name=value"),
            ("postgresql://u@h/a/b", "contains a slash"),
            ("postgresql://u@[::1/db", "no closing ]"),
            ("postgresql://u@h/db?password=secret&sslmode=required", "sslmode=required is none of"),
            ("postgresql://u@h/db?password=secret&connect_timeout=0", "connect_timeout=0 is not"),
        ])
    func refused(url: String, problem: String) throws {
        let error = try #require(throws: PostgresURLError.self) { try PostgresURL(url, environment: self.environment) }
        #expect(error.description.contains(problem))
        #expect(!error.description.contains("secret"))
    }

    @Test(
        "sslmode as libpq names it, prefer when absent; the URL shown back keeps it, so another process connects the same way",
        arguments: [
            ("", PostgresURL.TLSMode.prefer, ""),
            ("?sslmode=allow", .prefer, ""),
            ("?sslmode=prefer", .prefer, ""),
            ("?sslmode=disable", .disable, "?sslmode=disable"),
            ("?sslmode=require", .require, "?sslmode=require"),
            ("?sslmode=verify-ca", .verifyCA(rootCertificate: nil), "?sslmode=verify-ca"),
            (
                "?sslmode=verify-full&sslrootcert=/etc/ssl/pg-root.crt",
                .verifyFull(rootCertificate: "/etc/ssl/pg-root.crt"),
                "?sslmode=verify-full&sslrootcert=/etc/ssl/pg-root.crt"
            ),
        ])
    func sslModes(parameters: String, mode: PostgresURL.TLSMode, shown: String) throws {
        let url = try PostgresURL("postgresql://u:secret@db.example/fc" + parameters, environment: self.environment)
        #expect(url.tls == mode)
        #expect(url.redacted == "postgresql://u@db.example:5432/fc" + shown)
        #expect(try PostgresURL(url.redacted, environment: self.environment).tls == mode)
    }

    @Test("PGSSLMODE and PGSSLROOTCERT apply when the URL names no sslmode or sslrootcert, as in libpq")
    func sslFromEnvironment() throws {
        let environment = ["USER": "x", "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/etc/ssl/pg-root.crt"]
        #expect(
            try PostgresURL("postgresql://u@db.example/fc", environment: environment).tls
                == .verifyFull(rootCertificate: "/etc/ssl/pg-root.crt"))
        #expect(
            try PostgresURL("postgresql://u@db.example/fc?sslmode=disable", environment: environment).tls == .disable)
        let bad = try #require(throws: PostgresURLError.self) {
            try PostgresURL("postgresql://u@db.example/fc", environment: ["USER": "x", "PGSSLMODE": "on"])
        }
        #expect(bad.description.contains("sslmode=on is none of"))
    }

    @Test("application_name and connect_timeout are taken, not dropped; connect_timeout is 10 s when absent")
    func connectionParameters() throws {
        let url = try PostgresURL(
            "postgresql://u@h/db?application_name=firstcontact-2&connect_timeout=3", environment: self.environment)
        #expect(url.applicationName == "firstcontact-2")
        #expect(url.connectTimeout == 3)
        let plain = try PostgresURL("postgresql://u@h/db", environment: self.environment)
        #expect(plain.applicationName == nil)
        #expect(plain.connectTimeout == 10)
    }

    @Test("only postgres:// and postgresql:// select PostgreSQL; every other --db is a SQLite path")
    func selection() {
        #expect(PostgresURL.isPostgres("postgres://u@h/db"))
        #expect(PostgresURL.isPostgres("postgresql://u@h/db"))
        #expect(!PostgresURL.isPostgres("firstcontact.sqlite"))
        #expect(!PostgresURL.isPostgres("./postgresql://odd-but-a-path"))
    }
}

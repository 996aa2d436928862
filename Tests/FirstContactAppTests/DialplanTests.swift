import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactIngest
import FirstContactStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `dialplans/` is configuration people copy onto their PBX: a URL there that the service does
/// not serve, or an XML file FreeSWITCH cannot load, fails silently on their machine. These
/// tests fail here instead.
@Suite("dialplans/")
struct DialplanTests {
    static let directory = Fixture.root.appendingPathComponent("dialplans")

    /// Every file under dialplans/, relative paths sorted.
    static func files() throws -> [String] {
        let walker = try #require(FileManager.default.enumerator(atPath: Self.directory.path))
        var files: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let full = Self.directory.appendingPathComponent(relative).path
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(relative)
            }
        }
        return files.sorted()
    }

    /// `http(s)://host[:port]/path` in `text`, for hosts that are the FirstContact service
    /// (the dialplans post only to it), with the path cut before `?`, quotes, spaces or markup.
    static func serviceURLs(in text: String) -> [(url: String, path: String)] {
        let pattern =
            #/https?://(?:[^@\s/"'<>]+@)?(?:127\.0\.0\.1|localhost|\[::1\]|firstcontact[\w.-]*)(?::\d+)?(/[^\s"'<>?,)]*)?/#
        return text.matches(of: pattern).map { match in
            (String(match.output.0), match.output.1.map(String.init) ?? "/")
        }
    }

    /// Whether `path` is served by `route` (`METHOD /v1/ingest/{format}`); returns the template's
    /// parameters bound to the path's segments.
    static func match(_ path: String, _ route: String) -> [String: String]? {
        guard let template = route.split(separator: " ", maxSplits: 1).last else { return nil }
        let want = template.split(separator: "/")
        let have = path.split(separator: "/")
        guard want.count == have.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(want, have) {
            if expected.hasPrefix("{") {
                parameters[String(expected.dropFirst().dropLast())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }

    @Test("every service URL in dialplans/ is a route the service serves, and an ingest URL names a format it accepts")
    func urlsAreServedRoutes() async throws {
        let engine = try Fixture.engine()
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let api = API(
            engine: engine, store: store,
            scheduler: ObligationScheduler(engine: engine, store: store, clock: ManualClock(now: Timestamp(seconds: 0)))
        )
        let routes = api.routes().served
        var checked = 0
        var formats: Set<InputFormat> = []
        for file in try Self.files() {
            let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
            for (url, path) in Self.serviceURLs(in: text) {
                checked += 1
                let matches = routes.compactMap { route in Self.match(path, route).map { (route, $0) } }
                #expect(
                    !matches.isEmpty,
                    "\(file): \(url) is not a route the service serves (\(routes.joined(separator: ", ")))")
                for (_, parameters) in matches {
                    guard let name = parameters["format"] else { continue }
                    let format = InputFormat(rawValue: name)
                    #expect(format != nil, "\(file): \(url) names no input format")
                    // Every format has a decoder (DecoderRegistry's switch is exhaustive).
                    guard let format else { continue }
                    formats.insert(format)
                }
            }
        }
        // The wiring the dialplans exist for: mod_xml_cdr's CDRs and the IVR events.
        #expect(formats.isSuperset(of: [.freeswitchXMLCDR, .ivrEvents]), "\(formats)")
        #expect(checked >= 5, "found \(checked) service URLs")
    }

    @Test("the URL scanner finds service URLs with credentials and ports, and ignores other hosts")
    func scannerFindsURLs() {
        let text = """
            <param name="url" value="http://127.0.0.1:8080/v1/ingest/freeswitch-xml-cdr"/>
            FC_URL=http://pbx:secret@localhost/v1/ingest/ivr-events?x=1
            see https://docs.asterisk.org/Configuration/ and curl http://127.0.0.1:8080/healthz
            """
        #expect(
            Self.serviceURLs(in: text).map(\.path) == [
                "/v1/ingest/freeswitch-xml-cdr", "/v1/ingest/ivr-events", "/healthz",
            ])
        #expect(Self.match("/v1/ingest/ivr-events", "POST /v1/ingest/{format}") == ["format": "ivr-events"])
        #expect(Self.match("/v1/ingest", "POST /v1/ingest/{format}") == nil)
    }

    /// Collects nothing: well-formedness is what `XMLReader` checks.
    final class Ignore: XMLContentHandler {
        var elements = 0
        func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) { self.elements += 1 }
        func endElement(_ name: String, text: [UInt8], depth: Int) {}
    }

    @Test("every XML file under dialplans/ is well-formed (read by the project's hardened XMLReader)")
    func xmlIsWellFormed() throws {
        let xmlFiles = try Self.files().filter { $0.hasSuffix(".xml") }
        #expect(xmlFiles.count >= 3, "\(xmlFiles)")
        for file in xmlFiles {
            let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(file)))
            let handler = Ignore()
            do {
                try XMLReader.read(bytes, limits: XMLLimits(), into: handler)
            } catch {
                Issue.record("\(file): \(error)")
            }
            #expect(handler.elements > 1, "\(file)")
        }
    }

    /// `${name}` and `${FUNC(arg)}` replaced from `values` (what the PBX would put there).
    static func expand(_ template: String, _ values: [String: String]) throws -> String {
        var text = template
        for (name, value) in values { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
        #expect(!text.contains("${"), "unexpanded variable in \(text)")
        return text
    }

    static func decodedIVR(_ body: String) -> [IVRRecord] {
        IVREventDecoder().decode(Array(body.utf8), position: SourcePosition(source: "dialplan", line: 1, offset: 0))
            .compactMap {
                if case .record(.ivr(let event)) = $0 { return event }
                return nil
            }
    }

    @Test(
        "the IVR events the dialplans post, with their variables filled in as the PBX would, are accepted by the ivr-events decoder"
    )
    func ivrPostsDecode() throws {
        // Asterisk: the one CURL() template of the firstcontact-ivr-event subroutine, with each extra attribute set used by its callers.
        let asterisk = try String(
            contentsOf: Self.directory.appendingPathComponent("asterisk/extensions.conf"), encoding: .utf8)
        let curl = try #require(asterisk.split(separator: "\n").first { $0.contains("${CURL(${FC_URL},") })
        let template = String(
            try #require(curl.components(separatedBy: "${CURL(${FC_URL},").last?.components(separatedBy: ")})").first))
        let extras = asterisk.split(separator: "\n").filter { !$0.hasPrefix(";") }.compactMap {
            line -> (String, String)? in
            guard let call = line.components(separatedBy: "Gosub(firstcontact-ivr-event,s,1(").dropFirst().first else {
                return nil
            }
            let arguments = call.components(separatedBy: "))").first ?? ""
            let parts = arguments.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        #expect(Set(extras.map(\.0)) == ["menu-choice", "callback-request", "menu-hangup", "voicemail"])
        for (kind, extra) in extras {
            let filledExtra = extra.replacingOccurrences(of: "${CHOICE}", with: "2")
                .replacingOccurrences(of: "${FILTER(0-9,${CBNUM})}", with: "13912345678")
            let body = try Self.expand(
                template,
                [
                    "FC_NS": "urn:firstcontact:ivr-events:1", "ARG1": kind, "FC_AT": "2026-11-27T02:00:05Z",
                    "CALLERID(num)": "13800004444", "CHANNEL(linkedid)": "1795744800.31", "ARG2": filledExtra,
                ])
            let events = Self.decodedIVR(body)
            #expect(events.count == 1, "\(kind): \(body)")
            #expect(events.first?.kindName == kind)
            #expect(events.first?.time.iso8601 == "2026-11-27T02:00:05Z")
        }

        // FreeSWITCH: every curl action's post data (percent-encoded XML) with the channel variables filled in.
        let hotline = try String(
            contentsOf: Self.directory.appendingPathComponent("freeswitch/dialplan/hotline.xml"), encoding: .utf8)
        let posts = hotline.components(separatedBy: "application=\"curl\" data=\"").dropFirst()
            .compactMap { $0.prefix { $0 != "\"" }.components(separatedBy: " post ").dropFirst().first }
        #expect(posts.count >= 3)
        for post in posts {
            let body = try Self.expand(
                post,
                [
                    "fc_ns": "urn:firstcontact:ivr-events:1", "fc_at": "2026-11-27T02:00:05Z",
                    "caller_id_number": "13800004444",
                    "fc_choice": "1", "fc_number": "13912345678", "uuid": "a0b1c2d3-0000-4000-8000-000000000001",
                ])
            #expect(Self.decodedIVR(body).count == 1, "\(body)")
        }
    }

    /// The query items of a route URL a dialplan writes that do not depend on the call (`caller`
    /// and `did` are filled in by the PBX).
    static func fixedQuery(_ url: String) -> String {
        let query = url.split(separator: "?", maxSplits: 1).last.map(String.init) ?? ""
        return query.split(separator: "&").filter { !$0.contains("$") && !$0.hasPrefix("caller=") }
            .joined(separator: "&")
    }

    /// The first capture of `pattern` matched at the start of `text` (how Asterisk's `:` and a
    /// FreeSWITCH condition read the answer), all captures.
    static func captures(_ pattern: String, in text: String, anchored: Bool) throws -> [String]? {
        let expression = try NSRegularExpression(
            pattern: anchored ? "^(?:" + pattern + ")" : pattern, options: [.dotMatchesLineSeparators])
        guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else {
            return nil
        }
        return (1..<match.numberOfRanges).map { index in
            Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
        }
    }

    @Test(
        "each dialplan's route lookup asks GET /v1/route for key=value lines, and its parsing of a real answer yields route=agent, the agent's device for that PBX and ring_first"
    )
    func routeLookupsReadTheAnswer() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 赵六's missed direct dial: 1002 owes the callback; 1002 also has a SIP device for Kamailio.
        let (app, _) = try await RouteTests.app(in: directory) { configuration in
            for index in configuration.agents.indices where configuration.agents[index].id == AgentID("1002") {
                configuration.agents[index].devices.append("sip:1002@10.0.0.5")
            }
        }
        func answer(_ query: String) async throws -> String {
            #expect(query.contains("format=text"), "\(query)")
            return try await app.test(.router) { client in
                try await client.execute(
                    uri: "/v1/route?\(query)&caller=13800005555", method: .get, headers: APITests.pbx
                ) { response in
                    #expect(response.status == .ok, "\(query)")
                    return String(buffer: response.body)
                }
            }
        }
        func read(_ name: String) throws -> String {
            try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        }

        // Asterisk: FC_ROUTE_URL, then $["${FC_ROUTE_ANSWER}" : "regex"] for each variable.
        let asterisk = try read("asterisk/extensions.conf")
        let asteriskURL = try #require(
            asterisk.split(separator: "\n").first { $0.hasPrefix("FC_ROUTE_URL=") }?.dropFirst("FC_ROUTE_URL=".count))
        let asteriskAnswer = try await answer(Self.fixedQuery(String(asteriskURL)))
        var parsed: [String: String] = [:]
        for line in asterisk.split(separator: "\n") where line.contains("$[\"${FC_ROUTE_ANSWER}\" : \"") {
            let name = try #require(line.components(separatedBy: "Set(").last?.components(separatedBy: "=").first)
            let pattern = try #require(
                line.components(separatedBy: " : \"").last?.components(separatedBy: "\"]").first)
            parsed[name] = try Self.captures(pattern, in: asteriskAnswer, anchored: true)?.first
        }
        #expect(parsed == ["FC_ROUTE": "agent", "FC_DEVICE": "PJSIP/1002", "FC_RING_FIRST": "15"], "\(asteriskAnswer)")
        #expect(asterisk.contains("Dial(${FC_DEVICE},${FC_RING_FIRST})"))
        #expect(asterisk.contains("Gosub(firstcontact-route,s,1("))

        // FreeSWITCH: the curl GET, then the condition on ${curl_response_data}: $1 device, $2 ring_first.
        let freeswitch = try read("freeswitch/dialplan/hotline.xml").replacingOccurrences(of: "&amp;", with: "&")
        let freeswitchURL = try #require(
            freeswitch.components(separatedBy: "application=\"curl\" data=\"").dropFirst()
                .map { String($0.prefix { $0 != "\"" }) }.first { $0.contains("/v1/route?") })
        let freeswitchAnswer = try await answer(Self.fixedQuery(freeswitchURL))
        let condition = try #require(
            freeswitch.components(separatedBy: "field=\"${curl_response_data}\" expression=\"").dropFirst().first
                .map { String($0.prefix { $0 != "\"" }) })
        let captured = try Self.captures(condition, in: freeswitchAnswer, anchored: false)
        #expect(captured == ["user/1002", "15"], "\(freeswitchAnswer)")
        #expect(freeswitch.contains("<action application=\"bridge\" data=\"$1\"/>"))
        #expect(freeswitch.contains("continue_on_fail=true"))
        #expect(freeswitch.contains("<action application=\"callcenter\" data=\"hotline@default\"/>"))

        // Kamailio: the default route URL and each {line.sw,KEY=}{s.substr,N,0}.
        let kamailio = try read("kamailio/firstcontact-route.cfg")
        let kamailioURL = try #require(
            kamailio.components(separatedBy: "#!define FIRSTCONTACT_ROUTE_URL \"").dropFirst().first
                .map { String($0.prefix { $0 != "\"" }) })
        let kamailioAnswer = try await answer(Self.fixedQuery(kamailioURL))
        let lines = kamailioAnswer.split(separator: "\n").map(String.init)
        var read: [String: String] = [:]
        for part in kamailio.components(separatedBy: "{line.sw,").dropFirst() {
            let key = try #require(part.components(separatedBy: "}").first)
            let skip = try #require(
                Int(
                    part.components(separatedBy: "{s.substr,").dropFirst().first?.components(separatedBy: ",").first
                        ?? ""))
            #expect(skip == key.count, "\(key) is cut after \(skip) characters")
            read[key] = lines.first { $0.hasPrefix(key) }.map { String($0.dropFirst(skip)) }
        }
        #expect(read == ["route=": "agent", "device=": "sip:1002@10.0.0.5", "ring_first=": "15"], "\(kamailioAnswer)")
        #expect(kamailio.contains("http_client_query("))
        #expect(kamailio.contains("t_on_failure(\"FIRSTCONTACT_ROUTE_FAILED\")"))
    }

    /// Kamailio's module folder when Kamailio and its http_client module are installed here.
    static let kamailioModules = ["/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules"].first {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/kamailio")
            && FileManager.default.fileExists(atPath: "\($0)/http_client.so")
    }

    @Test(
        "firstcontact-route.cfg passes Kamailio's own config check inside a minimal request route",
        .enabled(
            if: Self.kamailioModules != nil, "kamailio with http_client (kamailio-utils-modules) is not installed"),
        .timeLimit(.scaled(minutes: 1)))
    func kamailioRouteConfigChecks() throws {
        let modules = try #require(Self.kamailioModules)
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: Self.directory.appendingPathComponent("kamailio/firstcontact-route.cfg"),
            to: directory.appendingPathComponent("firstcontact-route.cfg"))
        let config = """
            #!KAMAILIO
            mpath="\(modules)/"
            loadmodule "tm.so"
            loadmodule "sl.so"
            loadmodule "pv.so"
            loadmodule "textops.so"
            loadmodule "textopsx.so"
            loadmodule "siputils.so"
            loadmodule "xlog.so"
            include_file "firstcontact-route.cfg"
            request_route {
            \tif (is_method("INVITE") && !has_totag()) {
            \t\troute(FIRSTCONTACT_ROUTE);
            \t}
            \tt_relay();
            }

            """
        let path = directory.appendingPathComponent("kamailio.cfg")
        try config.write(to: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/kamailio")
        process.arguments = ["-c", "-f", path.path]
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(!output.contains("ERROR"), "\(output)")
    }
}

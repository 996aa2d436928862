import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactSimulator
import FirstContactStore
import Foundation
import Testing

/// An export with what only names the PBX's own call identifiers taken out: the call keys
/// (`calls`, `first_responder.call`) and the ids derived from them — a withheld caller's
/// contact id embeds its first call's key (`withheld:<call key>`), so those contacts, their
/// obligations and violations are renamed after their first obligation's creation time.
/// Everything else — customers, times to the second, agents, states, first responders,
/// obligations, violations — is kept, in a stable order.
private func comparable(_ json: String) throws -> [String: Any] {
    var document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    var contacts = try #require(document["contacts"] as? [[String: Any]])
    var renamed: [String: String] = [:]
    for (index, contact) in contacts.enumerated() {
        var contact = contact
        contact["calls"] = nil
        if var responder = contact["first_responder"] as? [String: Any] {
            responder["call"] = nil
            contact["first_responder"] = responder
        }
        let id = try #require(contact["id"] as? String)
        if contact["customer"] as? String == "withheld" {
            let obligations = contact["obligations"] as? [[String: Any]] ?? []
            let created = obligations.first?["created_at"] as? String ?? "none"
            renamed[id] = "withheld@\(created)#\(obligations.count)"
        }
        contacts[index] = contact
    }
    func rename(_ value: Any?) -> Any? {
        guard let text = value as? String else { return value }
        for (old, new) in renamed where text.hasPrefix(old) { return new + text.dropFirst(old.count) }
        return text
    }
    contacts = contacts.map { contact in
        var contact = contact
        contact["id"] = rename(contact["id"])
        contact["repeat_of"] = rename(contact["repeat_of"])
        contact["obligations"] = (contact["obligations"] as? [[String: Any]])?.map { obligation in
            var obligation = obligation
            obligation["id"] = rename(obligation["id"])
            return obligation
        }
        return contact
    }
    document["contacts"] = contacts.sorted { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
    let violations = (document["violations"] as? [[String: Any]] ?? []).map { violation in
        var violation = violation
        for field in ["id", "contact", "obligation"] { violation[field] = rename(violation[field]) }
        return violation
    }
    document["violations"] = violations.sorted { ($0["id"] as? String ?? "") < ($1["id"] as? String ?? "") }
    return document
}

private func same(_ a: [String: Any], _ b: [String: Any]) -> Bool {
    NSDictionary(dictionary: a).isEqual(to: b)
}

@Suite("Cross-format equivalence: one simulated day through Asterisk and through FreeSWITCH")
struct CrossFormatTests {
    @Test(
        "the same stories written as Asterisk files and as FreeSWITCH CDRs + events, each with the IVR's events, derive the same export, equal to expected.json"
    )
    func asteriskAndFreeSWITCHAgree() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let day = directory.appendingPathComponent("day")
        let summary = try Simulator(configuration: engine.configuration).run(
            seed: 20_261_127, calls: 300, date: CivilDate(year: 2026, month: 11, day: 27), outputDirectory: day.path)
        #expect(summary.freeswitchDocuments > summary.calls)  // A-legs and agent/outbound legs
        #expect(summary.freeswitchEvents > 0)
        // Every kind of story is in the day, so every shape of call is compared.
        #expect(summary.storyKinds.count >= 15)
        #expect(summary.storyKinds["ivrCallback"] ?? 0 > 0)

        let (asterisk, asteriskSummary) = try await Fixture.export(
            ingesting: [[day.appendingPathComponent("asterisk").path, day.appendingPathComponent("ivr").path]],
            into: try directory.appendingPathComponent("a", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, engine: engine)
        let (freeswitch, freeswitchSummary) = try await Fixture.export(
            ingesting: [[day.appendingPathComponent("freeswitch").path, day.appendingPathComponent("ivr").path]],
            into: try directory.appendingPathComponent("f", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, engine: engine)
        #expect(asteriskSummary?.batches.rejects == 0)
        #expect(freeswitchSummary?.batches.rejects == 0)
        #expect(freeswitchSummary?.files.filter { $0.format == .freeswitchEvents }.count == 1)
        #expect(freeswitchSummary?.files.filter { $0.format == .freeswitchXMLCDR }.count == summary.freeswitchDocuments)
        let expected = try String(contentsOf: day.appendingPathComponent("expected.json"), encoding: .utf8)

        let reference = try comparable(expected)
        let fromAsterisk = try comparable(asterisk)
        let fromFreeSWITCH = try comparable(freeswitch)
        #expect((reference["contacts"] as? [Any])?.count == summary.contacts)
        #expect((reference["violations"] as? [Any])?.count == summary.violations)
        #expect(same(fromAsterisk, reference))
        #expect(same(fromFreeSWITCH, reference))
        // The Asterisk side is byte-equal (its call keys are the stories' keys).
        #expect(asterisk == expected)
        if !same(fromFreeSWITCH, reference) {
            // Name the first contacts that differ, to make a failure readable.
            let mine = (fromFreeSWITCH["contacts"] as? [[String: Any]]) ?? []
            let theirs = (reference["contacts"] as? [[String: Any]]) ?? []
            for (a, b) in zip(mine, theirs).filter({ !NSDictionary(dictionary: $0).isEqual(to: $1) }).prefix(3) {
                Issue.record("FreeSWITCH \(a) ≠ expected \(b)")
            }
        }
    }

    @Test(
        "the same stories written as Asterisk CEL (cel-custom/Master.csv) + queue_log derive the same export as the CDRs + queue_log, equal to expected.json"
    )
    func celAndCDRAgree() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let day = directory.appendingPathComponent("day")
        let summary = try Simulator(configuration: engine.configuration).run(
            seed: 20_261_127, calls: 300, date: CivilDate(year: 2026, month: 11, day: 27), outputDirectory: day.path,
            formats: [.asterisk, .asteriskCEL, .ivr])
        #expect(summary.celRows > summary.cdrRows)
        #expect(summary.storyKinds.count >= 15)
        let asterisk = day.appendingPathComponent("asterisk")
        let queueLog = asterisk.appendingPathComponent("queue_log").path
        let ivr = day.appendingPathComponent("ivr").path

        let (cdr, _) = try await Fixture.export(
            ingesting: [[asterisk.appendingPathComponent("Master.csv").path, queueLog, ivr]],
            into: try directory.appendingPathComponent("cdr", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, engine: engine)
        let (cel, celSummary) = try await Fixture.export(
            ingesting: [[asterisk.appendingPathComponent("cel-custom/Master.csv").path, queueLog, ivr]],
            into: try directory.appendingPathComponent("cel", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, engine: engine)
        #expect(celSummary?.batches.rejects == 0)
        #expect(celSummary?.files.filter { $0.format == .asteriskCEL }.count == 1)
        let expected = try String(contentsOf: day.appendingPathComponent("expected.json"), encoding: .utf8)
        #expect(cdr == expected)
        // The linkedid is the story's key in both, so the CEL export is byte-equal too.
        #expect(cel == expected)
        if cel != expected {
            let mine = (try comparable(cel)["contacts"] as? [[String: Any]]) ?? []
            let theirs = (try comparable(expected)["contacts"] as? [[String: Any]]) ?? []
            for (a, b) in zip(mine, theirs).filter({ !NSDictionary(dictionary: $0).isEqual(to: $1) }).prefix(3) {
                Issue.record("CEL \(a) ≠ expected \(b)")
            }
        }

        // The whole Asterisk folder at once (CDRs and CEL of the same calls): each call counted once.
        let (both, _) = try await Fixture.export(
            ingesting: [[asterisk.path, ivr]],
            into: try directory.appendingPathComponent("both", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, engine: engine)
        #expect(both == expected)
    }

    @Test("the FreeSWITCH output is deterministic from the seed and re-ingesting it changes nothing")
    func deterministicAndIdempotent() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        var listings: [[String: Data]] = []
        for run in ["one", "two"] {
            let day = directory.appendingPathComponent(run)
            _ = try Simulator(configuration: engine.configuration).run(
                seed: 5, calls: 40, date: CivilDate(year: 2026, month: 11, day: 27), outputDirectory: day.path,
                formats: [.freeswitch])
            let folder = day.appendingPathComponent("freeswitch")
            var files: [String: Data] = [:]
            for name in try FileManager.default.subpathsOfDirectory(atPath: folder.path) where name.hasSuffix(".xml") {
                files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
            }
            listings.append(files)
        }
        #expect(listings[0] == listings[1])
        #expect(listings[0].keys.contains("events.xml"))
        #expect(listings[0].keys.filter { $0.hasPrefix("xml_cdr/") && $0.hasSuffix(".cdr.xml") }.count > 40)

        let store = directory.appendingPathComponent("store", isDirectory: true)
        let folder = directory.appendingPathComponent("one/freeswitch").path
        let (once, first) = try await Fixture.export(
            ingesting: [[folder]], into: try store.creatingDirectory(), engine: engine)
        let (twice, second) = try await Fixture.export(ingesting: [[folder]], into: store, engine: engine)
        #expect(first?.batches.newRecords ?? 0 > 0)
        #expect(second?.batches.newRecords == 0)
        #expect(once == twice)
    }
}

/// Joins the two halves of Asterisk Local channels into the call they belong to, for CDR files
/// that have no `linkedid` (the 16- and 18-column layouts).
///
/// A queue whose members are `Local/1001@agents` (or a follow-me) makes Asterisk write the
/// caller's row, bridged to `Local/1001@agents-00000001;1`, and a row of the `;2` half, with a
/// uniqueid of its own, dialling the member's phone (`dstchannel=PJSIP/1001-…`). Without a
/// linkedid they land under different call keys, and the `;2` row alone looks like the caller
/// dialling extension 1001: a second call, answered or missed, next to the real one. Every row
/// carries the caller's number, so both calls are among one customer's; this puts the `;2` rows
/// back into the caller's call: by the Local channel's name (`…;2` ↔ the `…;1` a row of the call
/// was bridged to; Asterisk 1.4 writes `,1`/`,2`) within the call's time, else, for the members
/// that rang and were not bridged (no row names their `;1`), by time inside a call of this
/// customer that was bridged to a Local channel or ran a queue.
package enum LocalChannelJoin {
    /// Seconds a `;2` row may start before or end after the call it joins (whole-second CDR times).
    static let slack: Int64 = 2

    /// - Parameter groups: one customer's records by call key, in key order.
    /// - Returns: the same records, the `;2`-only groups moved into the calls they belong to.
    package static func join(_ groups: [(CallKey, [CallRecord])]) -> [(CallKey, [CallRecord])] {
        let halves = groups.indices.filter { Self.isSecondHalfOnly(groups[$0].1) }
        guard !halves.isEmpty else { return groups }
        let hosts = groups.indices.filter { !halves.contains($0) }
        var target: [Int: Int] = [:]
        for half in halves {
            let legs = Self.legs(groups[half].1)
            guard let start = legs.map(\.start).min(), let end = legs.map(\.end).max() else { continue }
            let names = Set(legs.compactMap { Self.localBase($0.channel, half: "2") })
            func within(_ host: Int) -> Bool {
                let hostLegs = Self.legs(groups[host].1)
                guard let from = hostLegs.map(\.start).min(), let until = hostLegs.map(\.end).max() else {
                    return false
                }
                return start + Self.slack >= from && end <= until + Self.slack
            }
            let byName = hosts.first { host in
                within(host)
                    && Self.legs(groups[host].1).contains {
                        Self.localBase($0.peerChannel, half: "1").map(names.contains) == true
                    }
            }
            let byTime = hosts.first { host in
                within(host)
                    && Self.legs(groups[host].1).contains {
                        Self.localBase($0.peerChannel, half: "1") != nil || CallAssembler.isQueueLeg($0)
                    }
            }
            if let host = byName ?? byTime { target[half] = host }
        }
        var joined = groups
        for (half, host) in target { joined[host].1 += groups[half].1 }
        return joined.indices.filter { target[$0] == nil }.map { joined[$0] }
    }

    private static func legs(_ records: [CallRecord]) -> [LegRecord] {
        records.compactMap { if case .leg(let leg) = $0 { leg } else { nil } }
    }

    /// Only legs, each of them the second half of a Local channel.
    private static func isSecondHalfOnly(_ records: [CallRecord]) -> Bool {
        !records.isEmpty
            && records.allSatisfy { record in
                if case .leg(let leg) = record { return Self.localBase(leg.channel, half: "2") != nil }
                return false
            }
    }

    /// `Local/1001@agents-00000001;2` → `local/1001@agents-00000001` when it is that half.
    static func localBase(_ channel: String, half: Character) -> String? {
        // The cheap test first: it runs on every call of every customer derived.
        guard channel.last == half else { return nil }
        let name = channel.dropLast()
        guard name.last == ";" || name.last == ",", CallAssembler.isLocal(channel) else { return nil }
        return name.dropLast().lowercased()
    }
}

extension CallAssembler {
    /// One customer's calls from their records by call key (Local channel halves joined first).
    package func assembleCalls(_ groups: [(CallKey, [CallRecord])]) -> [Call] {
        LocalChannelJoin.join(groups).compactMap { self.assemble($0.0, records: $0.1) }
    }
}

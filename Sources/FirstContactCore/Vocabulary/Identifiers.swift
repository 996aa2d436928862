/// Typed identifiers: an agent id is never confused with a department id or a call key.
package struct AgentID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }
}

package struct DepartmentID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }
}

/// The PBX's key for one call: Asterisk `linkedid` (or the caller's `uniqueid`), FreeSWITCH a-leg UUID.
package struct CallKey: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }
}

package struct ContactID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }

    /// The id of the contact a customer opened at `start`: stable across re-imports and PBX
    /// formats (it depends on the customer and the time, never on insertion order or call keys).
    package static func derived(customerKey: String, openedAt start: Timestamp) -> ContactID {
        ContactID("C\(StableHash.hex("\(customerKey)|\(start.seconds)"))")
    }
}

package struct ObligationID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }

    /// The id of an obligation: `cb-` / `ho-` and a hash of the customer, the kind, when it was
    /// created (the missed call's end, the transferring call's end, the registration by hand)
    /// and, for a hand-off, the receiving department. It names neither the contact nor a count
    /// nor a PBX's call key, so records arriving later (an earlier missed call, a call that now
    /// opens the contact) never move an id, the same day through any PBX gives the same ids, and
    /// acknowledgements and reviews stored against an id stay on it. `ordinal` tells apart two
    /// obligations that would otherwise share all of these (two transfers of one call to the
    /// same department).
    package static func derived(
        customerKey: String, kind: ObligationKind, createdAt: Timestamp, to department: DepartmentID? = nil,
        ordinal: Int = 1
    ) -> ObligationID {
        let prefix = kind == .callback ? "cb" : "ho"
        let source = "\(customerKey)|\(kind.rawValue)|\(createdAt.seconds)|\(department?.rawValue ?? "")|\(ordinal)"
        return ObligationID("\(prefix)-\(StableHash.hex(source))")
    }
}

package struct ViolationID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package init(_ rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }
}

/// Stable short hashes for identifiers and idempotency keys (FNV-1a, 64 bit).
///
/// Not cryptographic: ids and record keys only need to be stable and practically collision-free
/// (a million records give a collision chance near 3e-8), and hashing every ingested line must
/// stay cheap.
package enum StableHash {
    package static func fnv1a64<C: Sequence>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The same hash over contiguous bytes. Concrete on purpose: generic code called from
    /// another module is not specialised, and hashing every ingested line through the generic
    /// version made decoding about 2× slower (500k-row decode benchmark, release build).
    package static func fnv1a64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBufferPointer { buffer in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in buffer {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            return hash
        }
    }

    package static func fnv1a64(_ bytes: [UInt8]) -> UInt64 { self.fnv1a64(bytes[...]) }

    /// 16 lower-case hex digits.
    package static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    package static func hex(_ text: String) -> String { self.hex(self.fnv1a64(text.utf8)) }
}

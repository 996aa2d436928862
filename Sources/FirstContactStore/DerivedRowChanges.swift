import FirstContactCore

/// Which of a derivation's rows differ from those the store holds, told by digests of the rows
/// the last derivation wrote (kept in its resume point) rather than by reading them.
///
/// A contact that never settles (a customer who calls every weekday and has a breached hand-off
/// a day: a breached obligation stays owed, so the contact never auto-closes) carried every one
/// of its 25–29 obligations through each derivation: each was read into the previous
/// conclusions and upserted again, unchanged, and a day's ingest grew with the days stored
/// (history benchmark, day 30: 772 of 3,769 samples). Reading the stored rows to compare them
/// cost what skipping their writes saved.
///
/// Why it holds: the rows after the settled past are exactly the rows the last derivation wrote
/// for the contacts its resume point carries (both stop at the same settled past; retention purges
/// only settled contacts, and a point that no longer holds is dropped with its digests); a row
/// whose digest is unchanged is byte for byte the row stored, and an unchanged row announces
/// nothing new (``DerivationChanges`` compares only what the row stores).
package struct DerivedRowChanges: Sendable {
    /// The derivation with only what changed: the contacts whose row, violations or an obligation
    /// changed (each with only its changed obligations), and the violations of the contacts whose
    /// violations changed. What the store compares, writes and counts.
    package var changed: Derivation
    /// Contacts of `changed` whose own row is written.
    package var contactRows: Set<ContactID> = []
    /// Stored obligations that changed or are no longer derived: their previous conclusions are read.
    package var storedObligations: [ObligationID] = []
    /// Stored contacts whose violations changed or that are no longer derived: their stored
    /// violations are read.
    package var storedViolationsOf: [ContactID] = []
    /// Stored contacts whose row changed or that are no longer derived (whether each had a first
    /// responder is read).
    package var storedContacts: [ContactID] = []
    /// Every stored contact after the settled past.
    package var allStoredContacts: [String] = []
    /// Contacts of `changed` whose row is unchanged, with whether it has a first responder.
    package var unchangedFirstResponders: [String: Bool] = [:]

    /// Takes the digests of `derivation`'s rows into its resume point, and compares them with
    /// those of `stored`, the point the store held (which describes the rows the store holds).
    /// - Returns: nil when `stored` has no digests (every row is then read and written).
    package static func compare(
        _ derivation: inout Derivation, customer: String, stored: ResumePoint?
    ) -> DerivedRowChanges? {
        let comparable = !(stored?.rowDigests.isEmpty ?? true)
        // Most customers keep no point (a single call): nothing to take or compare.
        guard comparable || derivation.resume != nil else { return nil }
        let violations = Dictionary(grouping: derivation.violations, by: \.contact)
        var digests: [ContactID: [UInt64]] = [:]
        for contact in derivation.contacts {
            digests[contact.id] = Self.digests(contact, violations: violations[contact.id] ?? [], customer: customer)
        }
        if var point = derivation.resume {
            point.rowDigests = Self.digests(in: point, of: derivation.contacts, digests) ?? []
            derivation.resume = point
        }
        guard comparable, let stored,
            stored.rowDigests.count == stored.contacts.reduce(0, { $0 + 2 + $1.obligations.count })
        else { return nil }

        var storedContact: [ContactID: (row: UInt64, violations: UInt64)] = [:]
        var storedObligation: [ObligationID: UInt64] = [:]
        var index = 0
        for contact in stored.contacts {
            storedContact[contact.id] = (stored.rowDigests[index], stored.rowDigests[index + 1])
            index += 2
            for obligation in contact.obligations {
                storedObligation[obligation.id] = stored.rowDigests[index]
                index += 1
            }
        }

        var changed = derivation
        changed.contacts = []
        changed.violations = []
        var changes = DerivedRowChanges(changed: changed)
        changes.allStoredContacts = stored.contacts.map(\.id.rawValue)
        var violationsChanged: Set<ContactID> = []
        var derivedObligations: Set<ObligationID> = []
        for contact in derivation.contacts {
            guard let now = digests[contact.id] else { continue }
            let before = storedContact[contact.id]
            var changedContact = contact
            changedContact.obligations = []
            for (offset, obligation) in contact.obligations.enumerated() {
                derivedObligations.insert(obligation.id)
                let was = storedObligation[obligation.id]
                guard was != now[2 + offset] else { continue }
                changedContact.obligations.append(obligation)
                if was != nil { changes.storedObligations.append(obligation.id) }
            }
            let rowChanged = before?.row != now[0]
            if before?.violations != now[1] {
                violationsChanged.insert(contact.id)
                if before != nil { changes.storedViolationsOf.append(contact.id) }
            }
            guard rowChanged || violationsChanged.contains(contact.id) || !changedContact.obligations.isEmpty else {
                continue
            }
            if rowChanged {
                changes.contactRows.insert(contact.id)
                if before != nil { changes.storedContacts.append(contact.id) }
            } else {
                changes.unchangedFirstResponders[contact.id.rawValue] = contact.firstResponder != nil
            }
            changes.changed.contacts.append(changedContact)
        }
        let derivedContacts = Set(derivation.contacts.map(\.id))
        for contact in stored.contacts where !derivedContacts.contains(contact.id) {
            changes.storedContacts.append(contact.id)
            changes.storedViolationsOf.append(contact.id)
        }
        changes.storedObligations += storedObligation.keys.filter { !derivedObligations.contains($0) }
        changes.changed.violations = derivation.violations.filter { violationsChanged.contains($0.contact) }
        return changes
    }

    /// `digests` (by contact, as ``digests(_:violations:customer:)`` orders them) in the order
    /// of `point`'s contacts and their obligations, matched by id; nil unless every row of those
    /// contacts has one and they have no obligation the point lacks (the digests would not then
    /// describe every stored row).
    static func digests(in point: ResumePoint, of contacts: [Contact], _ digests: [ContactID: [UInt64]])
        -> [UInt64]?
    {
        let derived = Dictionary(contacts.map { ($0.id, $0) }) { first, _ in first }
        var result: [UInt64] = []
        for contact in point.contacts {
            guard let now = digests[contact.id], let finished = derived[contact.id],
                finished.obligations.count == contact.obligations.count
            else { return nil }
            result += now.prefix(2)
            if zip(finished.obligations, contact.obligations).allSatisfy({ $0.id == $1.id }) {
                result += now.dropFirst(2)
                continue
            }
            let byID = Dictionary(zip(finished.obligations.map(\.id), now.dropFirst(2))) { first, _ in first }
            for obligation in contact.obligations {
                guard let digest = byID[obligation.id] else { return nil }
                result.append(digest)
            }
        }
        return result
    }

    /// A contact's row, its violations' rows together, then each obligation's row.
    static func digests(_ contact: Contact, violations: [Violation], customer: String) -> [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(2 + contact.obligations.count)
        var row = RowDigest()
        StoredRows.bind(contact, customer: customer, into: &row)
        result.append(row.value)
        var all = RowDigest()
        for violation in violations { StoredRows.bind(violation, customer: customer, into: &all) }
        result.append(all.value)
        for obligation in contact.obligations {
            var row = RowDigest()
            StoredRows.bind(obligation, contact: contact.id, customer: customer, into: &row)
            result.append(row.value)
        }
        return result
    }
}

/// FNV-1a (64 bits) of the values a row binds, each with a tag for its kind and, for text and
/// bytes, its length: fed by the same binds that write the row, so it covers exactly what the row
/// stores. Not cryptographic: it tells a derivation's own rows apart from their previous
/// versions, and a collision (one in 2^64 a row) would leave one row a derivation behind.
package struct RowDigest: RowBinder {
    package private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    private mutating func mix(_ byte: UInt8) {
        self.value = (self.value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }

    private mutating func mix64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { self.mix(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    private mutating func mixBytes(_ tag: UInt8, _ bytes: some Collection<UInt8>) {
        self.mix(tag)
        self.mix64(UInt64(bytes.count))
        for byte in bytes { self.mix(byte) }
    }

    package mutating func add(_ value: String) { self.mixBytes(1, value.utf8) }
    package mutating func add(_ value: String?) {
        guard let value else { return self.mix(0) }
        self.add(value)
    }
    package mutating func add(_ value: Int64) {
        self.mix(2)
        self.mix64(UInt64(bitPattern: value))
    }
    package mutating func add(_ value: Int64?) {
        guard let value else { return self.mix(0) }
        self.add(value)
    }
    package mutating func add(_ value: Int) { self.add(Int64(value)) }
    package mutating func add(_ value: Int?) { self.add(value.map(Int64.init)) }
    package mutating func add(_ value: Bool) { self.add(Int64(value ? 1 : 0)) }
    package mutating func add(_ value: [UInt8]) { self.mixBytes(3, value) }
    package mutating func add(_ value: [UInt8]?) {
        guard let value else { return self.mix(0) }
        self.add(value)
    }
}

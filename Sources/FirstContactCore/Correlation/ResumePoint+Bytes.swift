/// A resume point as the `customer` row keeps it: a compact byte string.
///
/// Written by hand, not through Codable: every derivation decodes one point and encodes the next,
/// and as JSON (Foundation's JSONEncoder/JSONDecoder) that was ≈ 200 µs a customer, 20 % of a
/// day's ingest CPU: more than walking the few calls it saved (history benchmark day 10, perf,
/// release build). The `why` trail is not kept: a derivation that explains never resumes.
extension ResumePoint {
    /// Bumped whenever the layout changes: a point of another layout is not read (the
    /// derivation then starts at the settled past).
    static let layout: UInt8 = 2

    package var bytes: [UInt8] {
        var out = ByteWriter()
        out.byte(Self.layout)
        out.time(self.before)
        out.time(self.walkedTo)
        out.string(self.rules)
        out.optional(self.open) { $0.int(Int64($1)) }
        out.array(self.contacts) { $0.contact($1) }
        out.array(self.violations) { $0.violation($1) }
        out.array(self.contacts.map(\.id)) { out, id in
            out.string(id.rawValue)
            out.optional(self.routed[id]) { $0.string($1.rawValue) }
            out.optional(self.bindingCallEnd[id]) { $0.time($1) }
            out.optional(self.departmentsLeft[id].map { $0.sorted() }) { out, left in
                out.array(left) { $0.string($1.rawValue) }
            }
            out.optional(self.transferCount[id]) { $0.int(Int64($1)) }
        }
        out.array(self.rowDigests) { $0.fixed64($1) }
        return out.bytes
    }

    /// The point `bytes` holds, or nil when they are not one this build wrote.
    package init?(bytes: [UInt8]) {
        var input = ByteReader(bytes)
        do {
            guard try input.byte() == Self.layout else { return nil }
            self.before = try input.time()
            self.walkedTo = try input.time()
            self.rules = try input.string()
            self.open = try input.optional { Int(try $0.int()) }
            self.contacts = try input.array { try $0.contact() }
            self.violations = try input.array { try $0.violation() }
            (self.routed, self.bindingCallEnd, self.departmentsLeft, self.transferCount) = ([:], [:], [:], [:])
            for _ in 0..<(try input.count()) {
                let id = ContactID(try input.string())
                self.routed[id] = try input.optional { DepartmentID(try $0.string()) }
                self.bindingCallEnd[id] = try input.optional { try $0.time() }
                self.departmentsLeft[id] = try input.optional { Set(try $0.array { DepartmentID(try $0.string()) }) }
                self.transferCount[id] = try input.optional { Int(try $0.int()) }
            }
            self.rowDigests = try input.array { try $0.fixed64() }
            // The walk indexes its contacts with `open`: one out of range would trap.
            guard input.atEnd, self.open.map({ self.contacts.indices.contains($0) }) ?? true else { return nil }
        } catch {
            return nil
        }
    }
}

/// Appends values: integers as zig-zag varints, strings as their length and UTF-8 bytes.
private struct ByteWriter {
    var bytes: [UInt8] = []

    init() { self.bytes.reserveCapacity(512) }

    mutating func byte(_ value: UInt8) { self.bytes.append(value) }

    mutating func int(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        self.bytes.append(UInt8(zigzag))
    }

    mutating func bool(_ value: Bool) { self.byte(value ? 1 : 0) }
    mutating func time(_ value: Timestamp) { self.int(value.seconds) }

    /// Eight bytes, little-endian: a digest's bits are random, as a varint it would take ten.
    mutating func fixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { self.bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func string(_ value: String) {
        self.int(Int64(value.utf8.count))
        self.bytes.append(contentsOf: value.utf8)
    }

    mutating func optional<T>(_ value: T?, _ write: (inout ByteWriter, T) -> Void) {
        guard let value else { return self.byte(0) }
        self.byte(1)
        write(&self, value)
    }

    mutating func array<T>(_ values: [T], _ write: (inout ByteWriter, T) -> Void) {
        self.int(Int64(values.count))
        for value in values { write(&self, value) }
    }

    mutating func contact(_ c: Contact) {
        self.string(c.id.rawValue)
        self.string(c.customer.text)
        self.string(c.customerRaw)
        self.string(c.channel.rawValue)
        self.optional(c.department) { $0.string($1.rawValue) }
        self.string(c.category.rawValue)
        self.string(c.status.rawValue)
        self.optional(c.repeatOf) { $0.string($1.rawValue) }
        self.optional(c.firstResponder) { out, responder in
            out.string(responder.agent.rawValue)
            out.time(responder.boundAt)
            out.string(responder.via.rawValue)
            out.optional(responder.call) { $0.string($1.rawValue) }
        }
        self.array(c.calls) { $0.string($1.rawValue) }
        self.array(c.obligations) { $0.obligation($1) }
        self.time(c.createdAt)
        self.array(c.ringNoAnswer) { $0.string($1.rawValue) }
        self.time(c.lastActivity)
        self.optional(c.closedAt) { $0.time($1) }
        self.optional(c.resolution) { out, resolution in
            out.string(resolution.kind.rawValue)
            out.time(resolution.at)
            out.string(resolution.by.rawValue)
            out.string(resolution.note)
            out.optional(resolution.referredTo) { $0.string($1) }
        }
    }

    mutating func obligation(_ o: Obligation) {
        self.string(o.id.rawValue)
        self.string(o.kind.rawValue)
        self.string(o.owner.department.rawValue)
        self.optional(o.owner.agent) { $0.string($1.rawValue) }
        self.time(o.createdAt)
        self.time(o.dueAt)
        self.optional(o.ackDueAt) { $0.time($1) }
        self.optional(o.acknowledgedAt) { $0.time($1) }
        switch o.standing {
        case .pending(let atRisk):
            self.byte(0)
            self.optional(atRisk) { out, risk in out.optional(risk.since) { $0.time($1) } }
        case .breached(let breach):
            self.byte(1)
            self.breach(breach)
        case .satisfied(let satisfaction):
            self.byte(2)
            self.satisfaction(satisfaction)
        case .satisfiedLate(let satisfaction, let breach):
            self.byte(3)
            self.satisfaction(satisfaction)
            self.optional(breach) { $0.breach($1) }
        case .exhausted:
            self.byte(4)
        case .cancelled:
            self.byte(5)
        }
        self.bool(o.uncertain)
        self.int(Int64(o.attempts))
        self.int(Int64(o.missedCount))
        self.string(o.call.rawValue)
        self.optional(o.registration) { out, registration in
            for field in [registration.unit, registration.name, registration.phone, registration.matter] {
                out.string(field)
            }
            out.string(registration.place)
        }
        self.optional(o.callbackNumber) { $0.string($1.text) }
    }

    mutating func breach(_ breach: Obligation.Breach) {
        self.time(breach.at)
        self.optional(breach.escalation) { out, escalation in
            out.int(Int64(escalation.level))
            out.optional(escalation.since) { $0.time($1) }
        }
    }

    mutating func satisfaction(_ satisfaction: Obligation.Satisfaction) {
        self.time(satisfaction.at)
        self.string(satisfaction.by.rawValue)
        self.string(satisfaction.via.rawValue)
    }

    mutating func violation(_ v: Violation) {
        self.string(v.id.rawValue)
        self.optional(v.obligation) { $0.string($1.rawValue) }
        self.string(v.contact.rawValue)
        self.string(v.category.rawValue)
        self.string(v.department.rawValue)
        self.optional(v.agent) { $0.string($1.rawValue) }
        self.time(v.at)
        self.optional(v.remediedAt) { $0.time($1) }
    }
}

/// Reads what ``ByteWriter`` wrote; every read past the end or of an unknown value throws.
private struct ByteReader {
    struct Malformed: Error {}

    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { self.index == self.bytes.count }

    mutating func byte() throws -> UInt8 {
        guard self.index < self.bytes.count else { throw Malformed() }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    mutating func int() throws -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.byte()
            guard shift < 64 else { throw Malformed() }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// A length or count: never negative, never more than the bytes left could hold.
    mutating func count() throws -> Int {
        let value = try self.int()
        guard value >= 0, value <= self.bytes.count - self.index else { throw Malformed() }
        return Int(value)
    }

    mutating func fixed64() throws -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(try self.byte()) << shift }
        return value
    }

    mutating func bool() throws -> Bool {
        switch try self.byte() {
        case 0: false
        case 1: true
        default: throw Malformed()
        }
    }

    mutating func time() throws -> Timestamp { Timestamp(seconds: try self.int()) }

    mutating func string() throws -> String {
        let length = try self.count()
        defer { self.index += length }
        return String(decoding: self.bytes[self.index..<self.index + length], as: UTF8.self)
    }

    mutating func raw<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try self.string()) else { throw Malformed() }
        return value
    }

    mutating func optional<T>(_ read: (inout ByteReader) throws -> T) throws -> T? {
        try self.bool() ? try read(&self) : nil
    }

    mutating func array<T>(_ read: (inout ByteReader) throws -> T) throws -> [T] {
        var values: [T] = []
        for _ in 0..<(try self.count()) { values.append(try read(&self)) }
        return values
    }

    mutating func contact() throws -> Contact {
        let id = ContactID(try self.string())
        let customer = CustomerNumber(text: try self.string())
        let customerRaw = try self.string()
        let channel = try self.raw(ContactChannel.self)
        let department = try self.optional { DepartmentID(try $0.string()) }
        var contact = Contact(
            id: id, customer: customer, customerRaw: customerRaw, channel: channel, department: department,
            category: try self.raw(ContactCategory.self), createdAt: .beforeAnyRecord)
        contact.status = try self.raw(ContactStatus.self)
        contact.repeatOf = try self.optional { ContactID(try $0.string()) }
        contact.firstResponder = try self.optional { input in
            FirstResponder(
                agent: AgentID(try input.string()), boundAt: try input.time(), via: try input.raw(BindingVia.self),
                call: try input.optional { CallKey(try $0.string()) })
        }
        contact.calls = try self.array { CallKey(try $0.string()) }
        contact.obligations = try self.array { try $0.obligation() }
        contact.createdAt = try self.time()
        contact.ringNoAnswer = try self.array { AgentID(try $0.string()) }
        contact.lastActivity = try self.time()
        contact.closedAt = try self.optional { try $0.time() }
        contact.resolution = try self.optional { input in
            Resolution(
                kind: try input.raw(Resolution.Kind.self), at: try input.time(), by: AgentID(try input.string()),
                note: try input.string(), referredTo: try input.optional { try $0.string() })
        }
        return contact
    }

    mutating func obligation() throws -> Obligation {
        let id = ObligationID(try self.string())
        let kind = try self.raw(ObligationKind.self)
        let owner = Owner(
            department: DepartmentID(try self.string()), agent: try self.optional { AgentID(try $0.string()) })
        var obligation = Obligation(
            id: id, kind: kind, owner: owner, createdAt: try self.time(), dueAt: try self.time(),
            ackDueAt: try self.optional { try $0.time() }, call: CallKey(""))
        obligation.acknowledgedAt = try self.optional { try $0.time() }
        switch try self.byte() {
        case 0:
            obligation.standing = .pending(
                atRisk: try self.optional { Obligation.AtRisk(since: try $0.optional { try $0.time() }) })
        case 1: obligation.standing = .breached(try self.breach())
        case 2: obligation.standing = .satisfied(try self.satisfaction())
        case 3:
            let satisfaction = try self.satisfaction()
            obligation.standing = .satisfiedLate(satisfaction, breach: try self.optional { try $0.breach() })
        case 4: obligation.standing = .exhausted
        case 5: obligation.standing = .cancelled
        default: throw Malformed()
        }
        obligation.uncertain = try self.bool()
        obligation.attempts = Int(try self.int())
        obligation.missedCount = Int(try self.int())
        obligation.call = CallKey(try self.string())
        obligation.registration = try self.optional { input in
            HandoffRegistration(
                unit: try input.string(), name: try input.string(), phone: try input.string(),
                matter: try input.string(), place: try input.string())
        }
        obligation.callbackNumber = try self.optional { CustomerNumber(text: try $0.string()) }
        return obligation
    }

    mutating func breach() throws -> Obligation.Breach {
        Obligation.Breach(
            at: try self.time(),
            escalation: try self.optional { input in
                Obligation.Escalation(level: Int(try input.int()), since: try input.optional { try $0.time() })
            })
    }

    mutating func satisfaction() throws -> Obligation.Satisfaction {
        Obligation.Satisfaction(
            at: try self.time(), by: AgentID(try self.string()), via: try self.raw(SatisfiedVia.self))
    }

    mutating func violation() throws -> Violation {
        var violation = Violation(
            id: ViolationID(try self.string()), obligation: try self.optional { ObligationID(try $0.string()) },
            contact: ContactID(try self.string()), category: try self.raw(ViolationCategory.self),
            department: DepartmentID(try self.string()), agent: try self.optional { AgentID(try $0.string()) },
            at: try self.time())
        violation.remediedAt = try self.optional { try $0.time() }
        return violation
    }
}

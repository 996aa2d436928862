/// Opening a contact for a call and attaching later calls to it (SPEC rule 1), with the
/// repeat-of link to the number's previous contact.
extension Correlator.Walk {
    mutating func openContact(for call: Call) -> Int {
        let id = ContactID.derived(customerKey: self.customerKey, openedAt: call.start)
        let answeringDepartment = call.answers.first.flatMap { self.directory.departmentOf($0.agent) }
        let directDepartment = call.directDialAgent.flatMap { self.directory.departmentOf($0) }
        let department = call.department ?? answeringDepartment ?? directDepartment ?? self.directory.fallbackDepartment
        let category = call.category ?? department.flatMap { self.directory.department($0)?.category } ?? .service
        var contact = Contact(
            id: id, customer: call.customer, customerRaw: call.customerRaw, channel: .phone,
            department: department, category: category, createdAt: call.start)
        contact.calls = [call.key]
        contact.ringNoAnswer = call.ringNoAnswer
        self.explain(
            self.contacts.count,
            WhyEntry(
                at: call.start, rule: .openContact,
                message:
                    "inbound call from \(call.customer.masked): new contact, department \(department?.rawValue ?? "none")",
                call: call.key, evidence: call.evidence))
        if let routed = call.department { self.routed[id] = routed }
        if let (previous, closed) = self.lastClosedContact(), call.start - closed <= self.policy.repeatWindow {
            contact.repeatOf = previous
            self.explain(
                self.contacts.count,
                WhyEntry(
                    at: call.start, rule: .repeatOf,
                    message:
                        "the number's last contact \(previous) closed \(closed), within repeat_window \(DurationSpec.text(self.policy.repeatWindow)): repeat",
                    call: call.key))
        }
        self.contacts.append(contact)
        self.open = self.contacts.count - 1
        return self.contacts.count - 1
    }

    /// The number's last contact and when it closed (or was resolved), looking into the settled
    /// past when this walk has no contact yet; nil while it is still open.
    func lastClosedContact() -> (ContactID, Timestamp)? {
        guard let previous = self.contacts.last else {
            return self.past?.last.map { ($0.id, $0.closedAt) }
        }
        return (previous.closedAt ?? previous.resolution?.at).map { (previous.id, $0) }
    }

    mutating func attach(_ index: Int, _ call: Call, reason: String) {
        if !self.contacts[index].calls.contains(call.key) { self.contacts[index].calls.append(call.key) }
        let known = Set(self.contacts[index].ringNoAnswer)
        self.contacts[index].ringNoAnswer += call.ringNoAnswer.filter { !known.contains($0) }
        if self.contacts[index].department == nil { self.contacts[index].department = call.department }
        self.note(index, call, .attach, reason)
    }

}

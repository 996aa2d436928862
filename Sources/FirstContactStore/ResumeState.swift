import FirstContactCore

/// A customer's ``ResumePoint`` as the store keeps it: `customer.resume_before` (epoch seconds) and
/// `customer_resume.state` (``ResumePoint/bytes``). Both stores read it through here.
package enum ResumeState {
    /// The point a row keeps, or nil when it keeps none or one this build cannot read (the
    /// derivation then starts at the settled past, as it would without one).
    package static func point(before: Int64?, bytes: [UInt8]?) -> ResumePoint? {
        guard let before, let bytes, let point = ResumePoint(bytes: bytes), point.before.seconds == before else {
            return nil
        }
        return point
    }
}

import FirstContactCore
import Foundation

/// A customer's ``ResumePoint`` as the `customer` row keeps it: `resume_before` (epoch seconds)
/// and `resume_state` (the point as JSON). Both stores read and write it through here.
package enum ResumeState {
    /// The JSON of `point`, or nil for none.
    package static func text(_ point: ResumePoint?) -> String? {
        // Sorted keys: the same point is the same text in every run.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let point, let data = try? encoder.encode(point) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The point a row keeps, or nil when it keeps none or one this version cannot read (the
    /// derivation then starts at the settled past, as it would without one).
    package static func point(before: Int64?, text: String?) -> ResumePoint? {
        guard let before, let text, let point = try? JSONDecoder().decode(ResumePoint.self, from: Data(text.utf8)),
            point.before.seconds == before
        else { return nil }
        return point
    }
}

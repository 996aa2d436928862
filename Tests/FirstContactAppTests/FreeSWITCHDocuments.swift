/// mod_xml_cdr documents as FreeSWITCH writes them (one channel each, `<variables>` URL-encoded,
/// the caller profile as it is), for tests that need a leg the simulator does not write.
enum FreeSWITCHDocuments {
    /// A caller profile: who called whom, on which channel.
    struct Profile {
        var uuid: String
        var number: String
        var destination: String
        var context: String
        var channel: String
    }

    /// One leg. `originator` is the A-leg's profile when this is a B-leg a `bridge` originated.
    static func leg(variables: [(String, String)], profile: Profile, originator: Profile? = nil) -> String {
        let fields = variables.map { "    <\($0.0)>\($0.1)</\($0.0)>" }.joined(separator: "\n")
        func tags(_ profile: Profile, indent: String) -> String {
            [
                ("caller_id_name", profile.number), ("caller_id_number", profile.number),
                ("destination_number", profile.destination), ("context", profile.context), ("uuid", profile.uuid),
                ("chan_name", profile.channel),
            ].map { "\(indent)<\($0.0)>\($0.1)</\($0.0)>" }.joined(separator: "\n")
        }
        let originatorXML =
            originator.map {
                """

                      <originator>
                        <originator_caller_profile>
                \(tags($0, indent: "          "))
                        </originator_caller_profile>
                      </originator>
                """
            } ?? ""
        return """
            <?xml version="1.0"?>
            <cdr core-uuid="core-1" switchname="pbx">
              <channel_data><state>CS_REPORTING</state></channel_data>
              <variables>
            \(fields)
              </variables>
              <callflow dialplan="XML" profile_index="1">
                <caller_profile>
            \(tags(profile, indent: "      "))\(originatorXML)
                </caller_profile>
              </callflow>
            </cdr>
            """
    }

    /// Microsecond epoch text of a time given in seconds.
    static func micro(_ seconds: Int64?) -> String { seconds.map { "\($0)000000" } ?? "0" }
}

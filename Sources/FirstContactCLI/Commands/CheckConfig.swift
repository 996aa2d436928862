import ArgumentParser
import FirstContactApp
import FirstContactCore
import FirstContactIngest

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration; every problem is reported with its line and key."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        do {
            let configuration = try ConfigurationLoader.load(path: self.global.config)
            let calendars = configuration.calendars.keys.sorted().joined(separator: ", ")
            print(
                "\(self.global.config): OK — \(configuration.departments.count) departments, \(configuration.agents.count) agents, calendars [\(calendars)], zone \(configuration.timezone.identifier)"
            )
        } catch let error as ConfigurationError {
            print(String(describing: error))
            throw ExitCode.failure
        }
    }
}

import ArgumentParser
import Service

/// The `vigia` command line: one executable, one subcommand per job.
@main
struct Vigia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigia",
        abstract: "Scores marketplace listings for prohibited items.",
        version: VigiaBuild.version,
        subcommands: VigiaBuild.subcommands
    )
}

/// What this binary was built with: the `Training` trait (the default) adds the commands that
/// make models; the serving build (`--disable-default-traits`, the container's) leaves them out.
enum VigiaBuild {
    #if Training
    static let version = VigiaVersion.current
    static let subcommands: [any ParsableCommand.Type] = [
        Serve.self, TrainCommand.self, EvaluateCommand.self, ValidateCommand.self, PredictCommand.self,
        ModelCardCommand.self, ConfigCommand.self, ConfigKeys.self,
    ]
    #else
    static let version = VigiaVersion.current + " (serving build)"
    static let subcommands: [any ParsableCommand.Type] = [
        Serve.self, NotInServingBuild<Train>.self, NotInServingBuild<Evaluate>.self, ValidateCommand.self,
        PredictCommand.self, NotInServingBuild<ModelCard>.self, ConfigCommand.self, ConfigKeys.self,
    ]
    #endif
}

#if !Training
/// The name of a command the serving build leaves out.
protocol OmittedCommand { static var name: String { get } }
enum Train: OmittedCommand { static let name = "train" }
enum Evaluate: OmittedCommand { static let name = "evaluate" }
enum ModelCard: OmittedCommand { static let name = "model-card" }

/// Stands in for a command of the full build, so that `vigia train …` on the serving build says
/// why it cannot, instead of "unknown subcommand", and exits 1 whatever its arguments.
struct NotInServingBuild<Command: OmittedCommand>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Command.name, abstract: "Not in the serving build (see vigia --version).",
                             shouldDisplay: false)
    }

    @Argument(parsing: .allUnrecognized)
    var arguments: [String] = []

    func run() throws {
        throw Console.fail("`vigia \(Command.name)` is not in this serving build (\(VigiaBuild.version)); "
            + "it needs the full build: swift build (the Training trait is on by default)")
    }
}
#endif

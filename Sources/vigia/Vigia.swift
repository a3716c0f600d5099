import ArgumentParser
import Service

/// The `vigia` command line: one executable, one subcommand per job.
@main
struct Vigia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigia",
        abstract: "Scores marketplace listings for prohibited items.",
        version: VigiaVersion.current,
        subcommands: [
            Serve.self, TrainCommand.self, EvaluateCommand.self, ValidateCommand.self, PredictCommand.self,
            ModelCardCommand.self, ConfigCommand.self, ConfigKeys.self,
        ]
    )
}

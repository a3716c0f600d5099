import ArgumentParser

/// The `vigia` command line: one executable, one subcommand per job.
@main
struct Vigia: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigia",
        abstract: "Scores marketplace listings for prohibited items.",
        subcommands: [
            Serve.self, TrainCommand.self, EvaluateCommand.self, ValidateCommand.self, PredictCommand.self,
            ModelCardCommand.self, ConfigKeys.self,
        ]
    )
}

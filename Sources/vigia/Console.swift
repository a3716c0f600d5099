import ArgumentParser
import FoundationEssentials
import Glibc
import Inference

/// Output helpers shared by the train/evaluate/validate/predict subcommands: results go to
/// stdout, progress and errors to stderr.
enum Console {
    /// A stdio stream on file descriptor 2 (Swift 6 rejects the mutable global `stderr`);
    /// stdio locks each call internally, so sharing it between threads is safe.
    nonisolated(unsafe) static let standardError = fdopen(2, "a")

    static func error(_ message: String) {
        fputs(message + "\n", standardError)
        fflush(standardError)
    }

    /// Writes `text` to stderr as is (no newline added), for redrawn progress lines.
    static func raw(_ text: String) {
        fputs(text, standardError)
        fflush(standardError)
    }

    /// Prints `error: message` to stderr and gives the failure exit code to throw.
    static func fail(_ message: String) -> ExitCode {
        error("error: " + message)
        return ExitCode.failure
    }

    /// Writes `bytes` to `path` (replacing it); a failure ends the command naming the file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw fail("cannot write \(path): \(error)")
        }
    }

    /// Loads a version directory exactly as the registry does; a problem ends the command
    /// with the precise error.
    static func loadModel(at directory: String) throws -> LoadedModel {
        do {
            return try LoadedModel.load(directory: directory)
        } catch {
            throw fail("\(directory): \(error)")
        }
    }
}

import Foundation

/// Executables the same build made, for tests that run them as child processes.
public enum BuiltProducts {
    /// The directory the test bundle was built into (`swift build --show-bin-path`, whatever
    /// the configuration or `--build-path`): SwiftPM puts every product of one build there.
    public static var binDirectory: URL {
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return running.deletingLastPathComponent()
    }

    /// The product `name` from the build that made this test bundle (`swift test` and
    /// `swift build --build-tests` build every product into the same directory, so a release
    /// or `--build-path` build never picks up another build's binary). Throws, naming the
    /// path, when it is missing.
    public static func executable(_ name: String) throws -> URL {
        let product = binDirectory.appending(path: name)
        guard FileManager.default.isExecutableFile(atPath: product.path) else {
            throw ClientError(description: "\(product.path) is missing: build every product (`swift build --build-tests`)")
        }
        return product
    }
}

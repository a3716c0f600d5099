/// Why an artifact could not be written or loaded. Equality is on `code` only (the message
/// carries details that may change); switch on `code` for behaviour, show `message` to people.
public struct ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable reason. Opaque so that new codes can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `model.json` (or another file) could not be read from disk.
        public static let unreadableFile = Code("unreadable_file")
        /// `model.json` is not valid JSON or a key is missing / has the wrong type.
        public static let invalidManifest = Code("invalid_manifest")
        /// `format_version` is not one this build understands.
        public static let unsupportedFormatVersion = Code("unsupported_format_version")
        /// The manifest's name or version differs from its directory names.
        public static let locationMismatch = Code("location_mismatch")
        /// A file listed in `files` (or `weights.bin` when arrays reference it) is absent.
        public static let missingFile = Code("missing_file")
        /// A file's SHA-256 differs from the one listed in `files`.
        public static let checksumMismatch = Code("checksum_mismatch")
        /// `weights.bin` size or an array reference (offset/count) is inconsistent.
        public static let invalidWeights = Code("invalid_weights")
        /// The signature is inconsistent (duplicate fields, unknown id field, …).
        public static let invalidSignature = Code("invalid_signature")
        /// A transformer spec is inconsistent (unknown field, index outside the vocabulary, …).
        public static let invalidPipeline = Code("invalid_pipeline")
        /// Model parameters are missing or of the wrong size for the pipeline.
        public static let invalidModel = Code("invalid_model")
        /// The stored example does not reproduce its expected score.
        public static let exampleMismatch = Code("example_mismatch")
        /// Writing the artifact failed.
        public static let writeFailed = Code("write_failed")
    }

    public let code: Code
    /// What exactly is wrong, naming the key, file or index.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func == (lhs: ArtifactError, rhs: ArtifactError) -> Bool { lhs.code == rhs.code }
}

import FoundationEssentials

/// Collects large arrays for `weights.bin` and hands back the `StoredArray` references to put
/// in the manifest.
public struct WeightsBuilder: Sendable {
    /// Everything appended so far, in file order.
    public private(set) var values: [Double] = []

    public init() {}

    /// Appends `array` and returns its reference (`offset` in float64 units).
    public mutating func append(_ array: [Double]) -> StoredArray {
        let reference = StoredArray.external(offset: values.count, count: array.count)
        values.append(contentsOf: array)
        return reference
    }
}

/// Writes artifact directories. Publishing atomically (write under a dot-name, then rename
/// into `<storage>/<name>/<version>`) is the caller's job; this writes one directory's files.
public enum ArtifactWriter {
    /// Writes `weights.bin` (when `weights` is non-empty, little-endian float64), records its
    /// SHA-256 in `manifest.files`, then writes `model.json` last (pretty-printed, sorted keys)
    /// so that a reader never sees a manifest before the files it lists. Creates `directory`
    /// (and parents) when needed. Returns the manifest as written.
    ///
    /// Does not validate the model; call `LoadedModel(manifest:weights:)` first (the trainer
    /// does, to compute `example.expected_score`).
    @discardableResult
    public static func write(manifest: ModelManifest, weights: [Double], to directory: String) throws(ArtifactError) -> ModelManifest {
        var manifest = manifest
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ArtifactError(.writeFailed, "cannot create \(directory): \(error)")
        }
        manifest.files.removeValue(forKey: ModelManifest.weightsFileName)
        if !weights.isEmpty {
            let bytes = encodeWeights(weights)
            try writeFile(bytes, to: directory + "/" + ModelManifest.weightsFileName)
            manifest.files[ModelManifest.weightsFileName] = SHA256.hex(bytes)
        }
        let json = try encodeManifest(manifest)
        try writeFile(json, to: directory + "/" + ModelManifest.fileName)
        return manifest
    }

    /// The manifest as `model.json` bytes (pretty-printed, sorted keys, trailing newline).
    public static func encodeManifest(_ manifest: ModelManifest) throws(ArtifactError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return [UInt8](try encoder.encode(manifest)) + [UInt8(ascii: "\n")]
        } catch {
            throw ArtifactError(.writeFailed, "cannot encode the manifest: \(error)")
        }
    }

    /// Float64 values as little-endian bytes (the `weights.bin` format).
    public static func encodeWeights(_ weights: [Double]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(weights.count * 8)
        for value in weights {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws(ArtifactError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ArtifactError(.writeFailed, "cannot write \(path): \(error)")
        }
    }
}

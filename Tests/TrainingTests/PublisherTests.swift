import FoundationEssentials
import Testing
@testable import Training

/// A fresh directory under the system temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appending(path: "vigia-training-\(UInt64.random(in: 0...UInt64.max))", directoryHint: .isDirectory)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func writeMarker(_ directory: URL, _ version: Int) throws {
    try Data("version \(version)".utf8).write(to: directory.appending(path: "model.json"))
}

@Suite(.timeLimit(.minutes(10))) struct PublisherTests {
    @Test func publishesConsecutiveIntegerVersions() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let publisher = Publisher(storage: storage, name: "m")
        #expect(try publisher.publish(writeMarker).version == 1)
        #expect(try publisher.publish(writeMarker).version == 2)
        #expect(try publisher.publishedVersions() == [1, 2])
        let contents = try String(decoding: Data(contentsOf: publisher.directory(of: 2).appending(path: "model.json")), as: UTF8.self)
        #expect(contents == "version 2")
    }

    @Test func aCrashBeforeRenameLeavesOnlyAnIgnoredDotDirectoryThatTheNextRunRemoves() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        var crashing = Publisher(storage: storage, name: "m")
        crashing.testsOnly_crashBeforeRename = true
        #expect(throws: TrainingError.storage("testsOnly_crashBeforeRename: stopped before the rename")) { try crashing.publish(writeMarker) }
        let entries = try FileManager.default.contentsOfDirectory(atPath: crashing.modelDirectory.path)
        #expect(entries.count == 1)
        #expect(entries.allSatisfy { $0.hasPrefix(".tmp-1-") })
        #expect(try crashing.publishedVersions().isEmpty)

        let publisher = Publisher(storage: storage, name: "m")
        #expect(try publisher.publish(writeMarker).version == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: publisher.modelDirectory.path) == ["1"])
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        struct DiskFull: Error {}
        let publisher = Publisher(storage: storage, name: "m")
        #expect(throws: TrainingError.artifact("writing version 1 failed: DiskFull()")) { try publisher.publish { _, _ in throw DiskFull() } }
        #expect(try FileManager.default.contentsOfDirectory(atPath: publisher.modelDirectory.path).isEmpty)
    }

    @Test func keepsTheTemporaryDirectoryOfALiveProcessAndIgnoresStrayNames() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let publisher = Publisher(storage: storage, name: "m")
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: publisher.modelDirectory.appending(path: ".tmp-7-1"), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: publisher.modelDirectory.appending(path: ".tmp-7-2147483646"), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: publisher.modelDirectory.appending(path: "notes"), withIntermediateDirectories: true)
        try fileManager.createDirectory(at: publisher.modelDirectory.appending(path: "0"), withIntermediateDirectories: true)
        #expect(try publisher.removeStaleTemporaryDirectories() == [".tmp-7-2147483646"])
        #expect(try publisher.publishedVersions().isEmpty)
        #expect(fileManager.fileExists(atPath: publisher.modelDirectory.appending(path: ".tmp-7-1").path))
    }
}

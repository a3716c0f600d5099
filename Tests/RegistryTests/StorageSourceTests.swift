import FoundationEssentials
import Testing
@testable import Registry

@Suite(.timeLimit(.minutes(10))) struct StorageSourceTests {
    @Test(arguments: [
        ("fraud", true), ("fraud-v2", true), ("a", true), ("0model", true), ("m.o_d-e", true),
        ("", false), (".hidden", false), ("Fraud", false), ("-fraud", false), ("_x", false),
        ("a..b", false), ("a/b", false), ("a b", false), ("modèle", false),
        (String(repeating: "a", count: 64), true), (String(repeating: "a", count: 65), false),
    ])
    func modelNamesFollowTheDocumentedRule(name: String, valid: Bool) {
        #expect(StorageSource.isValidModelName(name) == valid)
    }

    @Test(arguments: [
        ("1", 1), ("42", 42), ("123456789012345678", 123_456_789_012_345_678),
        ("0", nil), ("007", nil), ("-1", nil), ("+1", nil), ("1.0", nil), (".1", nil), ("1a", nil),
        ("", nil), ("1234567890123456789", nil),
    ] as [(String, Int?)])
    func versionsArePositiveIntegersWithoutLeadingZeros(name: String, version: Int?) {
        #expect(StorageSource.parseVersion(name) == version)
    }

    @Test func scanFindsVersionDirectoriesAndIgnoresEverythingElse() throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        try storage.publish("fraud", version: 12, score: 0.1)
        try storage.stage("fraud", name: ".13.partial", manifest: "{}")
        try storage.stage("fraud", name: "notes", manifest: "{}")
        try Data("x".utf8).write(to: URL(fileURLWithPath: storage.modelPath("fraud") + "/14"))
        try storage.publish("Bad_Name", version: 1, score: 0.1)
        try storage.publish(".staging", version: 1, score: 0.1)
        try Data("x".utf8).write(to: URL(fileURLWithPath: storage.path + "/readme"))

        let scan = StorageSource.scan(storage: storage.path, requiredModels: [])
        #expect(scan.storageError == nil)
        #expect(Array(scan.models.keys) == ["fraud"])
        guard case .versions(let versions, let labels, let pin, _, _)? = scan.models["fraud"], labels == .absent, pin == .absent else {
            Issue.record("fraud should be readable: \(String(describing: scan.models["fraud"]))")
            return
        }
        #expect(Set(versions.keys) == [1, 12])
        let directoryTime = try FileManager.default.attributesOfItem(atPath: storage.modelPath("fraud") + "/12")[.modificationDate] as? Date
        let publishedAt = try #require(versions[12]?.publishedAt)
        #expect(abs(publishedAt.timeIntervalSince(try #require(directoryTime))) < 0.001, "the directory's mtime")
    }

    @Test func missingStorageIsAnErrorNotAnEmptyList() throws {
        let storage = try TempStorage()
        let scan = StorageSource.scan(storage: storage.path + "/absent", requiredModels: ["fraud"])
        #expect(scan.storageError?.contains("absent") == true)
        #expect(scan.models.isEmpty)
    }

    @Test func storagePathThatIsAFileIsAnError() throws {
        let storage = try TempStorage()
        let file = storage.path + "/file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let scan = StorageSource.scan(storage: file, requiredModels: [])
        #expect(scan.storageError?.contains("not a directory") == true)
    }

    @Test func missingRequiredModelDirectoryIsReportedAsUnreadable() throws {
        let storage = try TempStorage()
        let scan = StorageSource.scan(storage: storage.path, requiredModels: ["fraud"])
        guard case .unreadable(let reason)? = scan.models["fraud"] else {
            Issue.record("expected unreadable, got \(String(describing: scan.models["fraud"]))")
            return
        }
        #expect(reason.contains("does not exist"))
    }

    @Test func invalidRequiredModelNameIsReportedNotLookedUp() throws {
        let storage = try TempStorage()
        let scan = StorageSource.scan(storage: storage.path, requiredModels: ["../etc"])
        guard case .unreadable(let reason)? = scan.models["../etc"] else {
            Issue.record("expected unreadable, got \(String(describing: scan.models["../etc"]))")
            return
        }
        #expect(reason.contains("not a valid model name"))
    }

    @Test(arguments: [
        (#"{"stable": 3, "canary": 4}"#, LabelsFile.labels(["stable": 3, "canary": 4])),
        ("{}", .labels([:])),
        ("[1]", nil), (#"{"stable": "3"}"#, nil), (#"{"Stable": 3}"#, nil), (#"{"stable": 0}"#, nil),
        ("{", nil),
    ] as [(String, LabelsFile?)])
    func labelsFileIsAnObjectOfValidLabelsToPositiveVersions(content: String, expected: LabelsFile?) throws {
        try expectControlFile("labels.json", content: content, reads: expected, with: StorageSource.readLabelsFile) {
            if case .invalid(let reason) = $0 { reason } else { nil }
        }
        #expect(StorageSource.readLabelsFile("/nonexistent/labels.json") == .absent)
    }

    @Test(arguments: [
        (#"{"version": 3}"#, PinFile.version(3)),
        ("{}", nil), (#"{"version": 0}"#, nil), (#"{"version": "3"}"#, nil), (#"{"version": 1.5}"#, nil), ("3", nil), ("{", nil),
    ] as [(String, PinFile?)])
    func pinFileIsAnObjectWithAPositiveVersion(content: String, expected: PinFile?) throws {
        try expectControlFile("pin.json", content: content, reads: expected, with: StorageSource.readPinFile) {
            if case .invalid(let reason) = $0 { reason } else { nil }
        }
        #expect(StorageSource.readPinFile("/nonexistent/pin.json") == .absent)
    }

    /// Writes `content` as `name` and reads it back: `expected`, or (nil) invalid with a
    /// reason naming the file.
    private func expectControlFile<File: Equatable>(
        _ name: String, content: String, reads expected: File?, with read: (String) -> File,
        invalidReason: (File) -> String?
    ) throws {
        let storage = try TempStorage()
        let path = storage.path + "/" + name
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        let result = read(path)
        if let expected {
            #expect(result == expected)
        } else if let reason = invalidReason(result) {
            #expect(reason.contains(name))
        } else {
            Issue.record("expected invalid, got \(result)")
        }
    }

    @Test func retryDelayDoublesFromTheBaseUpToTheCap() {
        let configuration = RegistryConfiguration(
            storagePath: "/x", retryBackoffBase: .seconds(1), retryBackoffMax: .seconds(10))
        let delays = (1...6).map { configuration.retryDelay(afterFailures: $0) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(configuration.retryDelay(afterFailures: 1_000) == .seconds(10))
    }
}

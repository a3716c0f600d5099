import FoundationEssentials
import Registry
import Synchronization
import Testing

/// The registry end to end over real directories, driven by `testsOnly_pollNow`.
@Suite(.timeLimit(.minutes(10))) struct RegistryLifecycleTests {
    @Test func versionPublishedByRenameStartsServing() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let clock = ManualClock()
        let registry = makeRegistry(storage, clock: clock, events: events)
        try storage.publish("fraud", version: 1, score: 0.25)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(try registry.handle(model: "fraud").servable.score == 0.25)

        clock.advance(seconds: 60)
        try storage.publish("fraud", version: 2, score: 0.75)
        registry.testsOnly_pollNow()
        let handle = try registry.handle(model: "fraud", selector: .serving)
        #expect(handle.version == 2)
        #expect(handle.servable.score == 0.75)
        let status = try #require(registry.status(model: "fraud"))
        #expect(status.servingVersion == 2)
        #expect(status.previousVersion == 1)
        #expect(status.version(2)?.state == .available)
        // Published: the version directory's mtime (the rename into place); loaded: during the poll.
        let directoryTime = try FileManager.default.attributesOfItem(atPath: storage.path + "/fraud/2")[.modificationDate] as? Date
        let publishedAt = try #require(status.version(2)?.publishedAt)
        #expect(abs(publishedAt.timeIntervalSince(try #require(directoryTime))) < 0.001)
        #expect(status.version(2)?.loadedAt == clock.now, "stamped by the registry's clock when it loaded")
        #expect(events.all.contains(.servingChanged(model: "fraud", from: 1, to: 2)))
    }

    @Test func halfCopiedDotDirectoryIsIgnoredUntilRenamed() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 1, score: 0.5)
        let staging = try storage.stage("fraud", name: ".2.partial", manifest: #"{"sco"#)
        registry.testsOnly_pollNow()
        let status = try #require(registry.status(model: "fraud"))
        #expect(status.versions.map(\.version) == [1])
        #expect(status.servingVersion == 1)

        try storage.writeManifest(staging, #"{"score": 0.9}"#)
        try storage.rename(staging, to: storage.versionPath("fraud", 2))
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").servable.score == 0.9)
    }

    @Test func corruptVersionFailsVisiblyWhileTheOldOneServesAndIsRetriedWithBackoff() throws {
        let storage = try TempStorage()
        let clock = ManualClock()
        let events = EventLog()
        let registry = makeRegistry(storage, clock: clock, events: events)
        try storage.publish("fraud", version: 1, score: 0.5)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 2, manifest: #"{"score": 7}"#)
        registry.testsOnly_pollNow()

        var v2 = try #require(registry.status(model: "fraud")?.version(2))
        guard case .failed(let reason) = v2.state else {
            Issue.record("expected failed, got \(v2.state)")
            return
        }
        #expect(reason.contains("outside 0...1"))
        #expect(v2.attempts == 1)
        #expect(v2.nextRetryAt == clock.now.addingTimeInterval(1))
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(events.all.contains {
            if case .loadFailed(model: "fraud", version: 2, _, attempts: 1, _) = $0 { return true }
            return false
        })

        // Not yet due: no new attempt.
        registry.testsOnly_pollNow()
        #expect(registry.status(model: "fraud")?.version(2)?.attempts == 1)

        // Due: second attempt, backoff doubles.
        clock.advance(seconds: 1)
        registry.testsOnly_pollNow()
        v2 = try #require(registry.status(model: "fraud")?.version(2))
        #expect(v2.attempts == 2)
        #expect(v2.nextRetryAt == clock.now.addingTimeInterval(2))
        clock.advance(seconds: 1)
        registry.testsOnly_pollNow()
        #expect(registry.status(model: "fraud")?.version(2)?.attempts == 2)

        // Fixed in place: the next due retry succeeds and the new version serves.
        try storage.writeManifest(storage.versionPath("fraud", 2), #"{"score": 0.6}"#)
        clock.advance(seconds: 1)
        registry.testsOnly_pollNow()
        v2 = try #require(registry.status(model: "fraud")?.version(2))
        #expect(v2.state == .available)
        #expect(v2.attempts == 3)
        #expect(v2.error == nil)
        #expect(try registry.handle(model: "fraud").servable.score == 0.6)
    }

    @Test func reloadNowRetriesAFailedVersionWithoutWaitingForItsBackoff() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 1, manifest: "not json")
        registry.testsOnly_pollNow()
        #expect(throws: RegistryError.notReady(model: "fraud")) { try registry.handle(model: "fraud") }
        try storage.writeManifest(storage.versionPath("fraud", 1), #"{"score": 0.1}"#)
        registry.reloadNow()  // no watcher started: runs the pass on this thread
        #expect(try registry.handle(model: "fraud").version == 1)
    }

    @Test func deletingTheServingDirectoryFallsBackToThePreviousVersionAfterTheSwitch() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let registry = makeRegistry(storage, events: events)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 2, score: 0.2)
        registry.testsOnly_pollNow()
        events.clear()

        try storage.remove(storage.versionPath("fraud", 2))
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(events.all == [
            .servingChanged(model: "fraud", from: 2, to: 1),
            .unloaded(model: "fraud", version: 2),
        ])
        #expect(throws: RegistryError.unknownVersion(model: "fraud", version: 2)) {
            try registry.handle(model: "fraud", selector: .version(2))
        }
        #expect(registry.status(model: "fraud")?.storageError == nil)
    }

    @Test func deletingTheOnlyVersionKeepsItServingAndReportsStorage() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let registry = makeRegistry(storage, events: events)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        try storage.remove(storage.versionPath("fraud", 1))
        registry.testsOnly_pollNow()

        #expect(try registry.handle(model: "fraud").version == 1)
        let status = try #require(registry.status(model: "fraud"))
        #expect(status.version(1)?.inStorage == false)
        #expect(status.version(1)?.state == .available)
        #expect(status.storageError?.contains("removed from storage") == true)
        #expect(events.all.contains { if case .storageError(model: "fraud", _) = $0 { true } else { false } })

        // A new version replaces it; the deleted one goes.
        try storage.publish("fraud", version: 2, score: 0.2)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 2)
        #expect(registry.status(model: "fraud")?.storageError == nil)
        #expect(registry.status(model: "fraud")?.version(1) == nil)
        #expect(events.all.last == .storageRecovered(model: "fraud"))
    }

    @Test func removedStorageDirectoryIsReportedAndTheServingVersionKeepsServing() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let registry = makeRegistry(storage, required: ["fraud"], events: events)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        #expect(registry.isReady)

        try storage.remove(storage.path)
        registry.testsOnly_pollNow()
        let storageError = try #require(registry.storageError)
        #expect(storageError.contains(storage.path) && storageError.contains("No such file or directory"), "\(storageError)")
        #expect(registry.status(model: "fraud")?.storageError == storageError)
        #expect(registry.status(model: "fraud")?.version(1)?.state == .available)
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(registry.isReady)
        #expect(events.all.contains { if case .storageError(model: nil, _) = $0 { true } else { false } })
        #expect(!events.all.contains(.unloaded(model: "fraud", version: 1)))

        // Storage comes back: the error clears, nothing was reloaded.
        try FileManager.default.createDirectory(atPath: storage.path, withIntermediateDirectories: true)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        #expect(registry.storageError == nil)
        #expect(registry.status(model: "fraud")?.storageError == nil)
        #expect(events.all.contains(.storageRecovered(model: nil)))
        #expect(registry.status(model: "fraud")?.version(1)?.attempts == 1)
    }

    @Test func removedModelDirectoryIsReportedAndTheServingVersionKeepsServing() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        try storage.remove(storage.modelPath("fraud"))
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(registry.status(model: "fraud")?.storageError?.contains("does not exist") == true)
    }

    @Test func labelsPointOnlyAtAvailableVersionsAndKeepThemLoaded() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        try registry.setLabel(model: "fraud", label: "stable", version: 1)
        try storage.publish("fraud", version: 2, score: 0.2)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 3, score: 0.3)
        registry.testsOnly_pollNow()
        try registry.setLabel(model: "fraud", label: "canary", version: 3)

        #expect(try registry.handle(model: "fraud", selector: .label("stable")).version == 1)
        #expect(try registry.handle(model: "fraud", selector: .label("canary")).version == 3)
        let status = try #require(registry.status(model: "fraud"))
        #expect(status.labels == ["stable": 1, "canary": 3])
        #expect(status.version(1)?.state == .available)
        #expect(status.version(1)?.labels == ["stable"])

        #expect(throws: RegistryAdminError.versionNotAvailable(model: "fraud", version: 9)) {
            try registry.setLabel(model: "fraud", label: "stable", version: 9)
        }
        #expect(throws: RegistryAdminError.invalidLabelName("Stable!")) {
            try registry.setLabel(model: "fraud", label: "Stable!", version: 3)
        }
        #expect(throws: RegistryAdminError.unknownModel("nope")) {
            try registry.setLabel(model: "nope", label: "stable", version: 1)
        }
        #expect(throws: RegistryError.unknownLabel(model: "fraud", label: "beta")) {
            try registry.handle(model: "fraud", selector: .label("beta"))
        }

        // Removing the label lets the policy unload the old version.
        try registry.removeLabel(model: "fraud", label: "stable")
        #expect(throws: RegistryError.unknownLabel(model: "fraud", label: "stable")) {
            try registry.handle(model: "fraud", selector: .label("stable"))
        }
        #expect(throws: RegistryError.unknownVersion(model: "fraud", version: 1)) {
            try registry.handle(model: "fraud", selector: .version(1))
        }
        #expect(throws: RegistryAdminError.unknownLabel(model: "fraud", label: "stable")) {
            try registry.removeLabel(model: "fraud", label: "stable")
        }
    }

    @Test func rollbackPinsThePreviousVersionUntilUnpinned() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let registry = makeRegistry(storage, events: events)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        #expect(throws: RegistryAdminError.noPreviousVersion(model: "fraud")) {
            try registry.rollback(model: "fraud")
        }
        try storage.publish("fraud", version: 2, score: 0.2)
        registry.testsOnly_pollNow()

        #expect(try registry.rollback(model: "fraud") == 1)
        #expect(try registry.handle(model: "fraud").version == 1)
        var status = try #require(registry.status(model: "fraud"))
        #expect(status.pinned)
        #expect(status.previousVersion == 2)
        #expect(events.all.last == .servingChanged(model: "fraud", from: 2, to: 1))

        // A newer version loads but does not serve while pinned.
        try storage.publish("fraud", version: 3, score: 0.3)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(try registry.handle(model: "fraud", selector: .version(3)).version == 3)

        try registry.unpin(model: "fraud")
        #expect(try registry.handle(model: "fraud").version == 3)
        status = try #require(registry.status(model: "fraud"))
        #expect(!status.pinned)
        #expect(status.previousVersion == 1)

        try registry.pin(model: "fraud", version: 1)
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(throws: RegistryAdminError.versionNotAvailable(model: "fraud", version: 2)) {
            try registry.pin(model: "fraud", version: 2)  // unloaded by now
        }
    }

    @Test func handleKeepsAnUnloadedVersionAliveUntilReleased() throws {
        let storage = try TempStorage()
        let loader = ScoreLoader()
        let registry = makeRegistry(storage, loader: loader)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()

        weak var weakModel: ScoreModel?
        var handle: ServableHandle<ScoreModel>? = try registry.handle(model: "fraud")
        weakModel = handle?.servable
        #expect(loader.counter.live == 1)

        // v2 then v3: v1 leaves the snapshot (v2 is kept as previous).
        try storage.publish("fraud", version: 2, score: 0.2)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 3, score: 0.3)
        registry.testsOnly_pollNow()
        #expect(throws: RegistryError.unknownVersion(model: "fraud", version: 1)) {
            try registry.handle(model: "fraud", selector: .version(1))
        }
        #expect(registry.status(model: "fraud")?.version(1)?.state == .unloading)
        #expect(weakModel != nil)
        #expect(handle?.servable.score == 0.1)
        #expect(loader.counter.live == 3)

        handle = nil
        #expect(weakModel == nil)
        #expect(loader.counter.live == 2)
        #expect(registry.status(model: "fraud")?.version(1)?.state == .notLoaded)
    }

    @Test func labelsFileMovesLabelsOnceTheirVersionIsAvailable() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        for version in 1...3 { try storage.publish("fraud", version: version, score: Double(version) / 10) }
        let labelsPath = storage.modelPath("fraud") + "/labels.json"
        try Data(#"{"stable": 1, "canary": 3}"#.utf8).write(to: URL(fileURLWithPath: labelsPath))
        registry.testsOnly_pollNow()

        // Version 1 is older than what serves, but the label makes it load.
        #expect(try registry.handle(model: "fraud", selector: .label("stable")).version == 1)
        #expect(try registry.handle(model: "fraud", selector: .label("canary")).version == 3)
        #expect(try registry.handle(model: "fraud").version == 3)

        // Moving stable to a broken version: the label stays on 1 and the file's wish is pending.
        try storage.publish("fraud", version: 4, manifest: "broken")
        try Data(#"{"stable": 4}"#.utf8).write(to: URL(fileURLWithPath: labelsPath))
        registry.testsOnly_pollNow()
        var status = try #require(registry.status(model: "fraud"))
        #expect(status.labels == ["stable": 1])
        #expect(status.pendingLabels == ["stable": 4])
        #expect(throws: RegistryError.unknownLabel(model: "fraud", label: "canary")) {
            try registry.handle(model: "fraud", selector: .label("canary"))
        }

        // An invalid file is reported and changes nothing.
        try Data("{".utf8).write(to: URL(fileURLWithPath: labelsPath))
        registry.testsOnly_pollNow()
        status = try #require(registry.status(model: "fraud"))
        #expect(status.labelsFileError?.contains("labels.json") == true)
        #expect(status.labels == ["stable": 1])
    }

    @Test func pinFileServesItsVersionOnEveryReaderUntilRemoved() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        for version in 1...3 { try storage.publish("fraud", version: version, score: Double(version) / 10) }
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 3)

        // The fleet-wide rollback: version 1 is older than what serves; the file loads it.
        let pinPath = storage.modelPath("fraud") + "/pin.json"
        try Data(#"{"version": 1}"#.utf8).write(to: URL(fileURLWithPath: pinPath))
        registry.testsOnly_pollNow()
        var status = try #require(registry.status(model: "fraud"))
        #expect(try registry.handle(model: "fraud").version == 1)
        #expect(status.storagePin == 1 && status.storagePinIssue == nil && !status.pinned)
        #expect(status.previousVersion == 3)

        // An admin pin on this replica wins over the file until it is undone.
        try registry.pin(model: "fraud", version: 3)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 3)
        try registry.unpin(model: "fraud")
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 1)

        // A broken file is reported and changes nothing; a version that is not there neither.
        try Data("{\"version\":".utf8).write(to: URL(fileURLWithPath: pinPath))
        registry.testsOnly_pollNow()
        status = try #require(registry.status(model: "fraud"))
        #expect(status.storagePinIssue?.contains("pin.json") == true)
        #expect(try registry.handle(model: "fraud").version == 1)
        try Data(#"{"version": 9}"#.utf8).write(to: URL(fileURLWithPath: pinPath))
        registry.testsOnly_pollNow()
        status = try #require(registry.status(model: "fraud"))
        #expect(status.storagePinIssue == "pin.json asks for version 9, which is not in storage")
        #expect(try registry.handle(model: "fraud").version == 3)

        // Removing the file returns to the newest version.
        try FileManager.default.removeItem(atPath: pinPath)
        registry.testsOnly_pollNow()
        status = try #require(registry.status(model: "fraud"))
        #expect(try registry.handle(model: "fraud").version == 3)
        #expect(status.storagePin == nil && status.storagePinIssue == nil)
    }

    @Test func requestErrorsSayWhatIsMissing() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage, required: ["fraud"])
        registry.testsOnly_pollNow()
        #expect(throws: RegistryError.unknownModel("other")) { try registry.handle(model: "other") }
        #expect(throws: RegistryError.notReady(model: "fraud")) { try registry.handle(model: "fraud") }
        #expect(registry.status(model: "fraud")?.storageError?.contains("does not exist") == true)
        try storage.publish("fraud", version: 4, score: 0.4)
        registry.testsOnly_pollNow()
        #expect(throws: RegistryError.unknownVersion(model: "fraud", version: 5)) {
            try registry.handle(model: "fraud", selector: .version(5))
        }
    }

    @Test func readinessNeedsEveryRequiredModelServing() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage, required: ["fraud", "weapons"])
        registry.testsOnly_pollNow()
        #expect(!registry.isReady)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        #expect(!registry.isReady)
        try storage.publish("weapons", version: 1, manifest: "broken")
        registry.testsOnly_pollNow()
        #expect(!registry.isReady)
        try storage.writeManifest(storage.versionPath("weapons", 1), #"{"score": 0.3}"#)
        registry.reloadNow()
        #expect(registry.isReady)
        #expect(registry.status().map(\.model) == ["fraud", "weapons"])
        #expect(registry.status().allSatisfy { $0.required })
    }

    @Test func withoutRequiredModelsReadinessNeedsOneServingModel() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        #expect(!registry.isReady)
        registry.testsOnly_pollNow()
        #expect(!registry.isReady)
        try storage.publish("weapons", version: 1, manifest: "broken")
        registry.testsOnly_pollNow()
        #expect(!registry.isReady)
        try storage.publish("fraud", version: 1, score: 0.1)
        registry.testsOnly_pollNow()
        #expect(registry.isReady)
    }

    @Test func severalModelsAreServedIndependently() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("fraud", version: 3, score: 0.3)
        try storage.publish("weapons", version: 7, score: 0.7)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 3)
        #expect(try registry.handle(model: "weapons").version == 7)
        try registry.setLabel(model: "weapons", label: "stable", version: 7)
        #expect(throws: RegistryError.unknownLabel(model: "fraud", label: "stable")) {
            try registry.handle(model: "fraud", selector: .label("stable"))
        }
    }

    @Test func modelDirectoryRemovedBeforeAnyVersionLoadedIsForgotten() throws {
        let storage = try TempStorage()
        let registry = makeRegistry(storage)
        try storage.publish("draft", version: 1, manifest: "broken")
        registry.testsOnly_pollNow()
        #expect(registry.status(model: "draft") != nil)
        try storage.remove(storage.modelPath("draft"))
        registry.testsOnly_pollNow()
        #expect(registry.status(model: "draft") == nil)
        #expect(throws: RegistryError.unknownModel("draft")) { try registry.handle(model: "draft") }
    }
}

/// "Available" in the status means a request for that version is served: a version is
/// marked available and published in one locked step.
@Suite(.timeLimit(.minutes(10))) struct AvailabilityIsPublishedInOneStepTests {
    @Test func whenALoadIsReportedTheStatusAndTheHandlesAgree() throws {
        let storage = try TempStorage()
        try storage.publish("m", version: 1, score: 0.25)
        try storage.publish("m", version: 2, score: 0.5)
        let registryBox = Mutex<TestRegistry?>(nil)
        let disagreements = Mutex<[String]>([])
        let loads = Atomic<Int>(0)
        let registry = ModelRegistry(
            configuration: RegistryConfiguration(storagePath: storage.path),
            loader: ScoreLoader(),
            onEvent: { event in
                // Runs right after the load step, before anything else the pass does.
                guard case .loaded(let model, let version, _) = event,
                      let registry = registryBox.withLock({ $0 }) else { return }
                loads.add(1, ordering: .relaxed)
                let state = registry.status(model: model)?.version(version)?.state
                if state != .available { disagreements.withLock { $0.append("v\(version): status \(String(describing: state))") } }
                do {
                    _ = try registry.handle(model: model, selector: .version(version))
                } catch {
                    disagreements.withLock { $0.append("v\(version): status available, handle \(error)") }
                }
            })
        registryBox.withLock { $0 = registry }
        registry.testsOnly_pollNow()
        #expect(loads.load(ordering: .relaxed) >= 1)
        #expect(disagreements.withLock { $0 }.isEmpty, "\(disagreements.withLock { $0 })")
        registry.shutdown()
        registryBox.withLock { $0 = nil }
    }
}

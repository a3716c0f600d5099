import FoundationEssentials
import Glibc
import Registry
import Testing

@Suite(.timeLimit(.minutes(10))) struct RolloutSpecParsingTests {
    @Test func theDocumentedExampleParses() throws {
        let spec = try RolloutSpec.parse(Array(#"""
            {"shadow": {"version": 3}, "canary": {"version": 3, "weight": 0.05},
             "guards": {"min_samples": 1000, "max_disagreement": 0.02, "max_psi": 0.2}}
            """#.utf8))
        #expect(spec == RolloutSpec(shadow: 3, canary: .init(version: 3, weight: 0.05),
                                    guards: RolloutGuards(minSamples: 1000, maxDisagreement: 0.02, maxPSI: 0.2)))
        #expect(spec.versions == [3])
    }

    @Test func absentAndNullMembersAreNoRollout() throws {
        #expect(try RolloutSpec.parse(Array("{}".utf8)).isEmpty)
        #expect(try RolloutSpec.parse(Array(#"{"shadow": null, "canary": null}"#.utf8)).isEmpty)
        #expect(try RolloutSpec.parse(Array(#"{"shadow": {"version": 2}}"#.utf8)).guards == RolloutGuards())
    }

    /// Any version a request body may name (up to 2^53 − 1, as the contract's schemas say).
    @Test func theLargestVersionABodyMayNameIsAccepted() throws {
        let spec = try RolloutSpec.parse(Array(#"{"canary": {"version": 9007199254740991, "weight": 0.05}}"#.utf8))
        #expect(spec.canary?.version == 9_007_199_254_740_991)
        #expect(Double(spec.canary?.version ?? 0) == VersionSelector.largestVersion)
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        var body: String
        var pointer: String
        var testDescription: String { body }
    }

    static let bad: [Bad] = [
        Bad(body: #"{"canery": {"version": 3, "weight": 0.1}}"#, pointer: "/canery"),
        Bad(body: #"{"canary": {"version": 3}}"#, pointer: "/canary/weight"),
        Bad(body: #"{"canary": {"version": 3, "weight": 1.5}}"#, pointer: "/canary/weight"),
        Bad(body: #"{"canary": {"version": 0, "weight": 0.1}}"#, pointer: "/canary/version"),
        Bad(body: #"{"shadow": {"version": 2.5}}"#, pointer: "/shadow/version"),
        Bad(body: #"{"shadow": {"version": 2, "weight": 1}}"#, pointer: "/shadow/weight"),
        Bad(body: #"{"shadow": 3}"#, pointer: "/shadow"),
        Bad(body: #"{"guards": {"min_samples": 0}}"#, pointer: "/guards/min_samples"),
        Bad(body: #"{"guards": {"max_psi": -1}}"#, pointer: "/guards/max_psi"),
        Bad(body: #"{"canary": {"version": 9007199254740992, "weight": 0.1}}"#, pointer: "/canary/version"),
        Bad(body: #"[1]"#, pointer: ""),
        Bad(body: #"{"shadow": "#, pointer: ""),
    ]

    @Test(arguments: bad) func aBadDocumentNamesTheMember(_ row: Bad) {
        do {
            _ = try RolloutSpec.parse(Array(row.body.utf8))
            Issue.record("accepted \(row.body)")
        } catch {
            #expect(error.pointer == row.pointer, "\(error)")
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct RolloutPolicyTests {
    @Test func aVersionUnderRolloutIsLoadedButDoesNotServe() {
        let decision = VersionPolicy.decide(PolicyInput(
            discovered: [2, 3], states: [2: .available], serving: 2, rollout: [3]))
        #expect(decision.load == [3])
        #expect(decision.serving == 2)
        let loaded = VersionPolicy.decide(PolicyInput(
            discovered: [2, 3], states: [2: .available, 3: .available], serving: 2, rollout: [3]))
        #expect(loaded.serving == 2 && loaded.unload.isEmpty)
    }

    @Test func atStartTheNewestVersionNotUnderRolloutIsLoadedToServe() {
        let decision = VersionPolicy.decide(PolicyInput(discovered: [1, 2, 3], rollout: [3]))
        #expect(decision.load == [3, 2])
        let onlyCanary = VersionPolicy.decide(PolicyInput(
            discovered: [1, 2, 3], states: [3: .available, 2: .loading], rollout: [3]))
        #expect(onlyCanary.serving == nil)
    }

    @Test func aPinServesAVersionUnderRollout() {
        let decision = VersionPolicy.decide(PolicyInput(
            discovered: [2, 3], states: [2: .available, 3: .available], pinned: 3, serving: 2, rollout: [3]))
        #expect(decision.serving == 3)
    }

    @Test func withNothingElseInStorageTheRolloutVersionServes() {
        let decision = VersionPolicy.decide(PolicyInput(discovered: [3], states: [3: .available], rollout: [3]))
        #expect(decision.serving == 3)
    }

    @Test func anOlderShadowIsLoadedAndKept() {
        let decision = VersionPolicy.decide(PolicyInput(
            discovered: [1, 2, 3], states: [3: .available, 1: .available], serving: 3, rollout: [1]))
        #expect(decision.serving == 3 && decision.unload.isEmpty)
    }
}

@Suite(.timeLimit(.minutes(10))) struct RolloutRegistryTests {
    func write(_ storage: TempStorage, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: storage.modelPath("fraud") + "/.rollout.tmp"))
        // rename(2) replaces the file in one step, as operators are told to publish it.
        #expect(Glibc.rename(storage.modelPath("fraud") + "/.rollout.tmp", storage.modelPath("fraud") + "/rollout.json") == 0)
    }

    @Test func rolloutJSONNamesAShadowAndACanaryThatTheSnapshotRoutes() throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 2, score: 0.2)
        let registry = makeRegistry(storage)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 3, score: 0.3)
        try write(storage, #"{"shadow": {"version": 3}, "canary": {"version": 3, "weight": 0.1}, "guards": {"min_samples": 5}}"#)
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 2)
        var routing = try #require(registry.snapshot(model: "fraud")?.rollout)
        #expect(routing.shadow == 3 && routing.canary == .init(version: 3, weight: 0.1) && routing.guards.minSamples == 5)
        var status = try #require(registry.status(model: "fraud")?.rollout)
        #expect(status.source == .file && status.issues.isEmpty && status.abort == nil)

        // A broken file changes nothing and is reported.
        try write(storage, #"{"canary": {"version": 3, "weight": 7}}"#)
        registry.testsOnly_pollNow()
        status = try #require(registry.status(model: "fraud")?.rollout)
        #expect(status.fileError?.contains("/canary/weight") == true)
        #expect(registry.snapshot(model: "fraud")?.rollout?.canary?.weight == 0.1)

        // A guard stops the canary; the shadow keeps scoring.
        #expect(try registry.abortCanary(model: "fraud", reason: "disagreement", automatic: true, canaryVersion: 3) != nil)
        #expect(try registry.abortCanary(model: "fraud", reason: "again", automatic: true, canaryVersion: 3) == nil)
        routing = try #require(registry.snapshot(model: "fraud")?.rollout)
        #expect(routing.canary == nil && routing.shadow == 3)
        #expect(registry.status(model: "fraud")?.rollout?.abort?.reason == "disagreement")

        // A new file starts a new rollout.
        try write(storage, #"{"canary": {"version": 3, "weight": 0.2}}"#)
        registry.testsOnly_pollNow()
        routing = try #require(registry.snapshot(model: "fraud")?.rollout)
        #expect(routing.canary?.weight == 0.2 && routing.shadow == nil)
        #expect(registry.status(model: "fraud")?.rollout?.abort == nil)

        // Promote: the canary serves on this replica, the rollout ends here.
        #expect(try registry.promote(model: "fraud") == 3)
        #expect(try registry.handle(model: "fraud").version == 3)
        #expect(registry.snapshot(model: "fraud")?.rollout == nil)
        #expect(throws: RegistryAdminError.noCanary(model: "fraud")) { try registry.promote(model: "fraud") }
    }

    @Test func anAdminRolloutOverridesTheFileUntilCleared() throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        let registry = makeRegistry(storage)
        registry.testsOnly_pollNow()
        try storage.publish("fraud", version: 2, score: 0.2)
        try write(storage, #"{"shadow": {"version": 2}}"#)
        registry.testsOnly_pollNow()
        try registry.setRollout(model: "fraud", spec: RolloutSpec(canary: .init(version: 2, weight: 0.5)))
        registry.testsOnly_pollNow()
        #expect(registry.snapshot(model: "fraud")?.rollout == RolloutRouting(shadow: nil, canary: .init(version: 2, weight: 0.5), guards: RolloutGuards()))
        #expect(registry.status(model: "fraud")?.rollout?.source == .admin)
        try registry.abortCanary(model: "fraud", reason: "aborted by an admin", automatic: false)
        #expect(registry.snapshot(model: "fraud")?.rollout == nil)
        try registry.clearRollout(model: "fraud")
        registry.testsOnly_pollNow()
        #expect(registry.snapshot(model: "fraud")?.rollout?.shadow == 2)
        #expect(registry.status(model: "fraud")?.rollout?.source == .file)
        #expect(try registry.handle(model: "fraud").version == 1)
        // Without a rollout the newest version serves again.
        try storage.remove(storage.modelPath("fraud") + "/rollout.json")
        registry.testsOnly_pollNow()
        #expect(try registry.handle(model: "fraud").version == 2)
        #expect(registry.status(model: "fraud")?.rollout == nil)
    }

    var abortFile: String { RecordedAbort.fileName }

    /// Versions 1 and 2, rollout.json with a canary of 2 at 0.5, the registry's first pass made.
    func halfCanary(_ storage: TempStorage, events: EventLog = EventLog(), before: () throws -> Void = {}) throws -> TestRegistry {
        try storage.publish("fraud", version: 1, score: 0.1)
        try storage.publish("fraud", version: 2, score: 0.2)
        try write(storage, #"{"canary": {"version": 2, "weight": 0.5}}"#)
        try before()
        let registry = makeRegistry(storage, events: events)
        registry.testsOnly_pollNow()
        return registry
    }

    @Test func aGuardAbortIsRecordedAndHoldsAfterARestartUntilRolloutJSONChanges() throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 2, score: 0.2)
        try storage.publish("fraud", version: 3, score: 0.3)
        let bad = #"{"shadow": {"version": 3}, "canary": {"version": 3, "weight": 0.5}, "guards": {"min_samples": 20, "max_disagreement": 0.05}}"#
        try write(storage, bad)
        let first = makeRegistry(storage)
        first.testsOnly_pollNow()
        #expect(first.snapshot(model: "fraud")?.rollout?.canary?.version == 3)
        let abort = try #require(try first.abortCanary(model: "fraud", reason: "canary: disagreement 1 > max_disagreement 0.05", automatic: true, canaryVersion: 3))
        #expect(abort.recordError == nil && !abort.earlier)
        let path = storage.modelPath("fraud") + "/" + abortFile
        let recorded = try RecordedAbort.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(recorded.rollout == (try RolloutSpec.parse(Array(bad.utf8))))
        #expect(recorded.reason == abort.reason)
        #expect(abs(recorded.at.timeIntervalSince(abort.at)) < 1)
        first.shutdown()

        // A new process on the same storage: the canary stays stopped, and says why.
        let events = EventLog()
        let second = makeRegistry(storage, events: events)
        second.testsOnly_pollNow()
        #expect(try second.handle(model: "fraud").version == 2)
        let routing = try #require(second.snapshot(model: "fraud")?.rollout)
        #expect(routing.canary == nil && routing.shadow == 3)
        let status = try #require(second.status(model: "fraud")?.rollout)
        #expect(status.abort?.earlier == true && status.abort?.automatic == true)
        #expect(status.abort?.reason == abort.reason)
        #expect(try second.abortCanary(model: "fraud", reason: "again", automatic: true, canaryVersion: 3) == nil)
        #expect(!events.all.contains { if case .controlFileProblem = $0 { true } else { false } })

        // The same rollout again (an identical rewrite) stays stopped; a new canary answers.
        try write(storage, bad)
        second.testsOnly_pollNow()
        #expect(second.snapshot(model: "fraud")?.rollout?.canary == nil)
        try write(storage, #"{"canary": {"version": 3, "weight": 0.2}, "guards": {"min_samples": 20, "max_disagreement": 0.05}}"#)
        second.testsOnly_pollNow()
        #expect(second.snapshot(model: "fraud")?.rollout?.canary == .init(version: 3, weight: 0.2))
        #expect(second.status(model: "fraud")?.rollout?.abort == nil)
        #expect(!FileManager.default.fileExists(atPath: path), "the stale record is removed")
        // And going back to the aborted rollout later starts it afresh.
        try write(storage, bad)
        let third = makeRegistry(storage)
        third.testsOnly_pollNow()
        #expect(third.snapshot(model: "fraud")?.rollout?.canary?.weight == 0.5)
    }

    @Test func adminAbortsAndAbortsOfAnAdminRolloutAreNotRecorded() throws {
        let storage = try TempStorage()
        let registry = try halfCanary(storage)
        let path = storage.modelPath("fraud") + "/" + abortFile
        #expect(try registry.abortCanary(model: "fraud", reason: "aborted by an admin", automatic: false) != nil)
        #expect(!FileManager.default.fileExists(atPath: path))
        try registry.setRollout(model: "fraud", spec: RolloutSpec(canary: .init(version: 2, weight: 0.3)))
        #expect(try registry.abortCanary(model: "fraud", reason: "canary: psi", automatic: true, canaryVersion: 2) != nil)
        #expect(!FileManager.default.fileExists(atPath: path))
        let restarted = makeRegistry(storage)
        restarted.testsOnly_pollNow()
        #expect(restarted.snapshot(model: "fraud")?.rollout?.canary?.weight == 0.5)
    }

    @Test func aGuardAbortThatCannotBeWrittenHoldsInMemoryAndSaysWhy() throws {
        let storage = try TempStorage()
        let events = EventLog()
        let registry = try halfCanary(storage, events: events) {
            // A directory where the file would go: rename(2) over it fails, as on a read-only volume.
            try FileManager.default.createDirectory(atPath: storage.modelPath("fraud") + "/" + abortFile + "/x", withIntermediateDirectories: true)
        }
        let abort = try #require(try registry.abortCanary(model: "fraud", reason: "canary: psi 3 > max_psi 0.2", automatic: true, canaryVersion: 2))
        #expect(abort.recordError?.contains("rename") == true, "\(abort.recordError ?? "nil")")
        #expect(registry.snapshot(model: "fraud")?.rollout == nil)
        #expect(registry.status(model: "fraud")?.rollout?.abort?.recordError == abort.recordError)
        #expect(registry.status(model: "fraud")?.rollout?.issues.contains { $0.contains(abortFile) } == true)
        registry.testsOnly_pollNow()
        let problems = events.all.filter { if case .controlFileProblem = $0 { true } else { false } }
        #expect(problems.count == 1, "reported once, not every poll: \(problems)")
        #expect(!FileManager.default.fileExists(atPath: storage.modelPath("fraud") + "/." + abortFile), "no staging file left")
    }

    @Test func anUnusableControlFileIsReportedOncePerProblemWithItsPath() throws {
        let storage = try TempStorage()
        try storage.publish("fraud", version: 1, score: 0.1)
        try storage.publish("fraud", version: 2, score: 0.2)
        let events = EventLog()
        let registry = makeRegistry(storage, events: events)
        registry.testsOnly_pollNow()
        func reports() -> [RegistryEvent] {
            events.all.filter {
                switch $0 {
                case .controlFileProblem, .controlFileRecovered: true
                default: false
                }
            }
        }
        let path = storage.modelPath("fraud") + "/rollout.json"
        try write(storage, #"{"canary": {"version": 2, "weight": 7}}"#)
        registry.testsOnly_pollNow()
        registry.testsOnly_pollNow()
        let first = try #require(reports().first)
        guard case .controlFileProblem("fraud", path, let reason) = first else {
            Issue.record("\(first)")
            return
        }
        #expect(reason.contains("/canary/weight"))
        #expect(reports().count == 1)
        // Another problem is reported again; a repaired file once as recovered.
        try write(storage, #"{"canary": {"version": 2, "weight": 0.5}, "shadows": 1}"#)
        registry.testsOnly_pollNow()
        registry.testsOnly_pollNow()
        try write(storage, #"{"canary": {"version": 2, "weight": 0.5}}"#)
        registry.testsOnly_pollNow()
        registry.testsOnly_pollNow()
        let all = reports()
        #expect(all.count == 3, "\(all)")
        if case .controlFileProblem(_, _, let second) = all[1] { #expect(second.contains("shadows")) } else { Issue.record("\(all[1])") }
        #expect(all.last == .controlFileRecovered(model: "fraud", path: path))
        // pin.json is reported the same way.
        try Data("{\"version\": 0}".utf8).write(to: URL(fileURLWithPath: storage.modelPath("fraud") + "/pin.json"))
        registry.testsOnly_pollNow()
        registry.testsOnly_pollNow()
        #expect(reports().count == 4)
        #expect(reports().last.map { if case .controlFileProblem(_, let file, _) = $0 { file.hasSuffix("/pin.json") } else { false } } == true)
    }
}

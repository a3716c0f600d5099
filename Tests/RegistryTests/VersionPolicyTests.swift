import Registry
import Testing

/// The version policy as tables: input → decision, one named row per rule.
@Suite(.timeLimit(.minutes(10))) struct VersionPolicyTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var input: PolicyInput
        var expected: PolicyDecision
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "nothing in storage: nothing to do",
            input: PolicyInput(discovered: []),
            expected: PolicyDecision()),
        Row(
            name: "first discovery loads only the newest version",
            input: PolicyInput(discovered: [1, 2, 3]),
            expected: PolicyDecision(load: [3])),
        Row(
            name: "newest available serves",
            input: PolicyInput(discovered: [1, 2, 3], states: [3: .available]),
            expected: PolicyDecision(serving: 3)),
        Row(
            name: "a new version is loaded while the current one keeps serving",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available],
                serving: 2, previous: 1),
            expected: PolicyDecision(load: [3], serving: 2, previous: 1)),
        Row(
            name: "once the new version is available it serves, the old one becomes previous, the older is unloaded",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available],
                serving: 2, previous: 1),
            expected: PolicyDecision(unload: [1], serving: 3, previous: 2)),
        Row(
            name: "a load in progress is neither restarted nor served",
            input: PolicyInput(discovered: [1, 2], states: [1: .available, 2: .loading], serving: 1),
            expected: PolicyDecision(serving: 1)),
        Row(
            name: "a failed newest version waiting for its backoff is skipped; the current keeps serving",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [2: .available, 3: .failed(retryDue: false)], serving: 2),
            expected: PolicyDecision(serving: 2)),
        Row(
            name: "a failed newest version is retried when due",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [2: .available, 3: .failed(retryDue: true)], serving: 2),
            expected: PolicyDecision(load: [3], serving: 2)),
        Row(
            name: "at startup a failed newest version makes the next older one load",
            input: PolicyInput(discovered: [1, 2], states: [2: .failed(retryDue: false)]),
            expected: PolicyDecision(load: [1])),
        Row(
            name: "at startup a due retry does not hold back the next older version",
            input: PolicyInput(discovered: [1, 2], states: [2: .failed(retryDue: true)]),
            expected: PolicyDecision(load: [2, 1])),
        Row(
            name: "failed versions older than the serving one are never retried",
            input: PolicyInput(
                discovered: [1, 2], states: [1: .failed(retryDue: true), 2: .available], serving: 2),
            expected: PolicyDecision(serving: 2)),
        Row(
            name: "serving directory deleted: the newest other available version serves, the deleted one is unloaded",
            input: PolicyInput(
                discovered: [1], states: [1: .available, 2: .available], serving: 2, previous: 1),
            expected: PolicyDecision(unload: [2], serving: 1)),
        Row(
            name: "serving directory deleted and nothing else available: it keeps serving from memory",
            input: PolicyInput(discovered: [], states: [2: .available], serving: 2),
            expected: PolicyDecision(serving: 2)),
        Row(
            name: "serving directory deleted while a replacement is still untried: keep serving, load it",
            input: PolicyInput(discovered: [1], states: [2: .available], serving: 2),
            expected: PolicyDecision(load: [1], serving: 2)),
        Row(
            name: "a pin overrides newest; the newest stays loaded for an instant unpin",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available],
                pinned: 1, serving: 3, previous: 2),
            expected: PolicyDecision(unload: [2], serving: 1, previous: 3, pinned: 1)),
        Row(
            name: "a pin on a version that is not available is dropped",
            input: PolicyInput(
                discovered: [1, 2], states: [1: .failed(retryDue: false), 2: .available], pinned: 1),
            expected: PolicyDecision(serving: 2)),
        Row(
            name: "a pinned version deleted from storage gives way to an available one",
            input: PolicyInput(
                discovered: [3], states: [1: .available, 3: .available], pinned: 1, serving: 1),
            expected: PolicyDecision(unload: [1], serving: 3)),
        Row(
            name: "a labelled old version stays loaded",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available],
                labels: ["stable": 1], serving: 3, previous: 2),
            expected: PolicyDecision(serving: 3, previous: 2, labels: ["stable": 1])),
        Row(
            name: "a label on a version deleted from storage is dropped and the version unloaded",
            input: PolicyInput(
                discovered: [2, 3], states: [1: .available, 3: .available],
                labels: ["stable": 1, "canary": 3], serving: 3),
            expected: PolicyDecision(unload: [1], serving: 3, labels: ["canary": 3])),
        Row(
            name: "a deleted previous version is not kept for rollback",
            input: PolicyInput(
                discovered: [3], states: [2: .available, 3: .available], serving: 3, previous: 2),
            expected: PolicyDecision(unload: [2], serving: 3)),
        Row(
            name: "unpinning returns to the newest; the pinned one becomes previous",
            input: PolicyInput(
                discovered: [1, 3], states: [1: .available, 3: .available], serving: 1, previous: 3),
            expected: PolicyDecision(serving: 3, previous: 1)),
        Row(
            name: "a pending label loads its version even when older than the serving one",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [2: .available, 3: .available], serving: 3, previous: 2,
                pendingLabels: ["stable": 1]),
            expected: PolicyDecision(load: [1], serving: 3, previous: 2, pendingLabels: ["stable": 1])),
        Row(
            name: "a pending label moves once its version is available, and keeps it loaded",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available],
                labels: ["stable": 2], serving: 3, previous: 2, pendingLabels: ["stable": 1]),
            expected: PolicyDecision(serving: 3, previous: 2, labels: ["stable": 1])),
        Row(
            name: "a label keeps its old target while the new one waits for a retry",
            input: PolicyInput(
                discovered: [2, 3], states: [2: .failed(retryDue: false), 3: .available],
                labels: ["stable": 3], serving: 3, pendingLabels: ["stable": 2]),
            expected: PolicyDecision(serving: 3, labels: ["stable": 3], pendingLabels: ["stable": 2])),
        Row(
            name: "a pending label on a version not in storage loads nothing and waits",
            input: PolicyInput(
                discovered: [3], states: [3: .available], serving: 3, pendingLabels: ["canary": 4]),
            expected: PolicyDecision(serving: 3, pendingLabels: ["canary": 4])),
        Row(
            name: "pin.json loads its version even though it is older, while the newest keeps serving",
            input: PolicyInput(discovered: [1, 2, 3], states: [2: .available, 3: .available], storagePin: 1, serving: 3, previous: 2),
            expected: PolicyDecision(load: [1], serving: 3, previous: 2)),
        Row(
            name: "pin.json's version serves once available; the version it replaces becomes previous",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available], storagePin: 1, serving: 3, previous: 2),
            expected: PolicyDecision(unload: [2], serving: 1, previous: 3)),
        Row(
            name: "an admin pin overrides pin.json, whose version stays loaded",
            input: PolicyInput(
                discovered: [1, 2, 3], states: [1: .available, 2: .available, 3: .available],
                pinned: 2, storagePin: 1, serving: 1, previous: 3),
            expected: PolicyDecision(serving: 2, previous: 1, pinned: 2)),
        Row(
            name: "pin.json naming a version not in storage changes nothing",
            input: PolicyInput(discovered: [2, 3], states: [3: .available], storagePin: 1, serving: 3),
            expected: PolicyDecision(serving: 3)),
        Row(
            name: "pin.json's version failing keeps the default serving until its retry is due",
            input: PolicyInput(discovered: [1, 3], states: [1: .failed(retryDue: false), 3: .available], storagePin: 1, serving: 3),
            expected: PolicyDecision(serving: 3)),
        Row(
            name: "pin.json's failed version is retried when due",
            input: PolicyInput(discovered: [1, 3], states: [1: .failed(retryDue: true), 3: .available], storagePin: 1, serving: 3),
            expected: PolicyDecision(load: [1], serving: 3)),
    ]

    @Test(arguments: rows)
    func decidesAsTheTableSays(_ row: Row) {
        #expect(VersionPolicy.decide(row.input) == row.expected)
    }

    @Test func neverUnloadsTheVersionItServes() {
        // Every combination of three versions over every state, with and without a pin.
        let states: [PolicyVersionState?] = [nil, .loading, .available, .failed(retryDue: false), .failed(retryDue: true)]
        var chose = 0, loaded = 0, unloaded = 0
        for a in states { for b in states { for c in states {
            for discoveredMask in 0..<8 { for serving in [nil, 1, 2, 3] { for pinned in [nil, 1, 3] { for storagePin in [nil, 1, 2] {
                var stateMap: [Int: PolicyVersionState] = [:]
                for (version, state) in [(1, a), (2, b), (3, c)] { if let state { stateMap[version] = state } }
                let discovered = Set([1, 2, 3].filter { discoveredMask & (1 << ($0 - 1)) != 0 })
                let input = PolicyInput(
                    discovered: discovered, states: stateMap, pinned: pinned, storagePin: storagePin, serving: serving)
                let decision = VersionPolicy.decide(input)
                if let chosen = decision.serving {
                    #expect(stateMap[chosen] == .available)
                    #expect(!decision.unload.contains(chosen))
                }
                if let current = serving, stateMap[current] == .available {
                    #expect(decision.serving != nil, "an available serving version must not leave a gap")
                }
                for version in decision.load { #expect(discovered.contains(version)) }
                if decision.serving != nil { chose += 1 }
                if !decision.load.isEmpty { loaded += 1 }
                if !decision.unload.isEmpty { unloaded += 1 }
            } } } }
        } } }
        // The combinations reach every kind of decision the invariants are about.
        #expect(chose > 0 && loaded > 0 && unloaded > 0, "serving chosen \(chose), loads \(loaded), unloads \(unloaded)")
    }
}

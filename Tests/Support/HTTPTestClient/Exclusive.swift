import Testing

/// A trait for tests that load the whole machine (child processes, hundreds of connections,
/// descriptor limits): such tests run one at a time across every suite and test target of the
/// test process, so one of them never competes with another for the two cores, descriptors or
/// child-process slots. `.serialized` alone orders tests only within one suite.
///
/// Applied to a suite it covers every test in it; the gate is taken around each test case,
/// never around a whole suite, so a suite's own tests cannot wait on themselves.
///
/// Its time limit starts when the test holds the gate. Swift Testing's `.timeLimit` would
/// start before the wait, so on a loaded machine the last of a dozen queued exclusive tests
/// failed its limit without hanging, only for waiting its turn. Exclusive suites therefore
/// carry this limit instead of `.timeLimit`.
public struct ExclusiveTrait: TestTrait, SuiteTrait, TestScoping {
    /// Bounds a hang of one test case once it runs alone.
    public let timeLimit: Duration

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> ExclusiveTrait? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await ExclusiveGate.shared.enter()
        let limit = timeLimit
        do {
            try await Self.runBounded(limit: limit, function) {
                Issue.record("\(test.name) ran alone for longer than its time limit of \(limit)")
            }
        } catch {
            await ExclusiveGate.shared.leave()
            throw error
        }
        await ExclusiveGate.shared.leave()
    }

    /// Races `function` with a timer, as Swift Testing's own limit does: the first to finish
    /// wins and the other is cancelled. On time-out `onTimeout` runs and
    /// `ExclusiveTimeLimitExceeded` is thrown; a function that ignores cancellation is still
    /// waited for.
    public static func runBounded(
        limit: Duration, _ function: @Sendable () async throws -> Void,
        onTimeout: @escaping @Sendable () -> Void
    ) async throws {
        // The group awaits both children before it returns, so `function` does not outlive
        // this call.
        try await withoutActuallyEscaping(function) { function in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Task.sleep(for: limit)
                    onTimeout()
                    throw ExclusiveTimeLimitExceeded(limit: limit)
                }
                group.addTask(operation: function)
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}

/// Thrown when an exclusive test runs past its limit (the issue is already recorded).
public struct ExclusiveTimeLimitExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "exclusive time limit of \(limit) exceeded" }
}

extension Trait where Self == ExclusiveTrait {
    /// Runs the test (or every test of the suite) alone among the tests that carry this trait,
    /// and fails it when it runs alone for longer than `timeLimit` (time spent waiting for its
    /// turn does not count).
    public static func exclusive(timeLimit: Duration) -> Self { ExclusiveTrait(timeLimit: timeLimit) }
}

/// A first-come, first-served gate; waiters suspend (they hold no thread).
actor ExclusiveGate {
    static let shared = ExclusiveGate()
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Hands the gate to the next waiter, which then holds it, or frees it.
    func leave() {
        if waiters.isEmpty { held = false } else { waiters.removeFirst().resume() }
    }
}

extension Duration {
    /// Written as `.timeLimit(.minutes(n))` is, for `.exclusive(timeLimit: .minutes(n))`.
    public static func minutes(_ minutes: Int) -> Duration { .seconds(minutes * 60) }
}

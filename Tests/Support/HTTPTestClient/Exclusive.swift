import Testing

/// A trait for tests that load the whole machine (child processes, hundreds of connections,
/// descriptor limits): such tests run one at a time across every suite and test target of the
/// test process, so one of them never competes with another for the two cores, descriptors or
/// child-process slots. `.serialized` alone orders tests only within one suite.
///
/// Applied to a suite it covers every test in it; the gate is taken around each test case,
/// never around a whole suite, so a suite's own tests cannot wait on themselves.
public struct ExclusiveTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> ExclusiveTrait? {
        testCase == nil ? nil : self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await ExclusiveGate.shared.enter()
        do {
            try await function()
        } catch {
            await ExclusiveGate.shared.leave()
            throw error
        }
        await ExclusiveGate.shared.leave()
    }
}

extension Trait where Self == ExclusiveTrait {
    /// Runs the test (or every test of the suite) alone among the tests that carry this trait.
    public static var exclusive: Self { ExclusiveTrait() }
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

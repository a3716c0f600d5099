import FoundationEssentials
import Glibc
import Inference
import JSON
import Logging
import Monitoring
import Posix
import Registry
import Synchronization

/// One predict request, as the monitor sees it: the listings, the answers, and the versions
/// that took part. The handles keep those versions alive until the worker is done with them.
///
/// A class, reused by the request thread that hands it over (`HandedOver`): a hand-over costs
/// a reference for the queue's slot and one for the thread that keeps it, and no allocation
/// once the thread has a spare, where a struct of a dozen references was retained field by
/// field for each.
final class MonitorJob: @unchecked Sendable {
    // @unchecked: filled and emptied only by the request thread that owns it; the worker reads
    // it only between the queue handing it over (the queue's release and acquire publish the
    // fields) and counting it finished (`HandedOver.finished`, release and acquire), and the
    // owner touches it again only after that. Never two threads at once.

    /// Everything in one value, boxed (`ConfinedBox`): filling, reading or emptying a job
    /// takes no run-time exclusivity check, where a stored `var` took one per access.
    struct Contents {
        var model = ""
        var serving: ServableHandle<ServingModel>!
        var canary: ServableHandle<ServingModel>?
        /// Per listing, whether the canary answered it (nil: not split).
        var byCanary: [Bool]?
        var shadow: ServableHandle<ServingModel>?
        var routing: RolloutRouting?
        var listings: [[FeatureValue]] = []
        var predictions: [Prediction] = []
        /// Per listing the serving version answered, its fields' term counts from the scoring
        /// pass (`signature.fields.count` entries a listing, in listing order), for input skew;
        /// nil when not counted (skew off, or the version has no profile).
        var termCounts: [TermCount?]?
        var requestID: String?
        /// Listings (indices) to write to the payload log; set by `submit`.
        var sampled: [Int] = []
        /// When the request was answered; read only for payload lines (nil: none sampled).
        var time: Date?
    }
    private let box = ConfinedBox(Contents())
    fileprivate(set) var contents: Contents {
        unsafeAddress { UnsafePointer(box.address) }
        unsafeMutableAddress { box.address }
    }

    /// Lets go of everything the job holds (freed here, on the owner's thread).
    fileprivate func empty() { contents = Contents() }
}

/// A job and the record of the thread that handed it over.
struct QueuedJob: Sendable {
    let job: MonitorJob
    let handedOver: HandedOver
}

/// The jobs one request thread handed over, kept by that thread until the worker is done
/// with them, so that the memory they hold (listings, answers, term counts: allocated on that
/// thread) is freed on it. Freed on the worker, a free could take the request thread's malloc
/// arena lock, and the worker, at idle priority, preempted while holding it held up that
/// thread's next allocation until the machine had idle CPU: at saturation a 1-listing
/// predict's p99 was 20–41 ms with input skew on and 0.9 ms with it off.
///
/// Confined to its thread but for `finished`, which the worker bumps after dropping each job
/// of this thread's, in the order the thread handed them over (one queue, one worker).
final class HandedOver: @unchecked Sendable {
    static let perThread = PerThread { HandedOver() }

    // Confined to this object's thread; boxed, so that their accesses take no run-time
    // exclusivity check (`ConfinedBox`). Two boxes: recycling a job (into the spares) happens
    // while `drop` walks the jobs.
    private let jobs = ConfinedBox(KeptInOrder<MonitorJob>())
    /// Emptied jobs for the next requests (at most `maxSpares`).
    private let spares = ConfinedBox<[MonitorJob]>([])
    /// As many as `ReusedStorage` keeps arrays: the worker finishes jobs in bursts.
    private static let maxSpares = 64
    /// Jobs of this thread's the worker has finished with (and dropped its references to).
    let finished = Atomic<Int>(0)
    /// This thread's reused storage, which finished jobs give their arrays back to.
    private let storage = ReusedStorage.perThread.current

    /// A job to fill: a spare, or a new one.
    func job() -> MonitorJob { spares.value.popLast() ?? MonitorJob() }

    /// Keeps a job the queue took.
    func keep(_ job: MonitorJob) { jobs.value.keep(job) }

    /// Empties (frees, on this thread) every kept job the worker has finished with, and keeps
    /// it as a spare; its listings, predictions and term counts go back to `storage`.
    func dropFinished() {
        jobs.value.drop(finished: finished.load(ordering: .acquiring)) { job in
            storage.takeBack(from: &job.contents)
            recycle(job)
        }
    }

    /// Takes back a job no other thread holds.
    func recycle(_ job: MonitorJob) {
        job.empty()
        if spares.value.count < Self.maxSpares { spares.value.append(job) }
    }
}

/// Items kept in the order they were handed over, dropped oldest first once a count of them
/// is finished (the worker finishes them in that order).
struct KeptInOrder<Item> {
    private var items: [Item?] = []
    private var head = 0
    /// Items dropped so far.
    private(set) var dropped = 0

    /// Items kept now.
    var count: Int { items.count - head }

    mutating func keep(_ item: Item) { items.append(item) }

    /// Drops the kept items among the first `done` ever kept, handing each to `each` first.
    mutating func drop(finished done: Int, _ each: (Item) -> Void = { _ in }) {
        while dropped < done, head < items.count {
            if let item = items[head].take() { each(item) }
            head += 1
            dropped += 1
        }
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
    }
}

/// `rollout.*`, `monitoring.*`: how much the monitor may queue, and what it does.
public struct MonitorConfiguration: Sendable {
    /// Listings waiting for the worker; beyond it a request's listings are skipped and counted.
    public var queueCapacity: Int
    /// Compare live inputs with the serving version's training profile.
    public var inputSkew: Bool
    /// Values per field in the sliding window the skew PSI is computed over.
    public var skewWindow: Int

    public init(queueCapacity: Int = 10_000, inputSkew: Bool = true, skewWindow: Int = 1000) {
        self.queueCapacity = queueCapacity
        self.inputSkew = inputSkew
        self.skewWindow = skewWindow
    }
}

/// Shadow scoring, shadow and canary comparisons, guards, input skew and payload sampling,
/// all off the response path: a request hands its listings and answers over (`submit`: a
/// lock-free queue) and returns; one worker thread, at idle
/// priority (SCHED_IDLE), does the rest. When the queue is full the request's listings are
/// skipped and counted — the response is never delayed, and on a saturated replica the
/// worker takes no CPU from the event loops. What a request hands over is freed by its own
/// thread, once the worker is done with it (`HandedOver`).
///
/// Threads: request threads call `submit`; the worker thread owns the scoring and the figures
/// (comparisons, skew, counters per model: `working`, its alone); status and metrics readers
/// read `published`, which the worker replaces as a whole.
public final class LiveMonitor: Sendable {
    public let configuration: MonitorConfiguration
    let payload: PayloadLog?
    private let registry: ModelRegistry<ServingModelLoader>
    private let logger: Logger
    private let queue: WorkQueue<QueuedJob>
    /// The figures the worker merges each request's into, without a lock.
    private let working = WorkerFigures()
    /// The figures as of the worker's last publication, for readers (status, metrics, the
    /// console): the worker swaps in a copy of `working` (copy-on-write: one reference under
    /// the lock) after a job once `publishIntervalNanoseconds` have passed, and whenever its
    /// queue is empty after a job, so what readers see is at most that old while traffic lasts and
    /// complete once it stops. Readers never wait for a merge: the worker, at idle priority,
    /// can be preempted at any instant, and a `/metrics` scrape on an event loop had waited up
    /// to 54 ms behind a merge it held the lock for (1-listing predicts at saturation).
    private let published = Mutex<[String: ModelMonitor]>([:])
    static let publishIntervalNanoseconds: UInt64 = 50_000_000
    /// Listings skipped because the queue was full, per model (each version holds its model's counter).
    private let skipped: MonitorSkipCounters
    private let thread = Mutex<pthread_t?>(nil)
    /// Runs on the worker before each job (tests hold the worker with it).
    private let testsOnly_beforeJob: (@Sendable () -> Void)?

    init(configuration: MonitorConfiguration, registry: ModelRegistry<ServingModelLoader>, payload: PayloadLog?,
         skipCounters: MonitorSkipCounters, logger: Logger, testsOnly_beforeJob: (@Sendable () -> Void)? = nil) {
        self.configuration = configuration
        self.testsOnly_beforeJob = testsOnly_beforeJob
        self.registry = registry
        self.payload = payload
        self.skipped = skipCounters
        self.logger = logger
        queue = WorkQueue(capacity: configuration.queueCapacity, linger: .milliseconds(10))
    }

    /// Starts the worker (and the payload writer).
    func start() throws(SystemError) {
        try payload?.start()
        let id = try PosixThread.spawn { [self] in run() }
        thread.withLock { $0 = id }
    }

    /// Stops the worker without working through its backlog (at idle priority on a busy
    /// machine that could outlast the drain and hold up the exit): what was queued is counted
    /// as skipped, its payload lines as dropped. Then stops the payload writer, which writes
    /// what it already holds.
    func stop() {
        for queued in queue.closeDiscardingQueued() {
            let job = queued.job
            job.contents.serving.servable.monitorSkipped.value.add(job.contents.listings.count, ordering: .relaxed)
            if !job.contents.sampled.isEmpty { payload?.dropped.add(job.contents.sampled.count, ordering: .relaxed) }
        }
        if let id = thread.withLock({ current in defer { current = nil }; return current }) { PosixThread.join(id) }
        payload?.stop()
    }

    /// Counts every queued job finished without processing it, as the worker counts a job it
    /// processed. For cost-bench, which counts the request path with the worker not started:
    /// its request thread then reuses its jobs, as a thread does when the worker keeps up.
    func finishQueuedUnprocessed() {
        while let queued = queue.poll() { Self.finish(queued) }
    }

    /// Whether jobs for `serving` will observe input skew: then scoring counts the terms.
    func countsTerms(of serving: ServingModel) -> Bool { configuration.inputSkew && serving.hasProfile }

    /// Hands one request over, if there is anything to do with it; `contents` is made only
    /// then, and goes into a spare job of this thread's.
    /// Never blocks on the worker, and per request costs a check, a lock-free offer and an
    /// append (a skipped request counts with one atomic add). First empties, on this thread,
    /// what it handed over before and the worker has finished with.
    /// Returns whether a job now holds what `contents` gave it (the worker will see it).
    @discardableResult
    func submit(serving: ServingModel, routing: RolloutRouting?, listings: Int, _ contents: () -> MonitorJob.Contents) -> Bool {
        let sampled = payload?.sample(count: listings) ?? []
        guard routing?.isActive == true || countsTerms(of: serving) || !sampled.isEmpty else { return false }
        let handedOver = HandedOver.perThread.current
        handedOver.dropFinished()
        let job = handedOver.job()
        job.contents = contents()
        if !sampled.isEmpty {
            job.contents.sampled = sampled
            job.contents.time = Date()
        }
        if queue.offer(QueuedJob(job: job, handedOver: handedOver), units: max(listings, 1)) {
            handedOver.keep(job)
            return true
        }
        serving.monitorSkipped.value.add(listings, ordering: .relaxed)
        if !sampled.isEmpty { payload?.dropped.add(sampled.count, ordering: .relaxed) }
        handedOver.recycle(job)
        return false
    }

    // MARK: Worker

    private func run() {
        // Idle priority: shadow scoring, comparisons and skew use spare CPU only. A replica
        // with none to spare falls behind, its queue fills, and listings are skipped and
        // counted — the answers keep their speed.
        if !PosixThread.lowerCurrentToIdlePriority() {
            logger.notice("monitor worker keeps normal priority (SCHED_IDLE refused)")
        }
        while let queued = queue.take() {
            testsOnly_beforeJob?()
            process(queued.job)
            publishIfDue()
            Self.finish(queued)
        }
    }

    /// Drops the worker's references to a job, then counts it finished: the thread that
    /// handed it over then holds the last ones, and frees what the job held there.
    private static func finish(_ queued: consuming QueuedJob) {
        let handedOver = queued.handedOver
        _ = consume queued
        handedOver.finished.add(1, ordering: .releasing)
    }

    private func process(_ job: MonitorJob) {
        let serving = job.contents.serving.servable
        // The serving version's answer for every listing: the response's, or computed here
        // for listings the canary answered.
        var baseline = job.contents.predictions
        // The canary's scores, per listing, when the request was split (else empty).
        var canaryScores: [Double?] = []
        // A comparison (three histograms) only when there is something to compare: without a
        // rollout, making and merging two empty ones was most of a job's cost.
        var canaryComparison: ScoreComparison?
        if let byCanary = job.contents.byCanary {
            var comparison = ScoreComparison()
            canaryScores = [Double?](filledWith: nil, count: job.contents.listings.count)
            for (i, listing) in job.contents.listings.enumerated() where byCanary[i] {
                baseline[i] = serving.model.predict(listing)
                comparison.add(baseline: baseline[i], candidate: job.contents.predictions[i])
                canaryScores[i] = job.contents.predictions[i].score
            }
            canaryComparison = comparison
        }
        var shadowScores: [Double] = []
        var shadowComparison: ScoreComparison?
        if let shadow = job.contents.shadow?.servable {
            var comparison = ScoreComparison()
            shadowScores.reserveCapacity(job.contents.listings.count)
            for (i, listing) in job.contents.listings.enumerated() {
                let prediction = shadow.model.predict(shadow.values(listing, from: serving))
                comparison.add(baseline: baseline[i], candidate: prediction)
                shadowScores.append(prediction.score)
            }
            shadowComparison = comparison
        }

        // Mutated in place: a copy out of the dictionary would copy every skew window.
        working.models[job.contents.model, default: ModelMonitor()]
            .absorb(job: job, shadow: shadowComparison, canary: canaryComparison, configuration: configuration)
        let breach: String? = {
            guard let guards = job.contents.routing?.guards, job.contents.routing?.canary != nil, let model = working.models[job.contents.model] else { return nil }
            if let reason = guards.breach(of: model.canary) { return "canary: \(reason)" }
            if job.contents.routing?.shadow != nil, let reason = guards.breach(of: model.shadow) { return "shadow: \(reason)" }
            return nil
        }()
        if let breach, let canary = job.contents.routing?.canary {
            abort(model: job.contents.model, canary: canary.version, reason: breach)
        }
        if let payload, !job.contents.sampled.isEmpty {
            for i in job.contents.sampled {
                payload.offer(Self.payloadLine(job, index: i, baseline: baseline[i].score, canary: canaryScores.isEmpty ? nil : canaryScores[i],
                                               shadow: shadowScores.isEmpty ? nil : shadowScores[i]))
            }
        }
    }

    /// Publishes the worker's figures when the queue is empty or `publishIntervalNanoseconds`
    /// have passed since the last time. The dictionary readers had is released here, outside
    /// the lock.
    private func publishIfDue() {
        let now = MonotonicClock.nanoseconds()
        guard queue.queuedUnits == 0 || now &- working.publishedAt >= Self.publishIntervalNanoseconds else { return }
        working.publishedAt = now
        var figures = working.models
        published.withLock { swap(&$0, &figures) }
    }

    private func abort(model: String, canary: Int, reason: String) {
        guard let abort = (try? registry.abortCanary(model: model, reason: reason, automatic: true, canaryVersion: canary)) ?? nil
        else { return }
        working.models[model]?.aborts += 1
        if abort.recordError != nil { working.models[model]?.abortRecordFailures += 1 }
        logger.warning("canary aborted by a guard", metadata: [
            "model.name": .string(model), "model.version": .stringConvertible(canary), "reason": .string(reason),
        ])
        if let problem = abort.recordError {
            logger.error("guard abort not recorded in storage; it holds in memory until a restart", metadata: [
                "model.name": .string(model), "model.version": .stringConvertible(canary), "error": .string(problem),
            ])
        }
    }

    /// One payload line: time, request id, model, the versions that scored the listing, its
    /// signature fields (values only for fields the signature names; nothing else of the
    /// request) and the scores.
    static func payloadLine(_ job: MonitorJob, index i: Int, baseline: Double, canary: Double?, shadow: Double?) -> [UInt8] {
        let serving = job.contents.serving.servable
        var out = JSONWriter(capacity: 512)
        out.raw("{\"time\":")
        out.string((job.contents.time ?? Date()).formatted(.iso8601))
        out.raw(",\"request_id\":")
        if let id = job.contents.requestID { out.string(id) } else { out.null() }
        out.raw(",\"model\":")
        out.string(job.contents.model)
        let byCanary = job.contents.byCanary?[i] == true
        out.raw(",\"answered_by\":")
        out.number(byCanary ? (job.contents.canary?.version ?? job.contents.serving.version) : job.contents.serving.version)
        out.raw(",\"versions\":{\"serving\":")
        out.number(job.contents.serving.version)
        if let canary = job.contents.canary, byCanary {
            out.raw(",\"canary\":")
            out.number(canary.version)
        }
        if let shadow = job.contents.shadow {
            out.raw(",\"shadow\":")
            out.number(shadow.version)
        }
        out.raw("},\"listing\":{")
        for (k, name) in serving.fieldNames.enumerated() {
            if k > 0 { out.raw(",") }
            out.string(name)
            out.raw(":")
            switch k < job.contents.listings[i].count ? job.contents.listings[i][k] : .missing {
            case .string(let s): out.string(s)
            case .number(let x): out.number(x)
            case .bool(let b): out.bool(b)
            case .missing: out.null()
            }
        }
        out.raw("},\"scores\":{\"serving\":")
        out.number(baseline)
        if let canary {
            out.raw(",\"canary\":")
            out.number(canary)
        }
        if let shadow {
            out.raw(",\"shadow\":")
            out.number(shadow)
        }
        out.raw("}}")
        return out.bytes
    }

    // MARK: Reading

    /// The figures of one model now (nil: nothing monitored yet).
    func report(model: String) -> MonitorReport? {
        let skippedListings = skipped.count(model: model)
        let monitor = published.withLock { $0[model] }
        guard monitor != nil || skippedListings > 0 else { return nil }
        let model = monitor ?? ModelMonitor()
        return MonitorReport(
            servingVersion: model.key?.serving, routing: model.key?.routing, shadow: model.shadow, canary: model.canary,
            skipped: skippedListings, aborts: model.aborts, abortRecordFailures: model.abortRecordFailures, skewVersion: model.skewVersion,
            skew: model.skew?.report ?? [], skewListings: model.skew?.listings ?? 0, skewTotals: model.skewTotals)
    }

    /// Every monitored model's figures, by name.
    func reports() -> [String: MonitorReport] {
        let names = published.withLock { Array($0.keys) } + skipped.models
        var result: [String: MonitorReport] = [:]
        for name in Set(names) { result[name] = report(model: name) }
        return result
    }

    /// Tests: waits until the worker has taken every queued job (not that it finished the last).
    func testsOnly_queuedListings() -> Int { queue.queuedUnits }
}

/// Listings the monitor skipped because its queue was full, per model: one counter per model,
/// made when a version of it loads and held by every version, so a skipped request counts
/// with one atomic add (no lock, no lookup by name). Counters only grow.
public final class MonitorSkipCounters: Sendable {
    public final class Counter: Sendable {
        let value = Atomic<Int>(0)
        public init() {}
    }

    /// Model name → its counter. Guarded by its Mutex; taken at loads and by readers only.
    private let counters = Mutex<[String: Counter]>([:])

    public init() {}

    /// The model's counter, made on first use.
    func counter(model: String) -> Counter {
        counters.withLock { counters in
            if let counter = counters[model] { return counter }
            let counter = Counter()
            counters[model] = counter
            return counter
        }
    }

    func count(model: String) -> Int {
        counters.withLock { $0[model] }?.value.load(ordering: .relaxed) ?? 0
    }

    /// Models with a skipped listing.
    var models: [String] {
        counters.withLock { counters in counters.filter { $0.value.value.load(ordering: .relaxed) > 0 }.map(\.key) }
    }
}

/// What only the monitor's worker thread touches.
private final class WorkerFigures: @unchecked Sendable {
    // @unchecked: made before the worker starts and used by the worker thread alone (`run`
    // and what it calls).
    var models: [String: ModelMonitor] = [:]
    /// When `models` was last published (monotonic nanoseconds).
    var publishedAt: UInt64 = 0
}

/// What the monitor keeps per model: the worker's (`WorkerFigures`), and readers' copies of it.
struct ModelMonitor: Sendable {
    struct Key: Sendable, Hashable {
        var serving: Int
        var routing: RolloutRouting?
    }
    /// The serving version and rollout the comparisons belong to; a change starts them afresh.
    var key: Key?
    var shadow = ScoreComparison()
    var canary = ScoreComparison()
    var aborts = 0
    /// Guard aborts the registry could not write to `rollout-abort.json`.
    var abortRecordFailures = 0
    /// The serving version whose profile `skew` compares with.
    var skewVersion: Int?
    var skew: InputSkew?
    /// Skew counts of earlier serving versions, per field.
    var retiredSkew: [String: FieldSkew.Counts] = [:]

    /// - Parameters: shadow, canary: this job's comparisons; nil when it had none.
    mutating func absorb(job: MonitorJob, shadow: ScoreComparison?, canary: ScoreComparison?, configuration: MonitorConfiguration) {
        let key = Key(serving: job.contents.serving.version, routing: job.contents.routing)
        if key != self.key {
            self.key = key
            self.shadow = ScoreComparison()
            self.canary = ScoreComparison()
        }
        if let shadow { self.shadow.merge(shadow) }
        if let canary { self.canary.merge(canary) }

        let model = job.contents.serving.servable.model
        guard configuration.inputSkew, let profile = model.manifest.profile else { return }
        if skewVersion != job.contents.serving.version {
            // The counters on the metrics page only grow: what the previous version counted is kept.
            for field in skew?.report ?? [] { retiredSkew[field.name, default: FieldSkew.Counts()].add(field.counts) }
            skewVersion = job.contents.serving.version
            skew = InputSkew(profile: profile, signature: model.signature, pipeline: model.pipeline, window: configuration.skewWindow)
        }
        let fields = model.signature.fields.count
        let byCanary = job.contents.byCanary
        // Read in place: a listing or a slice of the counts copied out retained the request
        // thread's arrays, whose reference counts then moved from core to core.
        job.contents.listings.withUnsafeBufferPointer { listings in
            withTermCounts(job.contents.termCounts) { counts in
                for i in listings.indices {
                    listings[i].withUnsafeBufferPointer { values in
                        // Counted while scoring, unless the canary answered the listing (its pipeline's counts).
                        if let counts, byCanary?[i] != true {
                            skew?.observe(values: values, termCounts: UnsafeBufferPointer(rebasing: counts[i * fields..<(i + 1) * fields]))
                        } else {
                            skew?.observe(values: values, termCounts: nil)
                        }
                    }
                }
            }
        }
    }

    /// `counts` as a buffer during `body` (nil: none).
    @inline(__always)
    private func withTermCounts(_ counts: [TermCount?]?, _ body: (UnsafeBufferPointer<TermCount?>?) -> Void) {
        guard let counts else { return body(nil) }
        counts.withUnsafeBufferPointer { body($0) }
    }

    /// Skew counts since start, per field, over every serving version.
    var skewTotals: [String: FieldSkew.Counts] {
        var totals = retiredSkew
        for field in skew?.report ?? [] { totals[field.name, default: FieldSkew.Counts()].add(field.counts) }
        return totals
    }
}

/// A copy of one model's monitor figures, for the status route and the metrics page.
struct MonitorReport: Sendable {
    var servingVersion: Int?
    var routing: RolloutRouting?
    var shadow: ScoreComparison
    var canary: ScoreComparison
    var skipped: Int
    var aborts: Int
    var abortRecordFailures: Int
    var skewVersion: Int?
    var skew: [FieldSkew]
    var skewListings: Int
    var skewTotals: [String: FieldSkew.Counts]
}

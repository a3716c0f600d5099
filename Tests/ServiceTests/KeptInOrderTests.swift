import Testing
@testable import Service

/// What a request thread hands the monitor is kept there and dropped, oldest first, once the
/// worker has finished with it: dropping is what frees it, on the thread that keeps it.
@Suite(.timeLimit(.minutes(10))) struct KeptInOrderTests {
    final class Tracked {
        let freed: () -> Void
        init(freed: @escaping () -> Void) { self.freed = freed }
        deinit { freed() }
    }

    @Test func finishedItemsAreDroppedOldestFirstAndNoOthers() {
        var freed: [Int] = []
        var kept = KeptInOrder<Tracked>()
        for k in 0..<5 { kept.keep(Tracked { freed.append(k) }) }
        kept.drop(finished: 2)
        #expect(freed == [0, 1] && kept.count == 3 && kept.dropped == 2)
        kept.drop(finished: 2)  // nothing more finished
        #expect(freed == [0, 1] && kept.count == 3)
        // The worker may finish an item before the thread keeps it: a count ahead of the kept
        // items drops what there is, and the rest once kept.
        kept.drop(finished: 7)
        #expect(freed == [0, 1, 2, 3, 4] && kept.count == 0)
        kept.keep(Tracked { freed.append(5) })
        kept.keep(Tracked { freed.append(6) })
        kept.keep(Tracked { freed.append(7) })
        kept.drop(finished: 7)
        #expect(freed == [0, 1, 2, 3, 4, 5, 6] && kept.count == 1)
    }

    @Test func droppedItemsAreHandedOverOldestFirst() {
        var kept = KeptInOrder<Int>()
        for k in 0..<4 { kept.keep(k) }
        var handed: [Int] = []
        kept.drop(finished: 3) { handed.append($0) }
        #expect(handed == [0, 1, 2] && kept.count == 1)
    }

    /// A request thread fills the jobs the worker has finished with again, instead of
    /// allocating one per request; a job still queued or being processed is never reused.
    @Test func aThreadReusesOnlyTheJobsTheWorkerFinished() {
        let handedOver = HandedOver()
        let first = handedOver.job(), second = handedOver.job()
        #expect(first !== second)
        handedOver.keep(first)
        handedOver.keep(second)
        handedOver.dropFinished()
        let third = handedOver.job()
        #expect(third !== first && third !== second, "nothing finished, nothing reused")
        handedOver.finished.add(1, ordering: .releasing)
        handedOver.dropFinished()
        #expect(handedOver.job() === first, "the oldest, once finished")
        #expect(handedOver.job() !== second, "the second is not finished")
        handedOver.recycle(third)  // a job the queue refused
        #expect(handedOver.job() === third)
    }

    @Test func aLongBacklogIsCompactedAsItDrains() {
        var kept = KeptInOrder<Int>()
        var total = 1_000
        for k in 0..<total { kept.keep(k) }
        var done = 0
        while done < total {
            done += 37
            kept.drop(finished: done)
            #expect(kept.count == max(0, total - done) && kept.dropped == min(done, total))
            kept.keep(-1)  // one more handed over per step
            total += 1
        }
    }
}

import Glibc
import HTTPTestClient
import Synchronization
import Testing
@testable import Posix

@Suite(.timeLimit(.minutes(10))) struct WorkQueueTests {
    @Test func deliversInOrderRefusesPastCapacityAndEndsAfterClose() {
        let queue = WorkQueue<Int>(capacity: 5)
        #expect(queue.offer(1, units: 2))
        #expect(queue.offer(2, units: 3))
        #expect(!queue.offer(3), "5 units queued: a sixth is refused")
        #expect(queue.queuedUnits == 5)
        #expect(queue.take() == 1)
        #expect(queue.offer(4, units: 2))
        queue.close()
        #expect(!queue.offer(5), "closed: refused")
        #expect(queue.take() == 2)
        #expect(queue.take() == 4)
        #expect(queue.take() == nil)
    }

    @Test func closingWithoutTheBacklogHandsItBackAndEndsTakesAtOnce() {
        let queue = WorkQueue<Int>(capacity: 10)
        for i in 0..<4 { #expect(queue.offer(i, units: 2)) }
        #expect(queue.take() == 0)
        #expect(queue.closeDiscardingQueued() == [1, 2, 3])
        #expect(queue.queuedUnits == 0)
        #expect(queue.take() == nil)
        #expect(!queue.offer(9))
        #expect(queue.closeDiscardingQueued() == [])
    }

    /// A consumer held in its linger (by the test, not a clock) takes a burst offered
    /// meanwhile without being signalled once; without a linger, a consumer that waits is
    /// signalled for the next item.
    @Test func aLingeringConsumerIsNotSignalledForWhatArrivesWhileItLingers() throws {
        let lingering = Latch(count: 1), release = Latch(count: 1)
        let queue = WorkQueue<Int>(capacity: 1000, linger: .milliseconds(10)) {
            lingering.countDown()
            release.wait(timeoutSeconds: 120)
        }
        let taken = Mutex<[Int]>([])
        let consumer = try PosixThread.spawn {
            while let item = queue.take() { taken.withLock { $0.append(item) } }
        }
        #expect(lingering.wait(timeoutSeconds: 120))
        for i in 0..<100 { #expect(queue.offer(i)) }
        release.countDown()
        #expect(eventually { taken.withLock { $0.count } == 100 })
        #expect(taken.withLock { $0 } == Array(0..<100))
        #expect(queue.signalsSent == 0, "offers during the linger signal nobody")
        queue.close()
        pthread_join(consumer, nil)

        // Lingering on its clock, a consumer is woken once the queue is half full.
        let small = WorkQueue<Int>(capacity: 8, linger: .seconds(3600))
        let smallTaken = Mutex(0)
        let smallConsumer = try PosixThread.spawn {
            while small.take() != nil { smallTaken.withLock { $0 += 1 } }
        }
        #expect(eventually { small.testsOnly_lingering == 1 })
        for i in 0..<3 { #expect(small.offer(i)) }
        #expect(small.signalsSent == 0, "under half full: the lingering consumer is left alone")
        #expect(small.offer(3))
        #expect(eventually { smallTaken.withLock { $0 } == 4 }, "half full: woken well before its hour")
        #expect(small.signalsSent == 1)
        small.close()  // wakes the consumer from its hour-long linger
        pthread_join(smallConsumer, nil)

        let plain = WorkQueue<Int>(capacity: 10)
        let plainTaken = Mutex(0)
        let plainConsumer = try PosixThread.spawn {
            while plain.take() != nil { plainTaken.withLock { $0 += 1 } }
        }
        #expect(eventually { plain.testsOnly_waiting == 1 })
        #expect(plain.offer(1))
        #expect(eventually { plainTaken.withLock { $0 } == 1 })
        #expect(plain.signalsSent == 1, "the waiting consumer was woken")
        plain.close()
        pthread_join(plainConsumer, nil)
    }

    /// Four producers race one lingering consumer through a small queue: every accepted item
    /// arrives exactly once and each producer's items in the order offered; what the small
    /// queue refuses is only refused, never lost after acceptance or delivered twice.
    @Test func racingProducersLoseAndRepeatNothing() throws {
        let queue = WorkQueue<Int>(capacity: 64, linger: .milliseconds(1))
        let producers = 4, offers = 20_000
        let received = Mutex<[Int]>([])
        let consumer = try PosixThread.spawn {
            var local: [Int] = []
            while let item = queue.take() { local.append(item) }
            received.withLock { $0 = local }
        }
        let accepted = Mutex<[[Int]]>(Array(repeating: [], count: producers))
        let threads = try (0..<producers).map { producer in
            try PosixThread.spawn {
                var mine: [Int] = []
                for sequence in 0..<offers {
                    let item = producer * offers + sequence
                    if queue.offer(item) { mine.append(item) }
                }
                accepted.withLock { $0[producer] = mine }
            }
        }
        for thread in threads { pthread_join(thread, nil) }
        queue.close()
        pthread_join(consumer, nil)
        let got = received.withLock { $0 }
        let sent = accepted.withLock { $0 }
        #expect(got.count == sent.map(\.count).reduce(0, +))
        for producer in 0..<producers {
            let arrived = got.filter { $0 / offers == producer }
            #expect(arrived == sent[producer], "producer \(producer): its accepted items, once each, in order")
        }
        #expect(queue.queuedUnits == 0)
    }
}

import Testing
@testable import ProgressDisplay

@Suite(.timeLimit(.minutes(10))) struct ProgressBarTests {
    @Test func etaAssumesTheRemainingUnitsTakeTheAverageSoFar() {
        #expect(ProgressBar.secondsLeft(done: 2, total: 5, elapsed: 4) == 6)
        #expect(ProgressBar.secondsLeft(done: 5, total: 5, elapsed: 4) == 0)
        #expect(ProgressBar.secondsLeft(done: 0, total: 5, elapsed: 4) == nil)
    }

    @Test func clockFormats() {
        #expect(ProgressBar.clock(0) == "0:00")
        #expect(ProgressBar.clock(65.4) == "1:05")
        #expect(ProgressBar.clock(3_725) == "1:02:05")
        #expect(ProgressBar.clock(-3) == "0:00")
    }

    @Test func rendersBarPercentCountsElapsedEtaAndDetail() {
        let line = ProgressBar.render(ProgressUpdate(task: "L-BFGS", done: 120, total: 400, detail: "objective 0.5"), elapsed: 4, width: 20)
        #expect(line == "L-BFGS         [######--------------]  30%  120/400  0:04 elapsed, ETA 0:09  objective 0.5")
        let start = ProgressBar.render(ProgressUpdate(task: "cross-validation", done: 0, total: 5), elapsed: 0, width: 10)
        #expect(start == "cross-validation [----------]   0%  0/5  0:00 elapsed, ETA ?")
        // Finished: no ETA; counts past the total are clamped.
        let done = ProgressBar.render(ProgressUpdate(task: "folds", done: 7, total: 5), elapsed: 12, width: 10)
        #expect(done == "folds          [##########] 100%  5/5  0:12 elapsed")
        #expect(ProgressUpdate(task: "x", done: 5, total: 5).isFinished)
    }
}

import Synchronization
import Testing
@testable import ProgressDisplay

/// What a `TerminalProgress` wrote, in order.
private final class Captured: Sendable {
    let texts = Mutex<[String]>([])
    var all: [String] { texts.withLock { $0 } }
    func display(terminal: Bool) -> TerminalProgress {
        TerminalProgress(isTerminal: terminal, write: { text in self.texts.withLock { $0.append(text) } })
    }
}

@Suite(.timeLimit(.minutes(10))) struct TerminalProgressTests {
    @Test func offATerminalMessagesArePlainLinesAndBarsAreNotDrawn() {
        let captured = Captured()
        let display = captured.display(terminal: false)
        display.line("loading data.csv")
        display.update(ProgressUpdate(task: "L-BFGS", done: 3, total: 10))
        display.update(ProgressUpdate(task: "L-BFGS", done: 10, total: 10))
        display.line("training done")
        #expect(captured.all.count == 2)
        #expect(captured.all[0].hasPrefix("[0."))
        #expect(captured.all[0].hasSuffix("s] loading data.csv\n"))
        #expect(captured.all[1].hasSuffix("s] training done\n"))
    }

    @Test func onATerminalTheBarIsRedrawnInPlaceAndMessagesPrintAboveIt() throws {
        let captured = Captured()
        let display = captured.display(terminal: true)
        display.update(ProgressUpdate(task: "folds", done: 1, total: 4))
        display.line("fold 1 done")
        display.update(ProgressUpdate(task: "folds", done: 4, total: 4))
        display.line("after")
        let texts = captured.all
        try #require(texts.count == 4)
        // The bar: carriage return, clear line, the bar, no newline (redrawn by the next write).
        #expect(texts[0].hasPrefix("\r\u{1B}[K" + "folds"))
        #expect(texts[0].contains(" 25%  1/4"))
        #expect(!texts[0].hasSuffix("\n"))
        // A message clears the bar's line, prints, and draws the bar again below it.
        let bar = String(texts[0].dropFirst(4))
        #expect(texts[1].hasPrefix("\r\u{1B}[K["))
        #expect(texts[1].hasSuffix("s] fold 1 done\n" + bar))
        // A finished step is drawn even within 0.1 s of the last draw, and stays as its own line.
        #expect(texts[2].contains("100%  4/4"))
        #expect(texts[2].hasSuffix("\n"))
        #expect(!texts[2].contains("ETA"))
        // No bar is left to redraw after it.
        #expect(texts[3].hasSuffix("s] after\n"))
        #expect(!texts[3].contains("folds"))
    }

    @Test func updatesWithinATenthOfASecondAreNotRedrawn() {
        let captured = Captured()
        let display = captured.display(terminal: true)
        // 1,000 updates in a row take far less than 0.1 s each apart: the first draws, and at
        // most one more per elapsed 0.1 s.
        let clock = ContinuousClock()
        let start = clock.now
        for done in 0..<1_000 { display.update(ProgressUpdate(task: "predict", done: done, total: 2_000)) }
        let tenths = (clock.now - start) / .milliseconds(100)
        #expect(captured.all.count >= 1)
        #expect(Double(captured.all.count) <= tenths + 1)
    }

    @Test func secondsShowOneDecimal() {
        #expect(TerminalProgress.formatSeconds(0) == "0.0s")
        #expect(TerminalProgress.formatSeconds(12.34) == "12.3s")
        #expect(TerminalProgress.formatSeconds(59.96) == "60.0s")
    }
}

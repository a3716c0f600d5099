import FoundationEssentials
import Inference
import Testing
@testable import Training

@Suite(.timeLimit(.minutes(10))) struct DisguiseTests {
    func disguised(_ text: String, _ kind: DisguiseKind, seed: UInt64 = 1) -> String {
        var generator = SeededGenerator(seed: seed)
        return Disguiser.disguise(text, as: kind, using: &generator)
    }

    @Test func separatorKindsPutOneSeparatorBetweenTheLettersOfEveryLongerWord() {
        #expect(disguised("rivotril 2mg cx", .dots) == "r.i.v.o.t.r.i.l 2mg cx")
        #expect(disguised("rivotril 2mg cx", .spaces) == "r i v o t r i l 2mg cx")
        #expect(disguised("Rivotril", .hyphens) == "R-i-v-o-t-r-i-l")
        #expect(disguised("pistola de pressão", .underscores) == "p_i_s_t_o_l_a de p_r_e_s_s_ã_o")
        #expect(disguised("glock", .zeroWidth) == "g\u{200B}l\u{200B}o\u{200B}c\u{200B}k")
    }

    @Test func shortWordsDigitsAndPunctuationStayAsTheyAre() {
        for kind in DisguiseKind.allCases {
            #expect(disguised("kit 60UP7750 1/2/3/4 R$ 25,90 - 2mg", kind) == "kit 60UP7750 1/2/3/4 R$ 25,90 - 2mg", "\(kind)")
        }
    }

    @Test func leetspeakWritesVowelsAsDigitsOrSymbols() {
        let text = disguised("rivotril", .leetspeak)
        #expect(text.count == 8)
        #expect(!text.contains("i") && !text.contains("o"))
        #expect(text.hasPrefix("r") && text.hasSuffix("l"))
        #expect(text.unicodeScalars.allSatisfy { "rv1!0tl7".unicodeScalars.contains($0) })
    }

    @Test func repeatsWriteOneLetterThreeToFiveTimes() {
        for seed in 0..<20 as Range<UInt64> {
            let text = disguised("rivotril", .repeats, seed: seed)
            #expect((10...12).contains(text.count), "\(text)")
            var collapsed = ""
            for character in text where collapsed.last != character || "rivotril".contains(String(character) + String(character)) {
                collapsed.append(character)
            }
            #expect(collapsed == "rivotril", "\(text)")
        }
    }

    @Test func homoglyphsReplaceLettersWithLookAlikesOfOtherScripts() {
        let text = disguised("RIVOTRIL original", .homoglyphs, seed: 3)
        #expect(text != "RIVOTRIL original")
        #expect(text.unicodeScalars.count == "RIVOTRIL original".unicodeScalars.count)
        for (original, replaced) in zip("RIVOTRIL original".unicodeScalars, text.unicodeScalars) where original != replaced {
            #expect(Disguiser.lookAlikes[original]?.contains(replaced) == true)
        }
        // Full-width and mathematical bold forms exist for every letter.
        #expect(Disguiser.lookAlikes["a"]?.contains("\u{FF41}") == true)
        #expect(Disguiser.lookAlikes["Z"]?.contains("\u{1D419}") == true)
    }

    @Test func splitPutsOneHyphenInsideTheWordWithTwoLettersEachSide() {
        for seed in 0..<20 as Range<UInt64> {
            let text = disguised("rivotril", .split, seed: seed)
            let parts = text.split(separator: "-")
            #expect(parts.count == 2 && parts.allSatisfy { $0.count >= 2 }, "\(text)")
            #expect(parts.joined() == "rivotril")
        }
        #expect(disguised("faca", .split) == "fa-ca")
    }

    @Test func theSameSeedGivesTheSameDisguiseAndAnotherSeedUsuallyNot() {
        let title = "Pistola airsoft spring com munição e coldre original"
        for kind in DisguiseKind.allCases {
            #expect(disguised(title, kind, seed: 5) == disguised(title, kind, seed: 5))
        }
        let variants = Set((0..<10 as Range<UInt64>).map { disguised(title, .leetspeak, seed: $0) })
        #expect(variants.count > 1)
    }

    @Test func robustnessReportScoresEveryKindOnTheSameRows() throws {
        let storage = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: storage) }
        let model = try publishedSmallModel(storage)
        let trained = try smallLogisticModel.get()
        let report = RobustnessReport.measure(model, inputs: trained.testInputs, labels: trained.testLabels)
        #expect(report.rows.map(\.kind) == [nil] + DisguiseKind.allCases.map(Optional.some))
        #expect(report.rows[0].confusion == trained.testMetrics.confusion)
        for row in report.rows { #expect(row.confusion.total == trained.testLabels.count) }
        // Letters separated by dots leave the small model no word it knows.
        let dots = report.rows.first { $0.kind == .dots }!
        #expect(dots.recall < report.rows[0].recall)
        #expect(report.table.split(separator: "\n").count == DisguiseKind.allCases.count + 2)
    }
}

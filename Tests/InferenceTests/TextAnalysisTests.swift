import Testing
@testable import Inference

/// Expected lists are what scikit-learn's `CountVectorizer(lowercase=True, strip_accents="unicode",
/// token_pattern=r"(?u)\b\w\w+\b")` analyser returns (Python 3.11, reasoned from its source:
/// lower() → NFKD minus combining marks → `re.findall` → `_word_ngrams`).
@Suite(.timeLimit(.minutes(10))) struct TextAnalysisTests {
    func words(_ text: String, _ minN: Int = 1, _ maxN: Int = 1, stripAccents: Bool = true) -> [String] {
        TermExtractor(stripAccents: stripAccents, ngramMin: minN, ngramMax: maxN).terms(in: text)
    }

    @Test func wordUnigramsAndBigramsMatchScikitLearn() {
        #expect(words("Pistola 9mm Glock, Réplica!", 1, 2)
            == ["pistola", "9mm", "glock", "replica", "pistola 9mm", "9mm glock", "glock replica"])
    }

    @Test func stripsPortugueseAccents() {
        #expect(words("Ação Promoção Coração Maçã") == ["acao", "promocao", "coracao", "maca"])
    }

    @Test func stripsSpanishAccentsAndDiaeresis() {
        #expect(words("Niño Pequeño Pingüino Árbol Über") == ["nino", "pequeno", "pinguino", "arbol", "uber"])
    }

    @Test func lowercasesNonASCIIUppercaseIncludingGreekFinalSigma() {
        #expect(words("ÉCOLE ÑANDÚ ΣΟΦΟΣ ΣΑΣ") == ["ecole", "nandu", "σοφος", "σας"])
    }

    @Test func lowercasesDottedCapitalIThenStripsItsDot() {
        #expect(words("İSTANBUL") == ["istanbul"])
    }

    @Test func dropsOneCharacterTokens() {
        #expect(words("a b cd e") == ["cd"])
        #expect(words("a b c d", 1, 3) == [])
    }

    @Test func keepsDigitsAndMixedAlphanumerics() {
        #expect(words("iPhone 12 Pro 256GB") == ["iphone", "12", "pro", "256gb"])
    }

    @Test func keepsUnderscoresInsideTokens() {
        #expect(words("foo_bar baz-qux") == ["foo_bar", "baz", "qux"])
    }

    @Test func splitsOnPunctuation() {
        #expect(words("a.b.c ab.cd x/yz 3,5mg") == ["ab", "cd", "yz", "5mg"])
    }

    @Test func treatsEmojiAsSeparators() {
        #expect(words("🔫 pistola🔫nova 😀😀") == ["pistola", "nova"])
    }

    @Test func appliesCompatibilityDecomposition() {
        // ﬁ → fi, ² → 2, fullwidth → ASCII, Ⅻ → xii, ½ → 1⁄2 (fraction slash splits).
        #expect(words("ﬁlm x² ＡＢＣ") == ["film", "x2", "abc"])
        #expect(words("Ⅻ ½x") == ["xii", "2x"])
    }

    @Test func decomposesHangulAndKeepsCJK() {
        let terms = words("한국어 東京")
        #expect(terms.count == 2)
        // NFKD turns the syllables into conjoining jamo (what scikit-learn hashes and stores).
        #expect(Array(terms[0].unicodeScalars).map(\.value)
            == [0x1112, 0x1161, 0x11AB, 0x1100, 0x116E, 0x11A8, 0x110B, 0x1165])
        #expect(terms[1] == "東京")
    }

    @Test func combiningMarksSplitTokensWhenAccentsAreKept() {
        // Python's re does not count U+0301 as \w: "e" + U+0301 + "cole" → only "cole".
        #expect(words("e\u{0301}cole", stripAccents: false) == ["cole"])
        #expect(words("e\u{0301}cole") == ["ecole"])
    }

    @Test func keepsCaseWhenLowercaseIsOff() {
        let extractor = TermExtractor(lowercase: false, stripAccents: true)
        #expect(extractor.terms(in: "Réplica GLOCK") == ["Replica", "GLOCK"])
    }

    @Test func buildsOnlyHigherNGramsWhenMinimumIsTwo() {
        #expect(words("uno dos tres", 2, 3) == ["uno dos", "dos tres", "uno dos tres"])
    }

    @Test func preprocessReturnsTheNormalisedText() {
        #expect(TermExtractor.preprocess("Coração ÑANDÚ") == "coracao nandu")
        #expect(TermExtractor.preprocess("Coração", lowercase: false, stripAccents: false) == "Coração")
    }

    @Test func charWBNGramsPadWordsLikeScikitLearn() {
        let extractor = TermExtractor(analyzer: .charWB, ngramMin: 2, ngramMax: 3)
        #expect(extractor.terms(in: "ab  cde")
            == [" a", "ab", "b ", " ab", "ab ", " c", "cd", "de", "e ", " cd", "cde", "de "])
    }

    @Test func charWBCountsAShortWordOnce() {
        #expect(TermExtractor(analyzer: .charWB, ngramMin: 3, ngramMax: 4).terms(in: "a") == [" a "])
        #expect(TermExtractor(analyzer: .charWB, ngramMin: 1, ngramMax: 2).terms(in: "Ño x")
            == [" ", "n", "o", " ", " n", "no", "o ", " ", "x", " ", " x", "x "])
    }

    @Test func emptyAndWhitespaceTextGiveNoTerms() {
        #expect(words("") == [])
        #expect(words("   \t\n ") == [])
        #expect(TermExtractor(analyzer: .charWB, ngramMin: 2, ngramMax: 3).terms(in: " \u{00A0} ") == [])
    }
}

@Suite(.timeLimit(.minutes(10))) struct TextAnalysisEdgeCaseTests {
    func words(_ text: String) -> [String] { TermExtractor().terms(in: text) }

    @Test func lowercasesTitlecaseDigraphsAndLetterlikeSymbols() {
        // ǅ → ǆ → d + ž → dz; Ω (ohm sign) → ω; K (Kelvin sign) → k; ß stays ß.
        #expect(words("ǅemal Straße Ωhm Kelvin") == ["dzemal", "straße", "ωhm", "kelvin"])
    }

    @Test func finalSigmaLooksPastCaseIgnorableCharacters() {
        // "ΟΔΟΣ." ends a word (ς); in "ΟΔΟΣ'Α" a cased letter follows past the apostrophe (σ).
        #expect(words("ΟΔΟΣ. ΟΔΟΣ'Α") == ["οδος", "οδοσ"])
    }

    @Test func fullwidthDigitsBecomeASCII() {
        #expect(words("Ａ１２ x") == ["a12"])
    }

    @Test func precomputedTableAgreesWithTheGeneralPathForEveryScalarBelow0x3000() {
        for configuration in [(true, true), (true, false), (false, true)] {
            let extractor = TermExtractor(lowercase: configuration.0, stripAccents: configuration.1)
            for v in UInt32(0)..<0x3000 where v != 0x03A3 {
                guard let scalar = Unicode.Scalar(v) else { continue }
                var fast: [Unicode.Scalar] = []
                extractor.forEachNormalizedScalar(String(Character(scalar))) { fast.append($0) }
                let slow = TermExtractor.mapSlowly(scalar, lowercase: configuration.0, stripAccents: configuration.1)
                #expect(fast == slow, "U+\(String(v, radix: 16)) lowercase=\(configuration.0) strip=\(configuration.1)")
                if fast != slow { return }
            }
        }
    }

    /// The UTF-8 walk (eight ASCII bytes at a time where it can) gives what mapping each scalar
    /// on its own gives, into a closure and into a buffer, at every alignment of ASCII runs
    /// around non-ASCII scalars.
    @Test func normalisedTextIsTheScalarByScalarMapping() {
        let others: [String] = ["É", "ç", "Ø", "ǅ", "ﬁ", "東", "😀", "İ", "ß", "\u{0301}"]
        let ascii = "AbCdEfGhIjKlMnOpQrStUvWxYz@[`{ 09_-"
        for configuration in [(true, true), (true, false), (false, true)] {
            let extractor = TermExtractor(lowercase: configuration.0, stripAccents: configuration.1)
            for (k, other) in others.enumerated() {
                for before in 0..<18 {
                    let text = String(ascii.prefix(before)) + other + String(ascii.dropFirst(k).prefix(before + 5)) + other
                    let expected = text.unicodeScalars.flatMap {
                        TermExtractor.mapSlowly($0, lowercase: configuration.0, stripAccents: configuration.1)
                    }
                    var walked: [Unicode.Scalar] = []
                    extractor.forEachNormalizedScalar(text) { walked.append($0) }
                    var buffered: [Unicode.Scalar] = []
                    let fits = extractor.withAnalysedScalars(text) { buffered = Array($0) }
                    #expect(walked == expected, "\(text) \(configuration)")
                    #expect(fits && buffered == expected, "\(text) \(configuration)")
                    if walked != expected { return }
                }
            }
        }
    }

    @Test func asciiWordsLowercaseEveryByteAtEveryPosition() {
        for position in 0..<8 {
            for byte in UInt8(0)..<0x80 {
                let filler: UInt64 = 0x2E2E_2E2E_2E2E_2E2E  // "........"
                let shift = UInt64(8 * position)
                let word = filler & ~(0xFF << shift) | UInt64(byte) << shift
                let lowered = UInt8(truncatingIfNeeded: ASCIIWord.lowercased(word) >> shift)
                #expect(lowered == (byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte))
                #expect(ASCIIWord.lowercased(word) & ~(0xFF << shift) == filler & ~(0xFF << shift))
            }
        }
        #expect(ASCIIWord.isASCII(0x7F7F_7F7F_7F7F_7F7F))
        #expect(!ASCIIWord.isASCII(0x0000_0080_0000_0000))
    }

    @Test func asciiWordCharactersAreTheRegexClass() {
        for v in UInt8(0)..<0x80 {
            let c = Character(Unicode.Scalar(v))
            #expect(PythonCharacterClass.isWord(Unicode.Scalar(v)) == (c.isASCII && (c.isLetter || c.isNumber || c == "_")), "\(v)")
        }
    }

    @Test func wordCharactersFollowPythonRegex() {
        #expect(PythonCharacterClass.isWord("_"))
        #expect(PythonCharacterClass.isWord("ß"))
        #expect(PythonCharacterClass.isWord("½"))  // No: numeric
        #expect(PythonCharacterClass.isWord("東"))
        #expect(!PythonCharacterClass.isWord("\u{0301}"))  // combining acute (Mn)
        #expect(!PythonCharacterClass.isWord("\u{203F}"))  // undertie (Pc other than _)
        #expect(!PythonCharacterClass.isWord("-"))
        #expect(PythonCharacterClass.isWord("𝐀"))  // outside the BMP: mathematical bold A (Lu)
        #expect(!PythonCharacterClass.isWord("😀"))
    }
}

import Testing
@testable import Inference

/// `char_wb` blocks replay a word's hits from the thread's `WordHitCache`: the columns and
/// values must be those of the uncached walk (`TextBlock.append(_:offset:to:)`, terms in
/// scikit-learn's order), whether the cache is cold, warm, refilling after it forgot
/// everything, or shared by blocks with the same words.
@Suite(.timeLimit(.minutes(10))) struct WordHitCacheTests {
    /// The columns `block` gives `text` on the scoring path (analysed, cached).
    static func scored(_ block: TextBlock, _ text: String) -> SparseVector {
        var vector = SparseVector()
        let fitted = block.extractor.withAnalysedScalars(text) { scalars in
            block.append(analysed: AnalysedScalars(scalars), offset: 0, to: &vector)
        }
        #expect(fitted, "\(text)")
        return vector
    }

    /// The same from the text, term by term, without the cache.
    static func reference(_ block: TextBlock, _ text: String) -> SparseVector {
        var vector = SparseVector()
        block.append(FeatureText(text), offset: 0, to: &vector)
        return vector
    }

    static func blocks() throws -> [TextBlock] {
        let extractor = TermExtractor(analyzer: .charWB, ngramMin: 2, ngramMax: 4, normalization: .all)
        var vocabulary: [String: Int] = [:]
        for text in ScoringPathTests.awkwardTexts + Self.words.prefix(300) {
            // Some n-grams left out, so that words have misses as well as hits.
            for term in extractor.terms(in: text) where vocabulary[term] == nil && term.unicodeScalars.last!.value % 3 != 0 {
                vocabulary[term] = vocabulary.count
            }
        }
        let idf = (0..<vocabulary.count).map { 1 + Double($0 % 5) * 0.25 }
        return try [
            TextBlock(TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 4,
                               vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline(idf), sublinearTF: true)),
                               normalization: .all), path: "t", weights: []),
            TextBlock(TextSpec(field: "title", analyzer: .charWB, ngramMin: 1, ngramMax: 3,
                               vectorizer: .hashing(HashingSpec(nFeatures: 512, alternateSign: true, norm: .l2))),
                      path: "h", weights: []),
        ]
    }

    /// 6,000 distinct words (more than the cache keeps), from syllables, some with accents.
    static let words: [String] = {
        let syllables = ["pa", "ra", "to", "ção", "mi", "ño", "gu", "lé", "sa", "ke", "vi", "do", "ma", "ri", "ta", "lo"]
        var words: [String] = []
        var state: UInt64 = 7
        while words.count < 6_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var word = ""
            for k in 0..<(2 + Int(state >> 61) % 3) { word += syllables[Int((state >> (8 * UInt64(k) + 3)) & 15)] }
            words.append(word + String(words.count))
        }
        return words
    }()

    @Test func cachedHitsAreTheWalkedOnesColdWarmAndAfterForgetting() throws {
        let blocks = try Self.blocks()
        let cache = WordHitCache.forCurrentThread()
        cache.clear()
        // Titles of common words twice (walked, then found), then every distinct word (the cache
        // forgets and refills), then the titles again: each text scored by both blocks in turn,
        // so that their entries interleave.
        var titles = ScoringPathTests.awkwardTexts
        for i in 0..<400 {
            let count = 1 + i % 9
            let title: [String] = (0..<count).map { (k: Int) -> String in Self.words[(k * 7 + i) % 50] }
            titles.append(title.joined(separator: i % 4 == 0 ? "  " : " "))
        }
        var many: [String] = []
        for start in stride(from: 0, to: Self.words.count, by: 8) { many.append(Self.words[start..<start + 8].joined(separator: " ")) }
        let foundBefore = cache.found
        for text in titles + titles + many + titles {
            for block in blocks {
                let scored = Self.scored(block, text), reference = Self.reference(block, text)
                #expect(scored.indices == reference.indices && scored.values == reference.values, "\(text)")
                if scored.values != reference.values { return }
            }
        }
        // The common words were found, not walked, most of the time.
        #expect(cache.found - foundBefore > 2_000)
    }

    @Test func blocksDoNotReadEachOthersWords() throws {
        // Two blocks with the same analyzer and different vocabularies score the same word.
        let first = try TextBlock(TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 2,
                                           vectorizer: .tfidf(TfidfSpec(vocabulary: [" g": 0, "gl": 1], idf: .inline([1, 1])))),
                                  path: "a", weights: [])
        let second = try TextBlock(TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 2,
                                            vectorizer: .tfidf(TfidfSpec(vocabulary: ["ck": 0, "k ": 1, "oc": 2], idf: .inline([1, 1, 1])))),
                                   path: "b", weights: [])
        for _ in 0..<3 {
            #expect(Self.scored(first, "glock").indices == [0, 1])
            #expect(Self.scored(second, "glock").indices == [0, 1, 2])
        }
        #expect(first.cacheID != second.cacheID)
    }

    @Test func aWordTooLongToKeepIsWalkedEachTime() throws {
        let block = try Self.blocks()[1]
        let long = String(repeating: "ab", count: WordHitCache.longestWord)
        let cache = WordHitCache.forCurrentThread()
        let missedBefore = cache.missed
        for _ in 0..<3 {
            let scored = Self.scored(block, long), reference = Self.reference(block, long)
            #expect(scored.indices == reference.indices && scored.values == reference.values)
        }
        #expect(cache.missed - missedBefore == 3)
    }
}

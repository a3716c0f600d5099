import FoundationEssentials
import Testing
@testable import Inference

/// The scoring path (`FeaturePipeline.dot`, unordered terms with extended hashes, buffers on
/// the stack) against the reference path (`transform`, terms in scikit-learn's order).
/// The unordered walk with a closure, as the tests read it.
struct ClosureTermVisitor: TermVisitor {
    let body: (UnsafeBufferPointer<UInt8>, UInt64) -> Void
    func visit(_ term: UnsafeBufferPointer<UInt8>, hash: UInt64) { body(term, hash) }
}

extension TermExtractor {
    func forEachUnorderedTerm(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, _ body: (UnsafeBufferPointer<UInt8>, UInt64) -> Void) {
        withoutActuallyEscaping(body) { body in
            var visitor = ClosureTermVisitor(body: body)
            visitUnorderedTerms(scalars, &visitor)
        }
    }

    /// The terms of `text` tokenised straight from its UTF-8; false when it did not fit.
    func forEachUnorderedTermFromUTF8(_ text: String, _ body: (UnsafeBufferPointer<UInt8>, UInt64) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var visitor = ClosureTermVisitor(body: body)
            return withWordTokens(FeatureText(text)) { $0.visitTerms(of: self, &visitor) }
        }
    }
}

@Suite(.timeLimit(.minutes(10))) struct ScoringPathTests {
    static let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let awkwardTexts = [
        "", " ", "a", "ab", "a b c", "  spaced   out\ttabs\nand\u{00A0}nbsp  ",
        "Pistola 9mm Glock, Réplica!", "ÇÃO ação AÇÃO", "Σίσυφος ΟΔΥΣΣΕΥΣ", "ﬁre ﬃ ㎏ ẞ İstanbul",
        "p1st0l@ g-l-o-c-k  aaaaaarma", "z\u{200B}ero\u{200D}width", "🔫 emoji 🔫🔫 ok", "한국어 텍스트 日本語",
        String(repeating: "longword", count: 40), "x y", "ab cd ef gh ij kl mn op qr st uv wx yz",
        "\u{FDFA} expands a lot", "café CAFÉ cafe\u{0301}",
        (0..<40).map { "Word\($0 % 13)" }.joined(separator: " "), "a ab a abc _x_ 9 99 x9 É ÉÉ de de a",
    ]

    static func titles() throws -> [String] {
        let text = try String(contentsOf: root.appending(path: "data/listings.csv"), encoding: .utf8)
        let rows = csvRows(text)
        guard let column = rows.first?.firstIndex(of: "title") else { return [] }
        return rows.dropFirst().compactMap { $0.count > column ? $0[column] : nil }
    }

    /// RFC 4180 rows (quoted fields with doubled quotes).
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let c = pending ?? scalars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = scalars.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { field.unicodeScalars.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else if c != "\r" { field.unicodeScalars.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static let extractors: [TermExtractor] = [
        TermExtractor(),
        TermExtractor(ngramMin: 1, ngramMax: 3, stopWords: ["de", "a"]),
        TermExtractor(analyzer: .charWB, ngramMin: 2, ngramMax: 4, normalization: .all),
        TermExtractor(analyzer: .charWB, ngramMin: 3, ngramMax: 3),
        TermExtractor(analyzer: .charWB, ngramMin: 1, ngramMax: 6, asciiOnly: true),
        TermExtractor(analyzer: .char, ngramMin: 1, ngramMax: 3),
        TermExtractor(lowercase: false, stripAccents: false, analyzer: .char, ngramMin: 4, ngramMax: 5),
        TermExtractor(ngramMin: 2, ngramMax: 2, normalization: .all),
    ]

    @Test func unorderedTermsAreTheSameMultisetWithTheirOwnHashes() throws {
        let texts = try Self.awkwardTexts + Self.titles().prefix(2_000)
        for extractor in Self.extractors {
            for text in texts {
                let expected = extractor.terms(in: text).sorted()
                var actual: [String] = []
                var hashesAgree = true
                let fits = extractor.withAnalysedScalars(text) { scalars in
                    extractor.forEachUnorderedTerm(scalars) { term, hash in
                        actual.append(String(decoding: term, as: UTF8.self))
                        if hash != TermHash.of(term) { hashesAgree = false }
                    }
                }
                if fits {
                    #expect(actual.sorted() == expected, "\(extractor.analyzer) \(extractor.ngramMin)…\(extractor.ngramMax): \(text)")
                    #expect(hashesAgree)
                } else {
                    #expect(text.contains("\u{FDFA}"), "only an expanding text may not fit: \(text)")
                }
            }
        }
    }

    /// Word tokens made straight from UTF-8 give the ordered walk's terms, stop words, case,
    /// accents and non-Latin scripts included; only a text that expands past the buffer is
    /// refused (the scalar path then takes it).
    @Test func wordTokensFromUTF8AreTheOrderedWalksTerms() throws {
        let texts = try Self.awkwardTexts + Self.titles().prefix(2_000)
        let extractors = Self.extractors + [
            TermExtractor(lowercase: false, stripAccents: false, ngramMin: 1, ngramMax: 2),
            TermExtractor(lowercase: true, stripAccents: false, ngramMin: 1, ngramMax: 1),
            TermExtractor(ngramMin: 1, ngramMax: 2, asciiOnly: true),
            TermExtractor(ngramMin: 1, ngramMax: 2, normalization: TextNormalization([.homoglyphs])),
        ]
        var fused = 0
        for extractor in extractors where extractor.tokenizesFromUTF8 {
            fused += 1
            for text in texts {
                var actual: [String] = []
                var hashesAgree = true
                let fits = extractor.forEachUnorderedTermFromUTF8(text) { term, hash in
                    actual.append(String(decoding: term, as: UTF8.self))
                    if hash != TermHash.of(term) { hashesAgree = false }
                }
                if fits {
                    #expect(actual.sorted() == extractor.terms(in: text).sorted(), "\(extractor.ngramMin)…\(extractor.ngramMax): \(text)")
                    #expect(hashesAgree)
                } else {
                    #expect(text.contains("\u{FDFA}"), "only an expanding text may not fit: \(text)")
                }
            }
        }
        #expect(fused == 6)
        #expect(!TermExtractor(analyzer: .charWB).tokenizesFromUTF8)
        #expect(!TermExtractor(normalization: .all).tokenizesFromUTF8)
    }

    @Test func sortsHitsOfAnyShape() {
        var generator = SystemRandomNumberGenerator()
        // Both sides of the radix threshold; one, two, three and four counting passes (keys
        // of up to 8, 16, 24 and 32 bits); an odd number of passes leaves the keys in the
        // scratch buffer, to be copied back.
        for count in [0, 1, 2, 16, 17, TermHitSort.radixThreshold - 1, TermHitSort.radixThreshold, 100, 1_000, 5_000] {
            for shape in 0..<8 {
                var hits: [TermHit] = (0..<count).map { i in
                    switch shape {
                    case 0: TermHit.random(in: 0..<2_000, using: &generator)
                    case 1: TermHit(i)
                    case 2: TermHit(count - i)
                    case 3: TermHit(i % 3)
                    case 4: TermHit.random(in: 0..<256, using: &generator)
                    case 5: TermHit.random(in: 0..<(1 << 21), using: &generator)
                    case 6: TermHit.random(in: 0 ... .max, using: &generator)
                    default: 0
                    }
                }
                let expected = hits.sorted()
                hits.withUnsafeMutableBufferPointer { TermHitSort.sort($0) }
                #expect(hits == expected)
            }
        }
    }

    @Test func hitsMoveToTheHeapPastTheStackBuffer() {
        withUnsafeTemporaryAllocation(of: TermHit.self, capacity: 4) { stack in
            var hits = TermHits(stack: stack)
            for k in (0..<10).reversed() { hits.collect(TermHit(column: Int32(k), negative: k % 2 == 0)) }
            hits.withHits { all in
                TermHitSort.sort(all)
                #expect(all.map(\.column) == Array(0..<10))
                #expect(all.map(\.weight) == (0..<10).map { $0 % 2 == 0 ? -1 : 1 })
            }
        }
    }

    /// The thread's column counter hands columns out in increasing order with their summed
    /// signs, across words and summary words, and is all zero again afterwards.
    @Test func columnCounterGivesSortedCountsAndClearsItself() {
        let width = 3 * 4096 + 17
        let counter = ColumnCounter.forCurrentThread(width: width)
        var expected: [Int32: Int32] = [:]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let column = Int32(generator.next() % UInt64(width))
            let delta: Int32 = generator.next() % 3 == 0 ? -1 : 1
            counter.add(column, delta)
            expected[column, default: 0] += delta
        }
        counter.add(Int32(width - 1), 1)
        counter.add(Int32(width - 1), -1)  // counted, back to 0
        expected[Int32(width - 1), default: 0] += 0
        var seen: [(Int32, Int32)] = []
        #expect(counter.takeCounts(width: width) { seen.append(($0, $1)); return true })
        #expect(seen.map(\.0) == expected.keys.sorted())
        #expect(seen.allSatisfy { expected[$0.0] == $0.1 })
        var after = 0
        _ = counter.takeCounts(width: width) { _, _ in after += 1; return true }
        #expect(after == 0)
        // A stop part-way still clears everything.
        for column in [1, 5000, 9000] as [Int32] { counter.add(column, 1) }
        var handed = 0
        #expect(!counter.takeCounts(width: width) { _, _ in handed += 1; return false })
        #expect(handed == 1)
        _ = counter.takeCounts(width: width) { _, _ in after += 1; return true }
        #expect(after == 0)
        // Growing keeps the counter usable and zero.
        let wider = ColumnCounter.forCurrentThread(width: ColumnCounter.maximumWidth)
        #expect(wider === counter)
        wider.add(Int32(ColumnCounter.maximumWidth - 1), 2)
        var last: [(Int32, Int32)] = []
        _ = wider.takeCounts(width: ColumnCounter.maximumWidth) { last.append(($0, $1)); return true }
        #expect(last.count == 1 && last[0].0 == Int32(ColumnCounter.maximumWidth - 1) && last[0].1 == 2)
    }

    /// Input-skew term counts walk the terms unordered, as scoring does: the same counts as
    /// the ordered walk, for every text block of the default model (an expanding text takes
    /// the ordered walk itself).
    @Test func termCountsAreTheOrderedWalksCounts() throws {
        let model = try LoadedModel.load(directory: Self.root.appending(path: "models/prohibited-items/1").path, checkLocation: false)
        let pipeline = model.pipeline
        let texts = try Self.awkwardTexts + Self.titles().prefix(2_000)
        var checked = 0
        var fields: Set<Int> = []
        for transformer in pipeline.transformers {
            // termCount reads the first text block of a field.
            guard case .text(let block) = transformer.kind, fields.insert(transformer.fieldIndex).inserted,
                case .tfidf(let vocabulary, _, _, _, _) = block.vectorizer
            else { continue }
            for text in texts {
                var terms = 0, known = 0
                block.extractor.forEachTerm(in: text) { term in
                    terms += 1
                    if vocabulary.column(of: term) != nil { known += 1 }
                }
                let count = pipeline.termCount(.string(text), field: transformer.fieldIndex)
                #expect(count == TermCount(terms: terms, inVocabulary: known), "\(text)")
                checked += 1
            }
        }
        #expect(checked >= Self.awkwardTexts.count)
    }

    /// The scoring pass counts each text field's terms as `termCount` does (input skew reads
    /// them instead of a second analysis), with the same score: the default model's title
    /// (word then `char_wb` blocks, one analysis, the word cache warm after the first round),
    /// listings side by side in one buffer, numbers read as text, missing fields nil.
    @Test func theScoringPassCountsTermsAsTermCountDoes() throws {
        let model = try LoadedModel.load(directory: Self.root.appending(path: "models/prohibited-items/1").path, checkLocation: false)
        let fields = model.signature.fields
        let titleIndex = try #require(model.signature.index(of: "title"))
        let texts = try Self.awkwardTexts + Self.titles().prefix(500)
        for _ in 0..<2 {
            var counts = [TermCount?](repeating: TermCount(terms: -1, inVocabulary: -1), count: texts.count * fields.count)
            for (i, text) in texts.enumerated() {
                var values = [FeatureValue](repeating: .missing, count: fields.count)
                values[titleIndex] = i % 50 == 7 ? .number(Double(i)) : .string(text)
                let prediction = model.predict(values, termCounts: &counts, at: i * fields.count)
                #expect(prediction == model.predict(values), "\(text)")
                for k in fields.indices {
                    #expect(counts[i * fields.count + k] == model.pipeline.termCount(values[k], field: k), "\(text) field \(k)")
                }
            }
        }
    }

    /// A `char_wb` block first in its field counts through the word cache (cold, then warm),
    /// and through the feature vector (`transform`, the path of ensembles and multi-class
    /// models): hashed, with no vocabulary share, and with a vocabulary.
    @Test func charWBAndTheVectorPathCountTermsToo() throws {
        let words = ["pistola", "glock", "airsoft", "replica", "9mm", "capa", "celular"]
        var vocabulary: [String: Int] = [:]
        for term in TermExtractor(analyzer: .charWB, ngramMin: 2, ngramMax: 3).terms(in: words.joined(separator: " ")) where term.count % 2 == 0 {
            if vocabulary[term] == nil { vocabulary[term] = vocabulary.count }
        }
        let firstBlocks: [TextVectorizerSpec] = [
            .hashing(HashingSpec(nFeatures: 256, alternateSign: true, norm: .l2)),
            .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline([Double](repeating: 1.5, count: vocabulary.count)))),
        ]
        for first in firstBlocks {
            let spec = PipelineSpec(transformers: [
                .text(TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 3, vectorizer: first)),
                .text(Fixture.titleSpec()),
                .categorical(Fixture.category),
            ])
            let pipeline = try FeaturePipeline(spec: spec, signature: Fixture.signature)
            let weights = (0..<pipeline.dimension).map { Double($0 % 5) * 0.3 - 0.5 }
            let texts = Self.awkwardTexts + (0..<40).map { i in (0..<(1 + i % 6)).map { words[($0 + i) % words.count] }.joined(separator: " ") }
            for _ in 0..<2 {
                for text in texts {
                    let values: [FeatureValue] = [.string("id"), .string(text), .string("MLB1"), .missing, .missing]
                    let reference = pipeline.termCount(values[1], field: 1)
                    var counts = [TermCount?](repeating: nil, count: Fixture.signature.fields.count)
                    let vector = counts.withUnsafeMutableBufferPointer { pipeline.transform(values, termCounts: $0) }
                    #expect(vector == pipeline.transform(values))
                    #expect(counts[1] == reference && counts[0] == nil && counts[2] == nil, "\(text)")
                    counts = [TermCount?](repeating: TermCount(terms: -1, inVocabulary: nil), count: Fixture.signature.fields.count)
                    let dot = weights.withUnsafeBufferPointer { w in counts.withUnsafeMutableBufferPointer { pipeline.dot(values, w, termCounts: $0) } }
                    #expect(dot == weights.withUnsafeBufferPointer { pipeline.dot(values, $0) })
                    #expect(counts[1] == reference && counts[0] == nil && counts[2] == nil, "\(text)")
                }
            }
        }
    }

    /// The committed default model on every listing of data/listings.csv: the same score to
    /// the last bit as through the feature vector.
    @Test func defaultModelScoresEveryListingAsTheVectorDoes() throws {
        let model = try LoadedModel.load(directory: Self.root.appending(path: "models/prohibited-items/1").path, checkLocation: false)
        let text = try String(contentsOf: Self.root.appending(path: "data/listings.csv"), encoding: .utf8)
        let rows = Self.csvRows(text)
        let header = try #require(rows.first)
        var checked = 0
        for row in rows.dropFirst() where row.count == header.count {
            let values: [FeatureValue] = model.manifest.signature.fields.map { field in
                guard let k = header.firstIndex(of: field.name), !row[k].isEmpty else { return .missing }
                switch field.type {
                case .number, .integer: return Double(row[k]).map(FeatureValue.number) ?? .string(row[k])
                default: return .string(row[k])
                }
            }
            let reference = Self.referenceScore(model, values)
            #expect(model.predict(values).score == reference, "\(row)")
            checked += 1
        }
        #expect(checked > 1_000)
        for title in Self.awkwardTexts {
            var values = [FeatureValue](repeating: .missing, count: model.manifest.signature.fields.count)
            if let k = model.manifest.signature.index(of: "title") { values[k] = .string(title) }
            #expect(model.predict(values).score == Self.referenceScore(model, values), "\(title)")
        }
    }

    /// The binary model's score through the feature vector (the reference path).
    static func referenceScore(_ model: LoadedModel, _ values: [FeatureValue]) -> Double {
        guard case .binary(let linear) = model.scorer else { return .nan }
        return linear.score(model.features(values))
    }

    /// A vocabulary whose table is larger than the caches: its slots are prefetched, terms
    /// hashed in a first pass and looked up in a second. The scores stay those of the vector.
    @Test func aVocabularyLargerThanTheCachesScoresAsTheVectorDoes() throws {
        let titles = try Self.titles().prefix(2_000)
        let extractor = TermExtractor(ngramMin: 1, ngramMax: 2)
        var vocabulary: [String: Int] = [:]
        for title in titles { for term in extractor.terms(in: title) where vocabulary[term] == nil { vocabulary[term] = vocabulary.count } }
        while vocabulary.count < 40_000 { vocabulary["filler\(vocabulary.count)"] = vocabulary.count }
        let table = TermTable(terms: Array(vocabulary.sorted { $0.value < $1.value }.map(\.key)))
        #expect(table.withLookup { $0.exceedsCaches })
        let idf = (0..<vocabulary.count).map { 1 + Double($0 % 5) * 0.25 }
        let spec = TextSpec(field: "title", ngramMin: 1, ngramMax: 2,
                            vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline(idf), sublinearTF: true)))
        let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(spec)]), signature: Fixture.signature)
        let weights = (0..<pipeline.dimension).map { Double($0 % 11) * 0.19 - 1 }
        var scored = 0
        for title in titles + Self.awkwardTexts {
            let values: [FeatureValue] = [.string("id"), .string(title), .missing, .missing, .missing]
            let dot = weights.withUnsafeBufferPointer { pipeline.dot(values, $0) }
            #expect(dot == pipeline.transform(values).dot(weights), "\(title)")
            if dot != 0 { scored += 1 }
        }
        #expect(scored > 1_000)
    }

    /// Hashing vectorizers (alternate sign, l1) and unnormalised tf-idf take the same path.
    @Test func otherVectorizersScoreAsTheVectorDoes() throws {
        let vocabulary = ["pistola": 0, "9mm": 1, "glock": 2, "replica": 3, "pistola 9mm": 4, "airsoft": 5]
        let specs: [TextSpec] = [
            TextSpec(field: "title", ngramMin: 1, ngramMax: 2,
                     vectorizer: .hashing(HashingSpec(nFeatures: 64, alternateSign: true, norm: .l1))),
            TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 3,
                     vectorizer: .hashing(HashingSpec(nFeatures: 128, alternateSign: false, norm: .l2, binary: true))),
            TextSpec(field: "title", ngramMin: 1, ngramMax: 2,
                     vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline([1.2, 1.5, 1.8, 1.1, 2.5, 1.3]), norm: .none))),
            // Wider than the column counter: char n-grams sorted instead.
            TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 4,
                     vectorizer: .hashing(HashingSpec(nFeatures: 2 * ColumnCounter.maximumWidth, alternateSign: true, norm: .l2))),
        ]
        for spec in specs {
            let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(spec), .categorical(Fixture.category)]),
                                               signature: Fixture.signature)
            let weights = (0..<pipeline.dimension).map { Double($0 % 7) * 0.37 - 1 }
            for title in Self.awkwardTexts + ["Pistola 9mm pistola 9MM glock airsoft replica réplica"] {
                let values: [FeatureValue] = [.string("id"), .string(title), .string("MLB1"), .missing, .missing]
                let dot = weights.withUnsafeBufferPointer { pipeline.dot(values, $0) }
                #expect(dot == pipeline.transform(values).dot(weights), "\(title)")
            }
        }
    }
}

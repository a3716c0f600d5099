import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct VocabularyLookupTests {
    @Test func findsNonASCIITermsByTheirExactBytes() throws {
        let hangul = TermExtractor().terms(in: "한국어")[0]  // conjoining jamo after NFKD
        let vocabulary = ["東京": 0, hangul: 1, "straße": 2, "pistola 9mm": 3]
        let signature = Signature(fields: [FieldSpec(name: "title", type: .string)])
        let spec = TextSpec(field: "title", ngramMin: 1, ngramMax: 2,
                            vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: .inline([1, 1, 1, 1]), norm: .none)))
        let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(spec)]), signature: signature)
        #expect(pipeline.transform([.string("東京 한국어 STRASSE Straße pistola 9MM")]).indices == [0, 1, 2, 3])
        #expect(pipeline.featureName(at: 1) == "title:\(hangul)")
    }

    @Test func looksUpEveryTermOfALargeVocabulary() {
        let terms = (0..<5_000).map { "term\($0) ç" }
        let table = TermTable(terms: terms)
        for (column, term) in terms.enumerated() {
            var copy = term
            let found = copy.withUTF8 { table.column(of: $0) }
            #expect(found == Int32(column))
            if found != Int32(column) { return }
        }
        var missing = "term5000 ç"
        #expect(missing.withUTF8 { table.column(of: $0) } == nil)
        var empty = ""
        #expect(empty.withUTF8 { table.column(of: $0) } == nil)
    }

    @Test func paddedLookupsAgreeWithByteByByteOnes() {
        let terms = (0..<400).map { k in String(repeating: k % 3 == 0 ? "é" : "a", count: k % 13) + "\(k)" } + ["", "a", "ab", "abcdefgh"]
        let table = TermTable(terms: terms)
        var generator = SystemRandomNumberGenerator()
        let probes = terms + ["abcdefg", "abcdefghi", "zz", "aé", "a\u{0}"]
        table.withLookup { lookup in
            for probe in probes {
                let bytes = Array(probe.utf8)
                // The term, then bytes of other text: the padded lookup must only see the term's own.
                let buffer = bytes + (0..<TermExtractor.termPadding).map { _ in UInt8.random(in: 0...255, using: &generator) }
                buffer.withUnsafeBufferPointer { all in
                    let term = UnsafeBufferPointer(rebasing: all[0..<bytes.count])
                    let hash = TermHash.of(term)
                    #expect(lookup.column(ofPadded: term, hash: hash) == lookup.column(of: term, hash: hash), "\(probe)")
                }
            }
        }
    }

    @Test func termHashesAgreeWhateverFollowsTheTerm() {
        // The walk hashes a word at a time and reads past a term's end; the table hashes
        // without reading past it. Every length around the word boundaries, every byte changed.
        var generator = SystemRandomNumberGenerator()
        var seen = Set<UInt64>()
        for count in 0...40 {
            let term = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 41 &+ count) }
            let padded = term + (0..<TermExtractor.termPadding).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let whole = term.withUnsafeBufferPointer { TermHash.of($0) }
            let read = padded.withUnsafeBufferPointer { TermHash.of(padded: $0.baseAddress!, count: count) }
            #expect(read == whole, "count \(count)")
            if count >= 1 && count <= 8 {
                let word = padded.withUnsafeBufferPointer { TermHash.word(at: $0.baseAddress!) }
                #expect(TermHash.of(word: word, count: count) == whole, "count \(count)")
            }
            #expect(seen.insert(whole).inserted, "lengths differ, hashes should (count \(count))")
            for position in 0..<count {
                var changed = term
                changed[position] ^= 0x20
                #expect(changed.withUnsafeBufferPointer { TermHash.of($0) } != whole, "count \(count), byte \(position)")
            }
        }
        // Zero bytes are bytes: a term and the same term with trailing zeros differ.
        let zeros: [UInt8] = [0x61, 0, 0], letter: [UInt8] = [0x61]
        #expect(zeros.withUnsafeBufferPointer { TermHash.of($0) } != letter.withUnsafeBufferPointer { TermHash.of($0) })
    }

    @Test func partialWordsHoldExactlyTheirBytes() {
        for count in 0...8 {
            // The bytes end the allocation: a read past them would leave it.
            let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
            defer { bytes.deallocate() }
            var expected: UInt64 = 0
            for k in 0..<count {
                bytes[k] = UInt8(truncatingIfNeeded: 0xA1 &+ 17 &* k)
                expected |= UInt64(bytes[k]) << UInt64(8 * k)
            }
            #expect(TermHash.partialWord(at: bytes, count: count) == expected, "count \(count)")
        }
    }

    @Test func bytesAfterAPrefixCompareWordWiseWithAnOverlappingTail() {
        // The 8 bytes before each compared run are readable (a term's prefix), as at every call.
        for count in 1...40 {
            let left = (0..<(8 + count)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ count) }
            left.withUnsafeBufferPointer { a in
                #expect(TermTable.bytesEqual(afterPrefix: a.baseAddress! + 8, a.baseAddress! + 8, count))
                for position in 0..<count {
                    var right = left
                    right[8 + position] ^= 0x01
                    let equal = right.withUnsafeBufferPointer { b in
                        TermTable.bytesEqual(afterPrefix: a.baseAddress! + 8, b.baseAddress! + 8, count)
                    }
                    #expect(!equal, "count \(count), byte \(position)")
                }
            }
        }
    }

    @Test func charWBTermsFeedTfidf() throws {
        let signature = Signature(fields: [FieldSpec(name: "title", type: .string)])
        let spec = TextSpec(field: "title", analyzer: .charWB, ngramMin: 2, ngramMax: 3,
                            vectorizer: .tfidf(TfidfSpec(vocabulary: [" a": 0, "ab": 1, "ab ": 2, "zz": 3], idf: .inline([1, 2, 3, 4]), norm: .none)))
        let pipeline = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(spec)]), signature: signature)
        let x = pipeline.transform([.string("AB ab")])
        #expect(x.indices == [0, 1, 2])
        #expect(x.values == [2, 4, 6])  // each n-gram twice × idf
    }

    @Test func concurrentPredictionsAgreeWithSequentialOnes() async throws {
        let model = try Fixture.logisticModel()
        let titles = ["Pistola 9mm Glock, Réplica!", "airsoft réplica", "glock glock", "", "pistola 9mm airsoft"]
        let expected = titles.map { model.predict(["title": .string($0)]).score }
        let results = await withTaskGroup(of: (Int, Double).self) { group in
            for round in 0..<200 {
                let index = round % titles.count
                group.addTask { (index, model.predict(["title": .string(titles[index])]).score) }
            }
            var collected: [(Int, Double)] = []
            for await result in group { collected.append(result) }
            return collected
        }
        // Distinct expected scores: a result paired with another title's score would show.
        #expect(Set(expected).count == titles.count)
        #expect(results.allSatisfy { expected[$0.0] == $0.1 })
    }
}

import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct FeaturePipelineTests {
    func pipeline(_ transformers: [TransformerSpec]) throws -> FeaturePipeline {
        try FeaturePipeline(spec: PipelineSpec(transformers: transformers), signature: Fixture.signature)
    }

    func vector(_ p: FeaturePipeline, title: String) -> [(Int32, Double)] {
        let x = p.transform([.missing, .string(title)])
        return Array(zip(x.indices, x.values))
    }

    @Test func tfidfWeightsCountsByIdfAndNormalisesTheBlock() throws {
        let p = try pipeline([.text(Fixture.titleSpec())])
        let x = p.transform([.missing, .string("Pistola 9mm Glock, Réplica!")])
        // counts 1 each for pistola, 9mm, glock, replica, "pistola 9mm"; ÷ √14.39.
        #expect(x.indices == [0, 1, 2, 3, 4])
        let expected = [0.31633762454577885, 0.3954220306822236, 0.47450643681866833, 0.2899761558336307, 0.659036717803706]
        for (a, b) in zip(x.values, expected) { #expect(isClose(a, b)) }
    }

    @Test func tfidfCountsRepeatedTermsAndIgnoresUnknownOnes() throws {
        let p = try pipeline([.text(TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(vocabulary: Fixture.vocabulary, idf: .inline(Fixture.idf)))))])
        let x = p.transform([.missing, .string("pistola PISTOLA glock airsoft pistola unknown")])
        #expect(x.indices == [0, 2, 5])
        // (3·1.2, 1·1.8, 1·1.3) / √(12.96 + 3.24 + 1.69)
        expectClose(x.values, [0.851132806452809, 0.42556640322640454, 0.3073535134412922])
    }

    @Test func sublinearTFUsesOnePlusLogCount() throws {
        let spec = TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(vocabulary: Fixture.vocabulary, idf: .inline(Fixture.idf), sublinearTF: true)))
        let x = try pipeline([.text(spec)]).transform([.missing, .string("pistola PISTOLA glock airsoft pistola unknown")])
        expectClose(x.values, [0.7500889660808923, 0.536132117016911, 0.38720652895665797])
        let raw = TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(vocabulary: Fixture.vocabulary, idf: .inline(Fixture.idf), sublinearTF: true, norm: .none)))
        let y = try pipeline([.text(raw)]).transform([.missing, .string("pistola pistola glock")])
        #expect(y.indices == [0, 2])
        #expect(isClose(y.values[0], (1 + 0.6931471805599453) * 1.2))  // (1 + ln 2) · 1.2
        #expect(isClose(y.values[1], 1.8))
    }

    /// Blocks of up to `TextBlock.mergedCapacity` columns have their values computed once,
    /// wider ones twice: both give what the plain computation gives, to the last bit (counts in
    /// column order, sublinear tf, idf, l2 or l1 norm).
    @Test func blocksWiderThanTheStackBufferWeighAsNarrowOnes() throws {
        let words = (0..<400).map { "w\($0)" }
        let vocabulary = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, $0) })
        let idf = (0..<words.count).map { 1 + Double($0 % 13) / 7 }
        for distinct in [3, TextBlock.mergedCapacity, TextBlock.mergedCapacity + 1, 300] {
            // Word k appears 1 + k % 5 times (a count past the sublinear table for some), in a scrambled order.
            var tokens: [String] = []
            for k in 0..<distinct { tokens += Array(repeating: words[(k * 7) % words.count], count: 1 + k % 5 + (k % 37 == 0 ? 70 : 0)) }
            tokens.sort { $0.hashValue < $1.hashValue }
            let text = tokens.joined(separator: " ")
            for (sublinear, norm) in [(false, VectorNorm.l2), (true, .l2), (true, .l1), (false, .none)] {
                let spec = TextSpec(field: "title", vectorizer: .tfidf(TfidfSpec(
                    vocabulary: vocabulary, idf: .inline(idf), sublinearTF: sublinear, norm: norm)))
                let x = try pipeline([.text(spec)]).transform([.missing, .string(text)])
                var counts: [Int32: Double] = [:]
                for token in tokens { counts[Int32(vocabulary[token]!), default: 0] += 1 }
                let columns = counts.keys.sorted()
                let values = columns.map { column in
                    let tf = counts[column]!
                    return (sublinear ? 1 + Math.log(tf) : tf) * idf[Int(column)]
                }
                var divisor = 1.0
                switch norm {
                case .l2: divisor = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
                case .l1: divisor = values.reduce(0) { $0 + abs($1) }
                case .none: break
                }
                #expect(x.indices == columns, "\(distinct) columns")
                #expect(x.values == values.map { $0 / divisor }, "\(distinct) columns, sublinear \(sublinear), \(norm)")
            }
        }
    }

    @Test func textWithNoKnownTermsGivesAnEmptyBlock() throws {
        let p = try pipeline([.text(Fixture.titleSpec())])
        #expect(p.transform([.missing, .string("nada aqui")]).count == 0)
        #expect(p.transform([.missing, .missing]).count == 0)
        #expect(p.transform([]).count == 0)
    }

    @Test func hashingMatchesScikitLearnColumnsSignsAndNorm() throws {
        let spec = TextSpec(field: "title", ngramMin: 1, ngramMax: 2, vectorizer: .hashing(HashingSpec(nFeatures: 16)))
        let p = try pipeline([.text(spec)])
        #expect(p.dimension == 16)
        let x = p.transform([.missing, .string("Pistola 9mm Glock, Réplica!")])
        // murmur3 → columns 9, 2, 4, 12(−), 13, 3(−), 7 for the 7 terms; each ±1/√7.
        #expect(x.indices == [2, 3, 4, 7, 9, 12, 13])
        let unit = 0.3779644730092272
        for (value, sign) in zip(x.values, [1.0, -1, 1, 1, 1, -1, 1]) { #expect(isClose(value, sign * unit)) }
        #expect(p.featureName(at: 12) == "title:#12")
    }

    @Test func hashingWithoutAlternateSignCountsPositively() throws {
        let spec = TextSpec(field: "title", vectorizer: .hashing(HashingSpec(nFeatures: 16, alternateSign: false, norm: .none)))
        let x = try pipeline([.text(spec)]).transform([.missing, .string("replica replica pistola")])
        #expect(x.indices == [9, 12])
        #expect(x.values == [1, 2])
    }

    @Test func oneHotSetsTheCategoryColumnAndIgnoresUnknowns() throws {
        let p = try pipeline([.categorical(Fixture.category)])
        #expect(p.dimension == 3)
        let x = p.transform([.missing, .missing, .string("MLX2001")])
        #expect(x.indices == [1] && x.values == [1])
        #expect(p.transform([.missing, .missing, .string("MLA999")]).count == 0)
        let missing = p.transform([.missing, .missing, .missing])
        #expect(missing.indices == [2] && missing.values == [1])
        #expect(p.featureName(at: 1) == "category_id=MLX2001")
        #expect(p.featureName(at: 2) == "category_id=<missing>")
    }

    /// Categories match byte for byte, as scikit-learn's encoder compares str values: a
    /// composed and a decomposed "café" are two categories, and neither stands for the other.
    @Test func oneHotComparesCategoriesByTheirBytes() throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let p = try pipeline([.categorical(CategoricalSpec(field: "category_id", categories: [composed, decomposed, "MLB1"], missingSlot: true))])
        #expect(p.transform([.missing, .missing, .string(composed)]).indices == [0])
        #expect(p.transform([.missing, .missing, .string(decomposed)]).indices == [1])
        #expect(p.transform([.missing, .missing, .string("mlb1")]).count == 0)
        #expect(p.transform([.missing, .missing, .string("MLB1 ")]).count == 0)
        #expect(p.transform([.missing, .missing, .string("MLB1")]).indices == [2])
        #expect(throws: ArtifactError.self) {
            try pipeline([.categorical(CategoricalSpec(field: "category_id", categories: [composed, "x", composed]))])
        }
    }

    @Test func oneHotWithoutMissingSlotGivesZerosForMissing() throws {
        let p = try pipeline([.categorical(CategoricalSpec(field: "category_id", categories: ["a", "3"]))])
        #expect(p.dimension == 2)
        #expect(p.transform([.missing, .missing, .missing]).count == 0)
        #expect(p.transform([.missing, .missing, .number(3)]).indices == [1])  // 3.0 compares as "3"
    }

    @Test func numericAppliesLog1pThenScaling() throws {
        let p = try pipeline([.numeric(Fixture.price)])
        let x = p.transform([.missing, .missing, .missing, .number(99)])
        #expect(x.indices == [0])
        #expect(isClose(x.values[0], 0.8025850929940459))  // (ln 100 − 3) / 2
        #expect(p.featureName(at: 0) == "price_usd")
        #expect(p.featureName(at: 1) == "price_usd:missing")
    }

    @Test func numericImputesMissingAndNonFiniteAndSetsTheIndicator() throws {
        let p = try pipeline([.numeric(Fixture.price)])
        for value in [FeatureValue.missing, .number(.nan), .number(.infinity), .number(-5)] {  // log1p(−5) is NaN
            let x = p.transform([.missing, .missing, .missing, value])
            #expect(x.indices == [0, 1], "\(value)")
            #expect(isClose(x.values[0], 0.022261218861711507), "\(value)")  // (ln 21 − 3) / 2
            #expect(x.values[1] == 1)
        }
    }

    @Test func numericWithoutLogOrIndicatorStandardises() throws {
        let p = try pipeline([.numeric(NumericSpec(field: "price_usd", mean: 10, scale: 4, imputeValue: 10))])
        #expect(p.dimension == 1)
        #expect(p.transform([.missing, .missing, .missing, .number(18)]).values == [2])
        #expect(p.transform([.missing, .missing, .missing, .missing]).count == 0)  // imputed mean → 0, not stored
    }

    @Test func booleanMapsToZeroOrOne() throws {
        let p = try pipeline([.boolean(BooleanSpec(field: "has_warranty", missingValue: 0.5))])
        #expect(p.transform([.missing, .missing, .missing, .missing, .bool(true)]).values == [1])
        #expect(p.transform([.missing, .missing, .missing, .missing, .bool(false)]).count == 0)
        #expect(p.transform([.missing, .missing, .missing, .missing, .missing]).values == [0.5])
    }

    @Test func concatenatesBlocksWithIncreasingIndicesAndNames() throws {
        let p = try FeaturePipeline(spec: Fixture.pipeline(), signature: Fixture.signature)
        #expect(p.dimension == 12)
        let x = p.transform(Fixture.exampleValues)
        #expect(x.indices == [0, 1, 2, 3, 4, 7, 9, 11])
        #expect(p.featureName(at: 4) == "title:pistola 9mm")
        #expect(p.featureName(at: 7) == "category_id=MLX2001")
        #expect(p.featureName(at: 9) == "price_usd")
        #expect(p.featureName(at: 11) == "has_warranty")
        #expect(p.featureName(at: 12) == "#12")
    }

    @Test func rejectsAVocabularyIndexOutsideTheVocabulary() {
        var vocabulary = Fixture.vocabulary
        vocabulary["airsoft"] = 99
        #expect {
            _ = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(Fixture.titleSpec(vocabulary: vocabulary))]),
                                    signature: Fixture.signature)
        } throws: { error in
            let e = error as? ArtifactError
            return e?.code == .invalidPipeline && e?.message.contains("airsoft") == true && e?.message.contains("99") == true
        }
    }

    @Test func rejectsTwoTermsSharingAnIndex() {
        var vocabulary = Fixture.vocabulary
        vocabulary["airsoft"] = 0
        vocabulary["extra"] = 5
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            _ = try FeaturePipeline(spec: PipelineSpec(transformers: [.text(Fixture.titleSpec(idf: .inline(Fixture.idf + [1]), vocabulary: vocabulary))]),
                                    signature: Fixture.signature)
        }
    }

    @Test func rejectsUnknownFieldsAndWrongFieldTypes() {
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            _ = try pipeline([.boolean(BooleanSpec(field: "nope"))])
        }
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            _ = try pipeline([.numeric(NumericSpec(field: "title"))])
        }
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            _ = try pipeline([.numeric(NumericSpec(field: "price_usd", scale: 0))])
        }
    }

    @Test func rejectsAnIdfArrayOfTheWrongLength() {
        #expect(throws: ArtifactError(.invalidPipeline, "")) {
            _ = try pipeline([.text(Fixture.titleSpec(idf: .inline([1, 2])))])
        }
    }
}

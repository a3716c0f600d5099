import FoundationEssentials
import Testing
@testable import Inference

@Suite(.timeLimit(.minutes(10))) struct ArtifactTests {
    /// Writes the fixture model with idf and weights in weights.bin under `<tmp>/<name>/<version>`.
    func writeArtifact(in tmp: TemporaryDirectory, manifest: ModelManifest? = nil, name: String = "prohibited-items",
                       version: Int = 3) throws -> String {
        var builder = WeightsBuilder()
        let idf = builder.append(Fixture.idf)
        let weights = builder.append(Fixture.weights)
        let base = manifest ?? Fixture.manifest(
            model: .logisticRegression(weights: weights, intercept: Fixture.intercept),
            pipeline: Fixture.pipeline(idf: idf), name: name, version: version)
        let directory = tmp.path + "/\(name)/\(version)"
        try ArtifactWriter.write(manifest: base, weights: builder.values, to: directory)
        return directory
    }

    func expectLoadError(_ directory: String, _ code: ArtifactError.Code, mentioning: String? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try LoadedModel.load(directory: directory)
            Issue.record("loaded a bad artifact", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            if let mentioning {
                #expect(error.message.contains(mentioning), "\(error.message)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func roundTripsThroughWriterAndLoader() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        let model = try LoadedModel.load(directory: directory)
        #expect(model.name == "prohibited-items")
        #expect(model.version == 3)
        #expect(model.manifest.files.keys.sorted() == ["weights.bin"])
        #expect(model.manifest.metrics.values["roc_auc"] == 0.97)
        #expect(model.manifest.example.input["price_usd"] == .number(99))
        #expect(isClose(model.predict(Fixture.exampleValues).score, Fixture.exampleLogisticScore))
        let bin = try tmp.read("prohibited-items/3/weights.bin")
        #expect(bin.count == (6 + 12) * 8)
        #expect(model.manifest.files["weights.bin"] == SHA256.hex(bin))
    }

    @Test func writesSnakeCaseKeys() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        let json = String(decoding: try tmp.read("prohibited-items/3/model.json"), as: UTF8.self)
        for key in ["\"format_version\" : 1", "\"expected_score\"", "\"id_field\" : \"id\"", "\"ngram_max\" : 2",
                    "\"missing_slot\" : true", "\"confusion_matrix\"", "\"type\" : \"tfidf\"", "\"algorithm\" : \"logistic_regression\""] {
            #expect(json.contains(key), "\(key)")
        }
        _ = directory
    }

    @Test func loadsInlineArtifactsWithoutWeightsFile() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: Fixture.manifest(), weights: [], to: directory)
        let model = try LoadedModel.load(directory: directory + "/")
        #expect(model.manifest.files.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory + "/weights.bin"))
    }

    @Test func reportsAChecksumMismatch() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        var bin = try tmp.read("prohibited-items/3/weights.bin")
        bin[9] ^= 0x01
        try tmp.writeBytes(bin, to: "prohibited-items/3/weights.bin")
        expectLoadError(directory, .checksumMismatch, mentioning: "weights.bin")
    }

    @Test func reportsAMissingListedFile() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        try FileManager.default.removeItem(atPath: directory + "/weights.bin")
        expectLoadError(directory, .missingFile, mentioning: "weights.bin")
    }

    @Test func reportsAMissingManifest() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        expectLoadError(tmp.path + "/nothing/1", .missingFile, mentioning: "model.json")
    }

    @Test func reportsAnExampleThatDoesNotReproduce() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: Fixture.manifest(expectedScore: Fixture.exampleLogisticScore + 1e-6), weights: [], to: directory)
        expectLoadError(directory, .exampleMismatch)
    }

    @Test func reportsInvalidJSON() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        try FileManager.default.createDirectory(atPath: tmp.path + "/m/1", withIntermediateDirectories: true)
        try tmp.write("{\"format_version\": 1, ", to: "m/1/model.json")
        expectLoadError(tmp.path + "/m/1", .invalidManifest)
    }

    @Test func namesTheMissingOrMistypedKey() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: Fixture.manifest(), weights: [], to: directory)
        let json = String(decoding: try tmp.read("prohibited-items/3/model.json"), as: UTF8.self)
        try tmp.write(json.replacing("\"threshold\" : 0.5,", with: ""), to: "prohibited-items/3/model.json")
        expectLoadError(directory, .invalidManifest, mentioning: "threshold")
        try tmp.write(json.replacing("\"ngram_max\" : 2", with: "\"ngram_max\" : \"two\""), to: "prohibited-items/3/model.json")
        expectLoadError(directory, .invalidManifest, mentioning: "pipeline.transformers[0].ngram_max")
    }

    @Test func reportsAnUnsupportedFormatVersion() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        try FileManager.default.createDirectory(atPath: tmp.path + "/m/1", withIntermediateDirectories: true)
        try tmp.write("{\"format_version\": 5, \"whatever\": true}", to: "m/1/model.json")
        expectLoadError(tmp.path + "/m/1", .unsupportedFormatVersion, mentioning: "5")
    }

    @Test func reportsAVocabularyIndexOutOfRange() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        var vocabulary = Fixture.vocabulary
        vocabulary["airsoft"] = 6
        let pipeline = PipelineSpec(transformers: [.text(Fixture.titleSpec(vocabulary: vocabulary)), .categorical(Fixture.category),
                                                   .numeric(Fixture.price), .boolean(Fixture.warranty)])
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: Fixture.manifest(pipeline: pipeline), weights: [], to: directory)
        expectLoadError(directory, .invalidPipeline, mentioning: "vocabulary[\"airsoft\"] = 6")
    }

    @Test func reportsAWeightsReferenceBeyondTheFile() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let manifest = Fixture.manifest(model: .logisticRegression(weights: .external(offset: 4, count: 12), intercept: -0.5))
        let directory = tmp.path + "/prohibited-items/3"
        try ArtifactWriter.write(manifest: manifest, weights: Fixture.weights, to: directory)
        expectLoadError(directory, .invalidWeights, mentioning: "model.weights")
    }

    @Test func reportsAWeightsFileThatIsNotWholeDoubles() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        let bin = try tmp.read("prohibited-items/3/weights.bin") + [0, 0, 0]
        try tmp.writeBytes(bin, to: "prohibited-items/3/weights.bin")
        var manifest = try LoadedModel.decodeManifest(try tmp.read("prohibited-items/3/model.json"))
        manifest.files["weights.bin"] = SHA256.hex(bin)
        try tmp.writeBytes(try ArtifactWriter.encodeManifest(manifest), to: "prohibited-items/3/model.json")
        expectLoadError(directory, .invalidWeights, mentioning: "float64")
    }

    @Test func reportsExternalArraysWhenWeightsFileIsNotListed() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = try writeArtifact(in: tmp)
        var manifest = try LoadedModel.decodeManifest(try tmp.read("prohibited-items/3/model.json"))
        manifest.files = [:]
        try tmp.writeBytes(try ArtifactWriter.encodeManifest(manifest), to: "prohibited-items/3/model.json")
        expectLoadError(directory, .invalidWeights)
    }

    @Test func rejectsListedFileNamesOutsideTheDirectory() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        var manifest = Fixture.manifest()
        manifest.files = ["../secret": String(repeating: "0", count: 64)]
        let directory = tmp.path + "/prohibited-items/3"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try tmp.writeBytes(try ArtifactWriter.encodeManifest(manifest), to: "prohibited-items/3/model.json")
        expectLoadError(directory, .invalidManifest, mentioning: "../secret")
    }

    @Test func reportsNameOrVersionThatDifferFromTheDirectory() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let directory = tmp.path + "/prohibited-items/4"
        try ArtifactWriter.write(manifest: Fixture.manifest(version: 3), weights: [], to: directory)
        expectLoadError(directory, .locationMismatch, mentioning: "version 3")
        #expect(try LoadedModel.load(directory: directory, checkLocation: false).version == 3)
        let other = tmp.path + "/other-name/3"
        try ArtifactWriter.write(manifest: Fixture.manifest(version: 3), weights: [], to: other)
        expectLoadError(other, .locationMismatch, mentioning: "other-name")
    }

    @Test func errorsCompareByCode() {
        #expect(ArtifactError(.missingFile, "a") == ArtifactError(.missingFile, "b"))
        #expect(ArtifactError(.missingFile, "a") != ArtifactError(.checksumMismatch, "a"))
        #expect("\(ArtifactError(.missingFile, "x"))" == "missing_file: x")
    }
}

@Suite(.timeLimit(.minutes(10))) struct HashingArtifactTests {
    @Test func roundTripsAHashingNaiveBayesModel() throws {
        let tmp = try TemporaryDirectory()
        defer { tmp.cleanUp() }
        let signature = Signature(fields: [FieldSpec(name: "title", type: .string, required: true)])
        let pipeline = PipelineSpec(transformers: [
            .text(TextSpec(field: "title", ngramMin: 1, ngramMax: 2, vectorizer: .hashing(HashingSpec(nFeatures: 16, alternateSign: false)))),
        ])
        var builder = WeightsBuilder()
        let negative = builder.append((0..<16).map { Math.log(Double($0 + 1) / 136) })
        let positive = builder.append((0..<16).map { Math.log(Double(16 - $0) / 136) })
        var manifest = ModelManifest(
            name: "hashed", version: 1, created: "2026-11-23T14:00:00Z", algorithm: .multinomialNB, signature: signature,
            pipeline: pipeline, model: .multinomialNB(classLogPrior: [Math.log(0.5), Math.log(0.5)], featureLogProb: [negative, positive]),
            threshold: 0.5, labels: ["allowed", "prohibited"],
            example: Example(input: ["title": .string("Pistola 9mm")], expectedScore: 0),
            dataset: DatasetInfo(name: "d", version: "1", fingerprint: "f"))
        let draft = try LoadedModel(manifest: manifest, weights: builder.values, verifyExample: false)
        // "pistola" → column 9, "9mm" → 2, "pistola 9mm" → 13, each 1/√3 after l2.
        let x = draft.features([.string("Pistola 9mm")])
        #expect(x.indices == [2, 9, 13])
        let v = 1 / 3.0.squareRoot()
        let expectedMargin = v * ((Math.log(14) - Math.log(3)) + (Math.log(7) - Math.log(10)) + (Math.log(3) - Math.log(14)))
        #expect(isClose(draft.margin([.string("Pistola 9mm")]), expectedMargin))
        manifest.example.expectedScore = draft.predict([.string("Pistola 9mm")]).score
        try ArtifactWriter.write(manifest: manifest, weights: builder.values, to: tmp.path + "/hashed/1")
        let model = try LoadedModel.load(directory: tmp.path + "/hashed/1")
        #expect(model.predict(["title": .string("Pistola 9mm")]) == draft.predict([.string("Pistola 9mm")]))
        #expect(model.explain(["title": .string("Pistola 9mm")], top: 3).up.map(\.feature).contains("title:#2"))
    }
}

// inference-bench: in-process cost of predict and explain on a realistic model.
//
//   swift build -c release --product inference-bench
//   .build/release/inference-bench [--model <storage>/<name>/<version>] [--rounds N] [--items N]
//
// Without --model it builds a logistic-regression model with a ~50k-term word 1–2-gram tf-idf
// vocabulary + categorical + numeric + boolean features, writes it with ArtifactWriter to a
// temporary directory and loads it back (timing the load), then scores generated titles.
import FoundationEssentials
import Inference
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time of this thread in nanoseconds: unlike wall time it excludes time other processes
/// hold the core (the CI machine is shared), though not their effect on caches.
func threadCPUNanoseconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
}

/// Runs `body`, returning (wall ns, thread CPU ns).
func measure(_ body: () -> Void) -> (wall: Double, cpu: Double) {
    let clock = ContinuousClock()
    let cpuStart = threadCPUNanoseconds()
    let wall = clock.measure(body)
    let cpu = threadCPUNanoseconds() - cpuStart
    return (nanoseconds(wall), cpu)
}

/// SplitMix64: a deterministic generator so runs are comparable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let rounds = Int(argument("--rounds") ?? "") ?? 7
let itemCount = Int(argument("--items") ?? "") ?? 20_000
/// `--only predict` (or explain, features): time just that, for a profiler's view of one path.
let only = argument("--only")
var rng = SplitMix64(state: 42)

let syllables = ["pa", "ra", "to", "ção", "mi", "ño", "gu", "lé", "sa", "ke", "vi", "do", "ma", "ri", "ta", "lo",
                 "ne", "qu", "es", "ar", "bo", "ci", "fu", "ga", "hé", "ju", "zo", "xa", "li", "pe"]
func word(_ rng: inout SplitMix64) -> String {
    (0..<Int.random(in: 2...4, using: &rng)).map { _ in syllables.randomElement(using: &rng)! }.joined()
}
let lexicon = (0..<30_000).map { _ in word(&rng) } + ["pistola", "glock", "9mm", "réplica", "remédio", "iphone", "usado", "novo"]

/// `--words zipf`: words drawn with probability ∝ 1/rank (Zipf's law, s = 1, as words in
/// listing titles and most text are), for the vocabulary and the titles alike; default
/// `uniform`, every word alike (words rarely repeat: the caches' worst case, the reference).
let zipfWords: Bool = {
    switch argument("--words") ?? "uniform" {
    case "uniform": return false
    case "zipf": return true
    case let other: fatalError("--words \(other): expected uniform or zipf")
    }
}()
/// Cumulative Zipf weights over the lexicon's ranks (its order), for `lexiconWord`.
let zipfCumulative: [Double] = {
    var total = 0.0
    return lexicon.indices.map { rank in total += 1 / Double(rank + 1); return total }
}()

func lexiconWord(_ rng: inout SplitMix64) -> String {
    guard zipfWords else { return lexicon.randomElement(using: &rng)! }
    let target = Double.random(in: 0..<zipfCumulative[zipfCumulative.count - 1], using: &rng)
    var lo = 0, hi = zipfCumulative.count - 1  // the first rank whose cumulative weight exceeds target
    while lo < hi {
        let mid = (lo + hi) / 2
        if zipfCumulative[mid] > target { hi = mid } else { lo = mid + 1 }
    }
    return lexicon[lo]
}

@MainActor
func makeModel() throws -> String {
    let extractor = TermExtractor(ngramMin: 1, ngramMax: 2)
    var vocabulary: [String: Int] = [:]
    var attempts = 0
    while vocabulary.count < 50_000 && attempts < 500_000 {
        attempts += 1
        let title = (0..<3).map { _ in lexiconWord(&rng) }.joined(separator: " ")
        for term in extractor.terms(in: title) where vocabulary[term] == nil && vocabulary.count < 50_000 {
            vocabulary[term] = vocabulary.count
        }
    }
    let categories = (0..<2_000).map { "MLB\(1000 + $0)" }
    let width = vocabulary.count + categories.count + 1 + 2 + 1
    var builder = WeightsBuilder()
    let idf = builder.append((0..<vocabulary.count).map { _ in Double.random(in: 1...9, using: &rng) })
    let weights = builder.append((0..<width).map { _ in Double.random(in: -2...2, using: &rng) })
    let signature = Signature(fields: [
        FieldSpec(name: "id", type: .string, required: true),
        FieldSpec(name: "title", type: .string, required: true),
        FieldSpec(name: "category_id", type: .string),
        FieldSpec(name: "price_usd", type: .number),
        FieldSpec(name: "has_warranty", type: .boolean),
    ], idField: "id")
    let pipeline = PipelineSpec(transformers: [
        .text(TextSpec(field: "title", ngramMin: 1, ngramMax: 2,
                       vectorizer: .tfidf(TfidfSpec(vocabulary: vocabulary, idf: idf, sublinearTF: true)))),
        .categorical(CategoricalSpec(field: "category_id", categories: categories, missingSlot: true)),
        .numeric(NumericSpec(field: "price_usd", log1p: true, mean: 4, scale: 1.5, imputeValue: 30, missingIndicator: true)),
        .boolean(BooleanSpec(field: "has_warranty")),
    ])
    let input: [String: FeatureValue] = ["id": .string("1"), "title": .string("Pistola Glock 9mm réplica"),
                                         "category_id": .string("MLB1001"), "price_usd": .number(120)]
    var manifest = ModelManifest(
        name: "bench", version: 1, created: "2026-11-23T00:00:00Z", algorithm: .logisticRegression,
        signature: signature, pipeline: pipeline, model: .logisticRegression(weights: weights, intercept: -1),
        threshold: 0.5, labels: ["allowed", "prohibited"], example: Example(input: input, expectedScore: 0),
        dataset: DatasetInfo(name: "synthetic", version: "1", fingerprint: "-"))
    let draft = try LoadedModel(manifest: manifest, weights: builder.values, verifyExample: false)
    manifest.example.expectedScore = draft.predict(input).score
    let directory = FileManager.default.temporaryDirectory.path + "/inference-bench-\(UUID().uuidString)/bench/1"
    try ArtifactWriter.write(manifest: manifest, weights: builder.values, to: directory)
    // Version 2: the same model with every normalisation step on its title (format 3).
    var normalised = manifest
    normalised.version = 2
    normalised.pipeline.transformers = pipeline.transformers.map { transformer in
        guard case .text(var text) = transformer else { return transformer }
        text.normalization = .all
        return .text(text)
    }
    normalised.formatVersion = normalised.requiredFormat.version
    normalised.example.expectedScore = try LoadedModel(manifest: normalised, weights: builder.values, verifyExample: false).predict(input).score
    try ArtifactWriter.write(manifest: normalised, weights: builder.values, to: String(directory.dropLast()) + "2")
    return directory
}

func formatRatio(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func nanoseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

do {
    let clock = ContinuousClock()
    let generated = argument("--model") == nil
    let directory = try argument("--model") ?? makeModel()
    var model: LoadedModel?
    let loadTime = try clock.measure { model = try LoadedModel.load(directory: directory) }
    guard let model else { fatalError("unreachable") }
    let size = FileManager.default.contents(atPath: directory + "/model.json")?.count ?? 0
    print("model \(model.name) v\(model.version): \(model.pipeline.dimension) columns, model.json \(size / 1024) KiB, load \(Int(nanoseconds(loadTime) / 1e6)) ms")

    let fields = model.signature.fields
    // --titles FILE: titles one per line, in turn (real words repeat as in listings); else
    // 4–12 words drawn from a 30,000-word random lexicon, uniformly (words rarely repeat) or
    // with `--words zipf` by Zipf's law.
    let givenTitles = argument("--titles").map { path -> [String] in
        guard let data = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
    if let givenTitles { print("titles: \(givenTitles.count) from \(argument("--titles")!), in turn") }
    // --distinct N: only the first N titles are new, the others repeat them in turn (the
    // fewer, the more of what scoring reads stays in the caches: the memory-bound share).
    let distinct = Int(argument("--distinct") ?? "") ?? Int.max
    guard distinct >= 1 else { fatalError("--distinct must be at least 1") }
    var firstTitles: [String] = []
    let items: [[FeatureValue]] = (0..<itemCount).map { i in
        let words = (0..<Int.random(in: 4...12, using: &rng)).map { _ in
            Bool.random(using: &rng) ? lexiconWord(&rng).uppercased() : lexiconWord(&rng)
        }
        var title = givenTitles.map { $0[i % $0.count] }
            ?? words.joined(separator: i % 3 == 0 ? ", " : " ") + (i % 5 == 0 ? " 100% ORIGINAL!!" : "")
        if i < distinct { firstTitles.append(title) } else { title = firstTitles[i % distinct] }
        return fields.map { field in
            switch field.name {
            case "title": .string(title)
            case "category_id": i % 7 == 0 ? .missing : .string("MLB\(1000 + i % 2_100)")
            case "price_usd": i % 11 == 0 ? .missing : .number(Double(i % 900) + 0.99)
            case "has_warranty": .bool(i % 2 == 0)
            case "id": .string("MLB\(i)")
            default: field.type == .string ? .string("x") : .missing
            }
        }
    }
    let averageLength = items.reduce(0) { total, item in
        if case .string(let t) = item[fields.firstIndex { $0.name == "title" } ?? 0] { return total + t.string.count }
        return total
    } / max(1, items.count)
    print("\(items.count) items\(distinct < items.count ? " (\(distinct) distinct titles)" : ""), average title \(averageLength) characters, \(rounds) rounds\(givenTitles == nil ? ", words \(zipfWords ? "by Zipf's law" : "uniform")" : "")")

    var checksum = 0.0
    var predictWall: [Double] = [], predictCPU: [Double] = []
    var explainWall: [Double] = [], explainCPU: [Double] = []
    var featuresWall: [Double] = [], featuresCPU: [Double] = []
    let n = Double(items.count)
    for _ in 0..<rounds {
        if only == nil || only == "predict" {
            let p = measure { for item in items { checksum += model.predict(item).score } }
            predictWall.append(p.wall / n); predictCPU.append(p.cpu / n)
        }
        if only == nil || only == "explain" {
            let e = measure { for item in items { checksum += Double(model.explain(item, top: 5).up.count) } }
            explainWall.append(e.wall / n); explainCPU.append(e.cpu / n)
        }
        if only == nil || only == "features" {
            let f = measure { for item in items { checksum += Double(model.features(item).count) } }
            featuresWall.append(f.wall / n); featuresCPU.append(f.cpu / n)
        }
    }
    func report(_ label: String, _ wall: [Double], _ cpu: [Double]) {
        guard !wall.isEmpty else { return }
        print("\(label): median \(Int(median(wall))) ns/item wall, \(Int(median(cpu))) ns/item thread CPU (wall rounds: \(wall.map { Int($0) }))")
    }
    report("predict", predictWall, predictCPU)
    let words = WordHitCacheStatistics.onThisThread
    if words.found + words.missed > 0 {
        print("char_wb word cache: \(words.found) words found, \(words.missed) walked (\(Int((100 * Double(words.found) / Double(words.found + words.missed)).rounded())) % found)")
    }
    report("explain(top: 5)", explainWall, explainCPU)
    report("features only", featuresWall, featuresCPU)
    if generated && only == nil {
        // The same items through the same model with every normalisation step, rounds alternating.
        let normalised = try LoadedModel.load(directory: String(directory.dropLast()) + "2")
        var plainCPU: [Double] = [], normalisedCPU: [Double] = [], plainPredict: [Double] = [], normalisedPredict: [Double] = []
        for _ in 0..<rounds {
            plainCPU.append(measure { for item in items { checksum += Double(model.features(item).count) } }.cpu / n)
            normalisedCPU.append(measure { for item in items { checksum += Double(normalised.features(item).count) } }.cpu / n)
            plainPredict.append(measure { for item in items { checksum += model.predict(item).score } }.cpu / n)
            normalisedPredict.append(measure { for item in items { checksum += normalised.predict(item).score } }.cpu / n)
        }
        func ratio(_ a: [Double], _ b: [Double]) -> String { formatRatio(median(b) / median(a)) }
        print("normalisation (homoglyphs, separators, leetspeak, repeats), same items, alternating rounds, thread CPU medians:")
        print("  features: \(Int(median(plainCPU))) → \(Int(median(normalisedCPU))) ns/item (×\(ratio(plainCPU, normalisedCPU)))")
        print("  predict:  \(Int(median(plainPredict))) → \(Int(median(normalisedPredict))) ns/item (×\(ratio(plainPredict, normalisedPredict)))")
    }
    if only == nil {
        let megabytes = 16
        let blob = [UInt8](repeating: 0x5A, count: megabytes << 20)
        var digest: [UInt8] = []
        let hashTime = measure { digest = SHA256.hash(blob) }
        print("sha256: \(Int(Double(megabytes) / (hashTime.cpu / 1e9))) MiB/s of thread CPU (\(SHA256.hexString(digest).prefix(8))…)")
    }
    print("checksum \(checksum)")
    if generated {
        try? FileManager.default.removeItem(atPath: String(directory.dropLast("/bench/1".count)))
    }
} catch {
    print("inference-bench: \(error)")
}

import CSystem
// The compiled (runtime) form of a PipelineSpec: validated once at load time, then used
// read-only by every request thread.

/// A validated, compiled feature pipeline: `[FeatureValue]` in signature order → one
/// `SparseVector` (strictly increasing indices, no explicit zeros).
///
/// Immutable after `init`, hence `Sendable` and safe to share between threads; each call to
/// `transform` allocates only its own result and scratch buffers, and `dot` works in
/// temporary buffers on the calling thread's stack.
public struct FeaturePipeline: Sendable {
    /// The compiled transformers, in spec order; transformer k owns `offsets[k]..<offsets[k+1]`.
    let transformers: [CompiledTransformer]
    /// Start index of each transformer's block, plus the total width at the end.
    let offsets: [Int]
    /// For a text transformer k: the end of the run k..<end of consecutive text transformers
    /// reading the same field with the same analysis (case, accents, normalisation), which
    /// `dot` analyses once; k + 1 for the others.
    let sharedAnalysisEnd: [Int]
    /// The transformers as `transform` and `dot` run them: blocks unretained (`transformers`
    /// keeps them alive as long as the pipeline). Taking a block out of its enum retained it, a reference
    /// count that every scoring thread wrote to, several times a listing.
    let steps: [ScoringStep]

    /// Total number of output columns (the length weight vectors must have).
    public var dimension: Int { offsets[offsets.count - 1] }

    /// Validates `spec` against `signature` and compiles it. `weights` is the content of
    /// `weights.bin` (empty when there is none), for arrays stored there.
    public init(spec: PipelineSpec, signature: Signature, weights: [Double] = []) throws(ArtifactError) {
        var compiled: [CompiledTransformer] = []
        var offsets = [0]
        for (position, transformer) in spec.transformers.enumerated() {
            let path = "pipeline.transformers[\(position)]"
            guard let fieldIndex = signature.index(of: transformer.field) else {
                throw ArtifactError(.invalidPipeline, "\(path).field: \"\(transformer.field)\" is not a field of the signature")
            }
            let fieldType = signature.fields[fieldIndex].type
            let kind: CompiledTransformer.Kind
            switch transformer {
            case .text(let text):
                guard fieldType == .string else {
                    throw ArtifactError(.invalidPipeline, "\(path): text transformer needs a string field, \"\(text.field)\" is \(fieldType.rawValue)")
                }
                kind = .text(try TextBlock(text, path: path, weights: weights))
            case .categorical(let categorical):
                kind = .categorical(try CategoricalBlock(categorical, path: path))
            case .numeric(let numeric):
                guard fieldType == .number || fieldType == .integer else {
                    throw ArtifactError(.invalidPipeline, "\(path): numeric transformer needs a number or integer field, \"\(numeric.field)\" is \(fieldType.rawValue)")
                }
                kind = .numeric(try NumericBlock(numeric, path: path))
            case .boolean(let boolean):
                guard boolean.missingValue.isFinite else {
                    throw ArtifactError(.invalidPipeline, "\(path).missing_value must be finite")
                }
                kind = .boolean(name: boolean.name, missingValue: boolean.missingValue)
            }
            let item = CompiledTransformer(fieldIndex: fieldIndex, kind: kind)
            let end = offsets[offsets.count - 1] + item.width
            guard end <= Int(Int32.max) else {
                throw ArtifactError(.invalidPipeline, "\(path): the pipeline is wider than \(Int32.max) columns")
            }
            offsets.append(end)
            compiled.append(item)
        }
        self.transformers = compiled
        self.offsets = offsets
        var fieldsWithText = Set<Int>()
        self.steps = compiled.map { transformer in
            guard case .text = transformer.kind else { return ScoringStep(transformer, reportsTerms: false) }
            return ScoringStep(transformer, reportsTerms: fieldsWithText.insert(transformer.fieldIndex).inserted)
        }
        self.sharedAnalysisEnd = compiled.indices.map { k in
            guard case .text(let first) = compiled[k].kind else { return k + 1 }
            var end = k + 1
            while end < compiled.count, compiled[end].fieldIndex == compiled[k].fieldIndex,
                  case .text(let next) = compiled[end].kind, next.extractor.analysesLike(first.extractor) {
                end += 1
            }
            return end
        }
    }

    /// The feature vector for values in `signature.fields` order. Missing trailing values count
    /// as `.missing`; extra values are ignored.
    public func transform(_ values: [FeatureValue]) -> SparseVector {
        transform(values, termCounts: nil)
    }

    /// `transform`, writing each text field's `TermCount` to `termCounts[field]` (see
    /// `dot(_:_:termCounts:)`).
    func transform(_ values: [FeatureValue], termCounts: UnsafeMutableBufferPointer<TermCount?>?) -> SparseVector {
        termCounts?.update(repeating: nil)
        var vector = SparseVector()
        vector.indices.reserveCapacity(64)
        vector.values.reserveCapacity(64)
        for (k, step) in steps.enumerated() {
            let value = step.fieldIndex < values.count ? values[step.fieldIndex] : .missing
            let count = step.append(value, offset: Int32(offsets[k]), to: &vector)
            if let termCounts, step.reportsTerms { termCounts[step.fieldIndex] = count }
        }
        return vector
    }

    /// Σ weights[i] × x[i] for x = `transform(values)`, bit for bit (the same products added
    /// in the same order), without building x: no heap allocation for texts whose analysis
    /// fits a buffer of their UTF-8 length plus 16 scalars (all but a few compatibility
    /// characters). Text transformers of one field with the same analysis share one pass over
    /// it; their terms come unordered, with hashes extended term to term, and are sorted by
    /// column before weighting. `weights` must hold `dimension` values.
    public func dot(_ values: [FeatureValue], _ weights: UnsafeBufferPointer<Double>) -> Double {
        dot(values, weights, termCounts: nil)
    }

    /// `dot`, writing to `termCounts[field]` (one entry per signature field) the `TermCount`
    /// of each text field as the first text transformer reading it makes it, what
    /// `termCount(_:field:)` gives, counted in the same pass (nil: missing, or no text
    /// transformer reads the field): input skew monitoring reads it instead of analysing the
    /// text a second time.
    func dot(_ values: [FeatureValue], _ weights: UnsafeBufferPointer<Double>,
             termCounts: UnsafeMutableBufferPointer<TermCount?>?) -> Double {
        precondition(weights.count >= dimension, "one weight per column")
        termCounts?.update(repeating: nil)
        guard let base = weights.baseAddress else { return 0 }
        var sink = DotProductSink(weights: base)
        // Elements are read in place through the buffers: copying a transformer or a value out
        // of its array retains its payload, and a closure that reads `self`'s arrays retains
        // each of them, a dozen retain/release pairs a listing.
        withTables { steps, offsets, sharedAnalysisEnd in
            values.withUnsafeBufferPointer { values in
                var k = 0
                while k < steps.count {
                    let fieldIndex = steps[k].fieldIndex
                    let end = sharedAnalysisEnd[k]
                    // The value read where it is (a copy of it retained its text).
                    let value: UnsafePointer<FeatureValue>? = fieldIndex < values.count ? values.baseAddress! + fieldIndex : nil
                    // The string not bound here: a binding copied it (a retain and a release a
                    // listing) for the rare path below that reads it.
                    if case .text(let text) = steps[k].block, let value, case .string = value.pointee {
                        // A lone word block tokenises straight from the UTF-8; blocks sharing
                        // one analysis (or a text that outgrows the buffer) read its scalars.
                        if end == k + 1, let tally = text._withUnsafeGuaranteedRef({ text in
                            text.append(wordsOf: value, offset: Int32(truncatingIfNeeded: offsets[k]), to: &sink)
                        }) {
                            if let termCounts, steps[k].reportsTerms { termCounts[fieldIndex] = text._withUnsafeGuaranteedRef { $0.termCount(tally) } }
                            k = end
                            continue
                        }
                        guard case .string(let string) = value.pointee else { preconditionFailure("checked above") }
                        let analysed = text._withUnsafeGuaranteedRef { text in
                            text.extractor.withAnalysedScalars(string) { scalars in
                                for j in k..<end {
                                    guard case .text(let block) = steps[j].block else { continue }
                                    block._withUnsafeGuaranteedRef { block in
                                        let tally = block.append(analysed: AnalysedScalars(scalars), offset: Int32(truncatingIfNeeded: offsets[j]), to: &sink)
                                        if let termCounts, steps[j].reportsTerms { termCounts[fieldIndex] = block.termCount(tally) }
                                    }
                                }
                            }
                        }
                        if analysed {
                            k = end
                            continue
                        }
                    }
                    for j in k..<end {
                        let offset = Int32(truncatingIfNeeded: offsets[j])
                        let count = if let value { steps[j].append(value, offset: offset, to: &sink) }
                                    else { steps[j].append(FeatureValue.missing, offset: offset, to: &sink) }
                        if let termCounts, steps[j].reportsTerms { termCounts[fieldIndex] = count }
                    }
                    k = end
                }
            }
        }
        return sink.sum
    }

    /// The steps, their offsets and `sharedAnalysisEnd` as buffers, valid during `body`.
    @inline(__always)
    private func withTables<Result>(
        _ body: (UnsafeBufferPointer<ScoringStep>, UnsafeBufferPointer<Int>, UnsafeBufferPointer<Int>) -> Result
    ) -> Result {
        steps.withUnsafeBufferPointer { steps in
            offsets.withUnsafeBufferPointer { offsets in
                sharedAnalysisEnd.withUnsafeBufferPointer { body(steps, offsets, $0) }
            }
        }
    }

    /// The human-readable name of output column `index` (e.g. `title:pistola`,
    /// `category_id=MLX2001`, `price_usd`, `title:#1234` for hashed text), or `#index` when out of range.
    public func featureName(at index: Int) -> String {
        guard index >= 0, index < dimension else { return "#\(index)" }
        var lo = 0, hi = transformers.count - 1  // last block whose offset ≤ index
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if offsets[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return transformers[lo].featureName(at: index - offsets[lo])
    }

    /// Whether every column is ≥ 0 for any input (required by multinomial naive Bayes); the
    /// reason when not.
    func nonNegativeViolation() -> String? {
        for (k, transformer) in transformers.enumerated() {
            switch transformer.kind {
            case .text(let text):
                if case .hashing(_, _, let alternateSign, _) = text.vectorizer, alternateSign {
                    return "pipeline.transformers[\(k)] hashes with alternate_sign, which gives negative values"
                }
                if case .tfidf(_, let idf, _, _, _) = text.vectorizer, idf.contains(where: { $0 < 0 }) {
                    return "pipeline.transformers[\(k)].idf has negative values"
                }
            case .numeric:
                return "pipeline.transformers[\(k)] is numeric (scaled values can be negative)"
            case .boolean(_, let missingValue):
                if missingValue < 0 { return "pipeline.transformers[\(k)].missing_value is negative" }
            case .categorical:
                break
            }
        }
        return nil
    }
}

/// Resolves a `StoredArray` against `weights.bin` content, validating offset/count.
func resolve(_ array: StoredArray, path: String, weights: [Double]) throws(ArtifactError) -> [Double] {
    if let values = array.values {
        guard array.offset == nil, array.count == nil else {
            throw ArtifactError(.invalidWeights, "\(path): give either values or offset/count, not both")
        }
        return values
    }
    guard let offset = array.offset, let count = array.count else {
        throw ArtifactError(.invalidWeights, "\(path): needs values, or both offset and count")
    }
    guard offset >= 0, count >= 0, offset <= weights.count, count <= weights.count - offset else {
        throw ArtifactError(.invalidWeights,
                            "\(path): offset \(offset) + count \(count) exceeds weights.bin (\(weights.count) values)")
    }
    return Array(weights[offset..<offset + count])
}

/// A transformer as the pipeline runs it (`transform` and `dot`): its block unretained, valid
/// while the pipeline that holds the `CompiledTransformer` lives.
struct ScoringStep {
    enum Block {
        case text(Unmanaged<TextBlock>)
        case categorical(Unmanaged<CategoricalBlock>)
        case numeric(Unmanaged<NumericBlock>)
        case boolean(missingValue: Double)
    }

    let fieldIndex: Int
    let block: Block
    /// The first text transformer reading its field: its term count is the field's.
    let reportsTerms: Bool

    init(_ transformer: CompiledTransformer, reportsTerms: Bool) {
        fieldIndex = transformer.fieldIndex
        self.reportsTerms = reportsTerms
        switch transformer.kind {
        case .text(let text): block = .text(.passUnretained(text))
        case .categorical(let categorical): block = .categorical(.passUnretained(categorical))
        case .numeric(let numeric): block = .numeric(.passUnretained(numeric))
        case .boolean(_, let missingValue): block = .boolean(missingValue: missingValue)
        }
    }

    /// Appends the transformer's non-zero columns (shifted by `offset`) in increasing order,
    /// without retaining its block; returns a text transformer's term count (nil for the
    /// others, and for a missing value).
    @inline(__always) @discardableResult
    func append<Sink: FeatureSink>(_ value: FeatureValue, offset: Int32, to sink: inout Sink) -> TermCount? {
        withUnsafePointer(to: value) { append($0, offset: offset, to: &sink) }
    }

    /// `append` of the value at `value`, read where it is: the closures that reach the
    /// unretained blocks capture the pointer, where a captured value was copied (its text
    /// retained and released) for each transformer of each listing.
    @inline(__always) @discardableResult
    func append<Sink: FeatureSink>(_ value: UnsafePointer<FeatureValue>, offset: Int32, to sink: inout Sink) -> TermCount? {
        switch block {
        case .text(let text):
            guard let string = value.pointee.featureText else { return nil }
            return text._withUnsafeGuaranteedRef { $0.termCount($0.append(string, offset: offset, to: &sink)) }
        case .categorical(let categorical):
            categorical._withUnsafeGuaranteedRef { $0.append(value, offset: offset, to: &sink) }
        case .numeric(let numeric):
            numeric._withUnsafeGuaranteedRef { $0.append(value, offset: offset, to: &sink) }
        case .boolean(let missingValue):
            let x: Double
            switch value.pointee {
            case .bool(let b): x = b ? 1 : 0
            case .number(let d) where !d.isNaN: x = d != 0 ? 1 : 0
            case .string(let text) where text == "true": x = 1
            case .string(let text) where text == "false": x = 0
            default: x = missingValue
            }
            if x != 0 { sink.add(offset, x) }
        }
        return nil
    }
}

/// One compiled column transformer.
struct CompiledTransformer: Sendable {
    enum Kind: Sendable {
        case text(TextBlock)
        case categorical(CategoricalBlock)
        case numeric(NumericBlock)
        case boolean(name: String, missingValue: Double)
    }

    /// Position of the input field in `signature.fields`.
    let fieldIndex: Int
    let kind: Kind

    var width: Int {
        switch kind {
        case .text(let text): text.width
        case .categorical(let categorical): categorical.width
        case .numeric(let numeric): numeric.missingIndicator ? 2 : 1
        case .boolean: 1
        }
    }

    func featureName(at local: Int) -> String {
        switch kind {
        case .text(let text): return text.featureName(at: local)
        case .categorical(let categorical):
            return categorical.columnNames[local]
        case .numeric(let numeric): return local == 0 ? numeric.name : "\(numeric.name):missing"
        case .boolean(let name, _): return name
        }
    }
}

extension FeatureValue {
    /// The text a string-consuming transformer reads: strings as they are, numbers in their
    /// shortest form (`3` for 3.0), booleans as `true`/`false`, missing → nil.
    public var textForm: String? { featureText?.string }

    /// `textForm` as a `FeatureText`: a string value's own, without a copy.
    public var featureText: FeatureText? {
        switch self {
        case .string(let s): return s
        case .number(let d):
            if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return FeatureText(String(Int64(d))) }
            return FeatureText(String(d))
        case .bool(let b): return b ? "true" : "false"
        case .missing: return nil
        }
    }
}

// MARK: - Text

final class TextBlock: Sendable {
    enum Vectorizer: Sendable {
        /// vocabulary bytes → column, idf per column, feature names per column.
        case tfidf(vocabulary: TermTable, idf: [Double], names: [String], sublinear: Bool, norm: VectorNorm)
        case hashing(nFeatures: Int, name: String, alternateSign: Bool, norm: VectorNorm)
    }

    let extractor: TermExtractor
    let vectorizer: Vectorizer
    /// Every present column counts 1 before idf and norm (scikit-learn `binary=True`).
    let binary: Bool
    /// Texts with at least this many n-gram starts (`AnalysedText.estimatedStarts`) count
    /// their hits in the thread's `ColumnCounter` (`Int.max`: never, a block wider than the
    /// counter takes).
    let countsHitsFrom: Int
    /// This block's name in the threads' `WordHitCache`s (`char_wb` blocks).
    let cacheID = WordHitCache.newBlockID()

    /// Hashing spaces are capped so that a typo cannot allocate gigabytes of weights.
    static let maximumHashingFeatures = 1 << 26
    /// n-gram lengths above this are rejected (scikit-learn users rarely exceed 5).
    static let maximumNGram = 16

    init(_ spec: TextSpec, path: String, weights: [Double]) throws(ArtifactError) {
        guard spec.ngramMin >= 1, spec.ngramMax >= spec.ngramMin, spec.ngramMax <= Self.maximumNGram else {
            throw ArtifactError(.invalidPipeline,
                                "\(path): ngram range \(spec.ngramMin)...\(spec.ngramMax) must satisfy 1 ≤ ngram_min ≤ ngram_max ≤ \(Self.maximumNGram)")
        }
        extractor = TermExtractor(spec)
        extractor.warmUp()
        switch spec.vectorizer {
        case .tfidf(let tfidf):
            let idf = try resolve(tfidf.idf, path: "\(path).vectorizer.idf", weights: weights)
            let size = tfidf.vocabulary.count
            guard idf.count == size else {
                throw ArtifactError(.invalidPipeline, "\(path).vectorizer.idf has \(idf.count) values for a vocabulary of \(size) terms")
            }
            if let bad = idf.firstIndex(where: { !$0.isFinite }) {
                throw ArtifactError(.invalidPipeline, "\(path).vectorizer.idf[\(bad)] is not finite")
            }
            var terms = [String?](repeating: nil, count: size)
            for (term, index) in tfidf.vocabulary {
                guard index >= 0, index < size else {
                    throw ArtifactError(.invalidPipeline,
                                        "\(path).vectorizer.vocabulary[\"\(term)\"] = \(index) is outside 0..<\(size)")
                }
                if let other = terms[index] {
                    throw ArtifactError(.invalidPipeline,
                                        "\(path).vectorizer.vocabulary: terms \"\(other)\" and \"\(term)\" share index \(index)")
                }
                terms[index] = term
            }
            let complete = terms.map { $0 ?? "" }  // every index is filled: size distinct indices in 0..<size
            vectorizer = .tfidf(vocabulary: TermTable(terms: complete), idf: idf, names: complete.map { "\(spec.name):\($0)" },
                                sublinear: tfidf.sublinearTF, norm: tfidf.norm)
            binary = tfidf.binary
        case .hashing(let hashing):
            guard hashing.nFeatures >= 1, hashing.nFeatures <= Self.maximumHashingFeatures else {
                throw ArtifactError(.invalidPipeline,
                                    "\(path).vectorizer.n_features = \(hashing.nFeatures) must be in 1...\(Self.maximumHashingFeatures)")
            }
            vectorizer = .hashing(nFeatures: hashing.nFeatures, name: spec.name, alternateSign: hashing.alternateSign, norm: hashing.norm)
            binary = hashing.binary
        }
        countsHitsFrom = Self.countsHitsFrom(extractor: extractor, width: Self.width(of: vectorizer))
    }

    /// The n-gram starts from which a block likely has `TermHitSort.radixThreshold` hits or
    /// more: each starts an n-gram of every length.
    private static func countsHitsFrom(extractor: TermExtractor, width: Int) -> Int {
        guard width <= ColumnCounter.maximumWidth else { return .max }
        let span = extractor.ngramMax - extractor.ngramMin + 1
        return (TermHitSort.radixThreshold + span - 1) / span
    }

    var width: Int { Self.width(of: vectorizer) }

    static func width(of vectorizer: Vectorizer) -> Int {
        switch vectorizer {
        case .tfidf(_, let idf, _, _, _): idf.count
        case .hashing(let n, _, _, _): n
        }
    }

    func featureName(at local: Int) -> String {
        switch vectorizer {
        case .tfidf(_, _, let names, _, _): names[local]
        case .hashing(_, let name, _, _): "\(name):#\(local)"
        }
    }

    /// The block's columns for `text`, from its terms in scikit-learn's order.
    @discardableResult
    func append<Sink: FeatureSink>(_ value: FeatureText, offset: Int32, to sink: inout Sink) -> TermTally {
        let text = value.string
        var hits: [TermHit] = []
        hits.reserveCapacity(32)
        var terms = 0
        switch vectorizer {
        case .tfidf(let vocabulary, _, _, _, _):
            extractor.forEachTerm(in: text) { term in
                terms += 1
                if let column = vocabulary.column(of: term) { hits.append(TermHit(column: column, negative: false)) }
            }
        case .hashing(let nFeatures, _, let alternateSign, _):
            extractor.forEachTerm(in: text) { term in
                terms += 1
                let (column, sign) = MurmurHash3.hashingColumn(term, nFeatures: nFeatures)
                hits.append(TermHit(column: Int32(column), negative: alternateSign && sign < 0))
            }
        }
        hits.withUnsafeMutableBufferPointer { emit($0, offset: offset, to: &sink) }
        return TermTally(terms: terms, hits: hits.count)
    }

    /// How many terms `text` makes and how many of them are hits, walked as `append` walks
    /// them, without the columns (input skew for a text no scoring pass counted).
    func tally(_ text: FeatureText) -> TermTally {
        var hits = HitCount()
        var terms = 0
        if extractor.tokenizesFromUTF8,
           extractor.withWordTokens(text, { terms = collectHits(analysed: $0, into: &hits) }) {
            return TermTally(terms: terms, hits: hits.count)
        }
        if extractor.withAnalysedScalars(text, { terms = collectHits(analysed: AnalysedScalars($0), into: &hits) }) {
            return TermTally(terms: terms, hits: hits.count)
        }
        var discarded = DiscardedColumns()
        return append(text, offset: 0, to: &discarded)
    }

    /// What `tally` says in `TermCount`'s terms: hits are the terms in the vocabulary (hashed
    /// text has none).
    func termCount(_ tally: TermTally) -> TermCount {
        switch vectorizer {
        case .tfidf: TermCount(terms: tally.terms, inVocabulary: tally.hits)
        case .hashing: TermCount(terms: tally.terms, inVocabulary: nil)
        }
    }

    /// `append(analysed:offset:to:)` for the string value at `value` tokenised straight from
    /// its UTF-8 (`TermExtractor.withWordTokens`); nil for another value, when this block's
    /// extractor cannot, or when the tokens outgrow its buffer, for the analysed scalars to
    /// take the text. The value is read where it is, so that a caller's closure captures the
    /// pointer, not the text.
    @inline(__always)
    func append<Sink: FeatureSink>(wordsOf value: UnsafePointer<FeatureValue>, offset: Int32, to sink: inout Sink) -> TermTally? {
        guard extractor.tokenizesFromUTF8, case .string(let text) = value.pointee else { return nil }
        var tally: TermTally?
        _ = extractor.withWordTokens(text) { tally = append(analysed: $0, offset: offset, to: &sink) }
        return tally
    }

    /// The block's columns for a text already analysed (`TermExtractor.withAnalysedScalars`),
    /// the same as `append(_:offset:to:)` gives, to the last bit: the hits counted per column
    /// in the thread's `ColumnCounter` when there may be many (char n-grams, long texts; blocks
    /// up to the counter's maximum width), else gathered on the stack and sorted (a title's
    /// twenty word n-grams sort by insertion in less than the counter's bookkeeping).
    @discardableResult
    func append<Text: AnalysedText, Sink: FeatureSink>(analysed text: Text, offset: Int32, to sink: inout Sink) -> TermTally {
        if text.estimatedStarts(extractor.analyzer) >= countsHitsFrom {
            var counted = CountedHits(counter: ColumnCounter.forCurrentThread(width: width))
            let terms = collectHits(analysed: text, into: &counted)
            guard counted.count > 0 else { return TermTally(terms: terms, hits: 0) }
            // Room for every column, so that emit reads the counts once.
            counted.counter.reserveMerged(counted.count)
            emit(CountedColumns(counter: counted.counter, width: width), offset: offset, to: &sink,
                 merged: (counted.counter.mergedColumns, counted.counter.mergedValues, counted.count))
            return TermTally(terms: terms, hits: counted.count)
        }
        return withUnsafeTemporaryAllocation(of: TermHit.self, capacity: TermHits.stackCapacity) { stack in
            var hits = TermHits(stack: stack)
            let terms = collectHits(analysed: text, into: &hits, weights: sink.weights.map { $0 + Int(offset) })
            hits.withHits { emit($0, offset: offset, to: &sink) }
            return TermTally(terms: terms, hits: hits.count)
        }
    }

    /// The vocabulary (or hashing) hits among the terms of analysed scalars, unordered.
    /// Generic visitors rather than closures, so that the lookup and the collecting inline
    /// into the term walk (a call per term cost about a third of the walk).
    /// `char_wb` blocks go word by word through the thread's `WordHitCache`.
    /// Returns how many terms there were, found or not.
    @inline(__always)
    private func collectHits<Text: AnalysedText, Collector: HitCollector>(analysed text: Text,
                                                                          into collector: inout Collector,
                                                                          weights: UnsafePointer<Double>? = nil) -> Int {
        let cache = extractor.analyzer == .charWB ? WordHitCache.forCurrentThread() : nil
        switch vectorizer {
        case .tfidf(let vocabulary, let idf, _, _, _):
            return vocabulary.withLookup { lookup in
                if let cache, let scalars = text.scalars {
                    var visitor = VocabularyHits(lookup: lookup, collector: RecordingHits(base: collector, cache: cache))
                    visitWordByWord(scalars, cache: cache, &visitor)
                    collector = visitor.collector.base
                    return visitor.terms
                }
                return idf.withUnsafeBufferPointer { idf in
                    // Only a table past the caches is worth loading ahead for.
                    let ahead = lookup.exceedsCaches ? ColumnValues(idf: idf.baseAddress, weights: weights) : .none
                    var visitor = VocabularyHits(lookup: lookup, collector: collector, columnValues: ahead)
                    text.visitTerms(of: extractor, &visitor)
                    collector = visitor.collector
                    return visitor.terms
                }
            }
        case .hashing(let nFeatures, _, let alternateSign, _):
            if let cache, let scalars = text.scalars {
                var visitor = HashedHits(nFeatures: nFeatures, alternateSign: alternateSign,
                                         collector: RecordingHits(base: collector, cache: cache))
                visitWordByWord(scalars, cache: cache, &visitor)
                collector = visitor.collector.base
                return visitor.terms
            }
            var visitor = HashedHits(nFeatures: nFeatures, alternateSign: alternateSign, collector: collector)
            text.visitTerms(of: extractor, &visitor)
            collector = visitor.collector
            return visitor.terms
        }
    }

    /// The `char_wb` hits of each word: replayed when the cache has the word, else found and
    /// recorded (the visitor's collector records while the cache says so).
    @inline(__always)
    private func visitWordByWord<Visitor: HitVisitor>(_ scalars: UnsafeBufferPointer<Unicode.Scalar>, cache: WordHitCache,
                                                      _ visitor: inout Visitor) {
        let block = cacheID
        let ngrams = extractor.ngramMin...extractor.ngramMax
        TermExtractor.withPaddedWords(scalars) { words in
            while let word = words.next() {
                // Zero bytes follow each padded word (`PaddedWords.next`).
                let hash = TermHash.of(padded: word.bytes.baseAddress!, count: word.bytes.count)
                if let stored = cache.entry(block: block, word: word.bytes, hash: hash) {
                    for hit in stored.hits { visitor.collect(hit) }
                    visitor.terms += stored.terms
                    continue
                }
                let termsBefore = visitor.terms
                cache.beginRecording()
                TermExtractor.visitCharWBWindows(of: word, ngrams, &visitor)
                cache.endRecording(block: block, word: word.bytes, hash: hash, terms: visitor.terms - termsBefore)
            }
        }
    }

    /// Columns a block's merged values are kept for on the stack (1 KiB of values) when its
    /// hits are sorted: up to this many, each value is computed once; past it, once for the
    /// norm and once to emit.
    static let mergedCapacity = 128

    /// Sorts the hits by column and hands them to `emit(_:offset:to:merged:)`.
    private func emit<Sink: FeatureSink>(_ hits: UnsafeMutableBufferPointer<TermHit>, offset: Int32, to sink: inout Sink) {
        guard !hits.isEmpty else { return }
        TermHitSort.sort(hits)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.mergedCapacity) { values in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.mergedCapacity) { columns in
                guard let values = values.baseAddress, let columns = columns.baseAddress else { return }
                emit(SortedHits(hits: hits), offset: offset, to: &sink, merged: (columns, values, Self.mergedCapacity))
            }
        }
    }

    /// Weights each column's total (binary, sublinear tf, idf), normalises the block and hands
    /// the columns to `sink` in column order. The idf and sublinear tables are entered once per
    /// block, not per column.
    @inline(__always)
    private func emit<Totals: ColumnTotals, Sink: FeatureSink>(
        _ totals: Totals, offset: Int32, to sink: inout Sink,
        merged: (columns: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Double>, capacity: Int)
    ) {
        switch vectorizer {
        case .tfidf(_, let idf, _, let sublinear, let norm):
            idf.withUnsafeBufferPointer { idf in
                Self.sublinearTable.withUnsafeBufferPointer { table in
                    emit(totals, norm: norm, offset: offset, to: &sink, merged: merged) { tf, column in
                        (sublinear ? Self.sublinear(tf, table: table) : Double(tf)) * idf[Int(column)]
                    }
                }
            }
        case .hashing(_, _, _, let norm):
            emit(totals, norm: norm, offset: offset, to: &sink, merged: merged) { tf, _ in Double(tf) }
        }
    }

    @inline(__always)
    private func emit<Totals: ColumnTotals, Sink: FeatureSink>(
        _ totals: Totals, norm: VectorNorm, offset: Int32, to sink: inout Sink,
        merged: (columns: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Double>, capacity: Int),
        weight: (Int, Int32) -> Double
    ) {
        let (columns, values, capacity) = merged
        var count = 0
        let fitted = forEachValue(totals, weight: weight) { column, value in
            guard count < capacity else { return false }
            columns[count] = column
            values[count] = value
            count += 1
            return true
        }
        precondition(fitted || totals.isRepeatable, "merge buffers smaller than the columns of totals read once")
        if fitted {
            let divisor = Self.divisor(norm) { body in for k in 0..<count { body(values[k]) } }
            // x / 1 is x exactly: an unnormalised block goes through the same division.
            for k in 0..<count { sink.add(offset + columns[k], values[k] / divisor) }
        } else {
            let divisor = Self.divisor(norm) { body in
                forEachValue(totals, weight: weight) { _, value in body(value); return true }
            }
            forEachValue(totals, weight: weight) { column, value in sink.add(offset + column, value / divisor); return true }
        }
    }

    /// What the block's values are divided by: their L2 or L1 norm (1 when there is none, or
    /// when it is 0).
    @inline(__always)
    private static func divisor(_ norm: VectorNorm, _ forEachValue: ((Double) -> Void) -> Void) -> Double {
        switch norm {
        case .l2:
            var squares = 0.0
            forEachValue { squares += $0 * $0 }
            return squares > 0 ? squares.squareRoot() : 1
        case .l1:
            var total = 0.0
            forEachValue { total += abs($0) }
            return total > 0 ? total : 1
        case .none:
            return 1
        }
    }

    /// Each column with its value, `weight(tf, column)` (tf the column's total, an integer:
    /// a count, or hashed terms' signs summed; zeros skipped: hashed terms whose
    /// signs cancelled, idf 0), in column order, until `body` says stop. Returns whether every
    /// column was handed over.
    @inline(__always) @discardableResult
    private func forEachValue<Totals: ColumnTotals>(
        _ totals: Totals, weight: (Int, Int32) -> Double, _ body: (Int32, Double) -> Bool
    ) -> Bool {
        totals.forEachTotal { column, total in
            if total == 0 { return true }
            let value = weight(binary ? 1 : total, column)
            if value == 0 { return true }
            return body(column, value)
        }
    }

    /// 1 + log(tf), from `table` (`sublinearTable`'s storage) for the small counts every
    /// short text has. An integer count, so that the table is indexed without converting
    /// a Double (a checked conversion cost ten instructions a column).
    @inline(__always)
    static func sublinear(_ tf: Int, table: UnsafeBufferPointer<Double>) -> Double {
        if tf >= 1 && tf < table.count { return table[tf] }
        return 1 + Math.log(Double(tf))
    }

    /// 1 + log(k) for k < 64, computed with the same `Math.log`.
    static let sublinearTable: [Double] = (0..<64).map { 1 + Math.log(Double($0)) }
}

/// A read-only hash table from a term's UTF-8 bytes to its column, so lookups need no String.
/// Open addressing with linear probing at load factor ≤ 1/2, filed by `TermHash` (so a caller
/// that extends hashes term to term never hashes a term twice); compares bytes exactly (as
/// Python compares str code points — unlike `String ==`, which equates canonically equivalent
/// text).
public struct TermTable: Sendable {
    /// One slot (16 bytes, four to a cache line): bits 8–31 of the hash's high half with the
    /// term's length (up to 255) below them, the column, and the term's first 8 bytes, so that
    /// a probe for a term of up to 8 bytes (every char n-gram up to 4 ASCII letters, most
    /// words) reads one slot and never the arena.
    struct Slot: Sendable {
        var tag: UInt32 = 0
        /// Column + 1; 0 = empty slot.
        var columnPlusOne: Int32 = 0
        /// The first min(8, length) bytes, little-endian, zero-padded.
        var prefix: UInt64 = 0
    }

    /// All terms' UTF-8 bytes, concatenated in column order.
    let arena: [UInt8]
    /// Where column c's bytes start in `arena`; `starts[c + 1]` is where they end.
    let starts: [Int32]
    /// Slots from which a table counts as larger than the caches (`Lookup.exceedsCaches`).
    static var prefetchedFrom: Int { (1 << 20) / MemoryLayout<Slot>.stride }
    /// Capacity is a power of two, at least twice the vocabulary size.
    let slots: [Slot]
    let mask: Int

    public init(terms: [String]) {
        var arena: [UInt8] = []
        var starts: [Int32] = [0]
        starts.reserveCapacity(terms.count + 1)
        for term in terms {
            arena.append(contentsOf: term.utf8)
            starts.append(Int32(truncatingIfNeeded: arena.count))
        }
        var capacity = 8
        while capacity < terms.count * 2 { capacity *= 2 }
        var slots = [Slot](repeating: Slot(), count: capacity)
        arena.withUnsafeBufferPointer { bytes in
            for column in terms.indices {
                let term = UnsafeBufferPointer(rebasing: bytes[Int(starts[column])..<Int(starts[column + 1])])
                let hash = TermHash.of(term)
                var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
                while slots[slot].columnPlusOne != 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = Slot(tag: Self.tag(hash: hash, length: term.count), columnPlusOne: Int32(column + 1),
                                   prefix: Self.prefix(of: term))
            }
        }
        self.arena = arena
        self.starts = starts
        self.slots = slots
        self.mask = capacity - 1
    }

    /// A slot's tag: the hash's bits 40–63 and the length, 255 standing for any from 255 on.
    @inline(__always)
    static func tag(hash: UInt64, length: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> 32) & 0xFFFF_FF00 | UInt32(truncatingIfNeeded: min(length, 255))
    }

    /// The first min(8, count) bytes of `term`, little-endian, zero-padded.
    @inline(__always)
    static func prefix(of term: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let start = term.baseAddress else { return 0 }
        return TermHash.partialWord(at: start, count: min(8, term.count))
    }

    /// The column of `term`, or nil when it is not in the vocabulary. (Duplicate byte strings
    /// cannot occur: vocabulary keys are distinct.)
    public func column(of term: UnsafeBufferPointer<UInt8>) -> Int32? {
        withLookup { $0.column(of: term, hash: TermHash.of(term)) }
    }

    /// The column of a value's text.
    public func column(of text: FeatureText) -> Int32? {
        text.withUTF8 { column(of: $0) }
    }

    /// Runs `body` with a lookup over the table's storage (valid during the call), for many
    /// lookups without re-entering the arrays each time.
    @inline(__always)
    func withLookup<Result>(_ body: (Lookup) -> Result) -> Result {
        arena.withUnsafeBufferPointer { arena in
            starts.withUnsafeBufferPointer { starts in
                slots.withUnsafeBufferPointer { slots in body(Lookup(arena: arena, starts: starts, slots: slots, mask: mask)) }
            }
        }
    }

    struct Lookup {
        let arena: UnsafeBufferPointer<UInt8>
        let starts: UnsafeBufferPointer<Int32>
        let slots: UnsafeBufferPointer<Slot>
        let mask: Int

        /// The column of `term` whose `TermHash` is `hash`, or nil.
        @inline(__always)
        func column(of term: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
            column(of: term, hash: hash, prefix: TermTable.prefix(of: term))
        }

        /// Whether the slots are more than a core's share of cache is likely to hold (1 MiB),
        /// so that prefetching them pays for the instructions it takes.
        @inline(__always)
        var exceedsCaches: Bool { mask >= TermTable.prefetchedFrom }

        /// Starts loading the slot where a lookup of `hash` begins.
        @inline(__always)
        func prefetch(hash: UInt64) {
            guard let base = slots.baseAddress else { return }
            csystem_prefetch(base + (Int(truncatingIfNeeded: hash) & mask))
        }

        /// `column(of:hash:)` for a term followed by at least `TermExtractor.termPadding`
        /// readable bytes, whose prefix is one load instead of a byte loop.
        @inline(__always)
        func column(ofPadded term: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
            guard let start = term.baseAddress else { return column(of: term, hash: hash) }
            let word = TermHash.word(at: start)
            let count = term.count
            return column(of: term, hash: hash, prefix: count >= 8 ? word : word & (1 << UInt64(8 * count) - 1))
        }

        @inline(__always)
        private func column(of term: UnsafeBufferPointer<UInt8>, hash: UInt64, prefix: UInt64) -> Int32? {
            let count = term.count
            let tag = TermTable.tag(hash: hash, length: count)
            var index = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = slots[index]
                if slot.columnPlusOne == 0 { return nil }
                if slot.tag == tag && slot.prefix == prefix {
                    // Equal lengths below 255 (the tag holds them), equal first 8 bytes.
                    let column = slot.columnPlusOne - 1
                    if count <= 8 { return column }
                    let start = Int(starts[Int(column)]), end = Int(starts[Int(column) + 1])
                    if end - start == count, let a = arena.baseAddress, let b = term.baseAddress,
                       TermTable.bytesEqual(afterPrefix: a + start + 8, b + 8, count - 8) {
                        return column
                    }
                }
                index = (index + 1) & mask
            }
        }
    }

    /// Whether `count` (≥ 1) bytes at `a` and `b` are equal, eight at a time. The 8 bytes
    /// before each (a term's prefix) must be readable: a tail shorter than a word is compared
    /// as the last 8 bytes, overlapping bytes already compared, so no load passes the end.
    @inline(__always)
    static func bytesEqual(afterPrefix a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        @inline(__always) func word(_ p: UnsafePointer<UInt8>) -> UInt64 { UnsafeRawPointer(p).loadUnaligned(as: UInt64.self) }
        var i = 0
        while i + 8 <= count {
            if word(a + i) != word(b + i) { return false }
            i += 8
        }
        return i == count || word(a + count - 8) == word(b + count - 8)
    }
}

// MARK: - Categorical

final class CategoricalBlock: Sendable {
    let name: String
    /// Category bytes → the category's place in `columns`, compared byte for byte as
    /// scikit-learn compares str values (not by canonical equivalence, as `String ==` would),
    /// without hashing a String per lookup.
    let categories: TermTable
    /// Column inside the block of each category (−1: a dropped category, which sets none).
    let columns: [Int32]
    /// Feature name of each column.
    let columnNames: [String]
    let unknownColumn: Int32?
    let missingColumn: Int32?

    var width: Int { columnNames.count }

    init(_ spec: CategoricalSpec, path: String) throws(ArtifactError) {
        let layout = try Self.layout(of: spec, path: path)
        var seen: Set<[UInt8]> = []
        var names = [[String]](repeating: [], count: layout.width)
        for (k, category) in spec.categories.enumerated() {
            guard seen.insert(Array(category.utf8)).inserted else {
                throw ArtifactError(.invalidPipeline, "\(path).categories[\(k)]: \"\(category)\" is listed twice")
            }
            if let column = layout.columns[k] { names[column].append(category) }
        }
        if let missing = layout.missingColumn { names[missing].append("<missing>") }
        if let unknown = layout.unknownColumn { names[unknown].append("<other>") }
        self.name = spec.name
        self.categories = TermTable(terms: spec.categories)
        // A dropped category is known (so not "unknown") but sets no column.
        self.columns = layout.columns.map { $0.map(Int32.init) ?? -1 }
        // A shared column (infrequent categories) is named after all of them.
        self.columnNames = names.map { "\(spec.name)=" + ($0.isEmpty ? "<none>" : $0.joined(separator: "|")) }
        self.unknownColumn = layout.unknownColumn.map(Int32.init)
        self.missingColumn = layout.missingColumn.map(Int32.init)
    }

    /// The spec's layout, or format 1's: one column per category in order, then the missing slot.
    static func layout(of spec: CategoricalSpec, path: String) throws(ArtifactError) -> CategoricalLayout {
        guard let layout = spec.layout else {
            let count = spec.categories.count
            return CategoricalLayout(width: count + (spec.missingSlot ? 1 : 0), columns: Array(0..<count),
                                     missingColumn: spec.missingSlot ? count : nil)
        }
        guard !spec.missingSlot else {
            throw ArtifactError(.invalidPipeline, "\(path): give missing_slot or layout.missing_column, not both")
        }
        guard layout.width >= 1 else { throw ArtifactError(.invalidPipeline, "\(path).layout.width must be at least 1") }
        guard layout.columns.count == spec.categories.count else {
            throw ArtifactError(.invalidPipeline,
                                "\(path).layout.columns has \(layout.columns.count) values for \(spec.categories.count) categories")
        }
        let inBlock = 0..<layout.width
        if let bad = layout.columns.firstIndex(where: { $0.map { !inBlock.contains($0) } ?? false }) {
            throw ArtifactError(.invalidPipeline, "\(path).layout.columns[\(bad)] is outside 0..<\(layout.width)")
        }
        for (key, column) in [("unknown_column", layout.unknownColumn), ("missing_column", layout.missingColumn)] {
            if let column, !inBlock.contains(column) {
                throw ArtifactError(.invalidPipeline, "\(path).layout.\(key) is outside 0..<\(layout.width)")
            }
        }
        return layout
    }

    /// A string is looked up where it is; a number or boolean by its text form (`textForm`).
    func append<Sink: FeatureSink>(_ value: UnsafePointer<FeatureValue>, offset: Int32, to vector: inout Sink) {
        let column: Int32?
        switch value.pointee {
        case .string(let text): column = self.column(of: text)
        case .number(let d) where !d.isFinite: column = missingColumn
        case .missing: column = missingColumn
        case .number, .bool: column = value.pointee.featureText.map { self.column(of: $0) } ?? missingColumn
        }
        if let column, column >= 0 { vector.add(offset + column, 1) }
    }

    /// The column a present category sets (the unknown one, or nil, for one not listed).
    @inline(__always)
    private func column(of text: FeatureText) -> Int32? {
        categories.column(of: text).map { columns[Int($0)] } ?? unknownColumn
    }
}

// MARK: - Numeric

final class NumericBlock: Sendable {
    let name: String
    let log1p: Bool
    let mean: Double
    let scale: Double
    /// The output for a missing input: the imputed value through log1p, centring and scaling,
    /// computed once here instead of on every missing value.
    let missingOutput: Double
    let missingIndicator: Bool

    init(_ spec: NumericSpec, path: String) throws(ArtifactError) {
        guard spec.mean.isFinite else { throw ArtifactError(.invalidPipeline, "\(path).mean must be finite") }
        guard spec.scale.isFinite, spec.scale != 0 else {
            throw ArtifactError(.invalidPipeline, "\(path).scale must be finite and non-zero")
        }
        guard spec.imputeValue.isFinite, !spec.log1p || spec.imputeValue > -1 else {
            throw ArtifactError(.invalidPipeline, "\(path).impute_value must be finite (and > -1 with log1p)")
        }
        name = spec.name
        log1p = spec.log1p
        mean = spec.mean
        scale = spec.scale
        missingOutput = ((spec.log1p ? Math.log1p(spec.imputeValue) : spec.imputeValue) - spec.mean) / spec.scale
        missingIndicator = spec.missingIndicator
    }

    /// The transformed value and whether the input counted as missing.
    func transform(_ value: FeatureValue) -> (value: Double, missing: Bool) {
        var x: Double?
        switch value {
        case .number(let d): x = d
        case .bool(let b): x = b ? 1 : 0
        case .string(let s): x = Double(s.string)
        case .missing: x = nil
        }
        if let raw = x, !raw.isFinite { x = nil }
        if log1p, let raw = x {
            let logged = Math.log1p(raw)
            x = logged.isFinite ? logged : nil
        }
        guard let base = x else { return (missingOutput, true) }
        return ((base - mean) / scale, false)
    }

    func append<Sink: FeatureSink>(_ value: UnsafePointer<FeatureValue>, offset: Int32, to vector: inout Sink) {
        let (x, missing) = transform(value.pointee)
        if x != 0 { vector.add(offset, x) }
        if missingIndicator && missing { vector.add(offset + 1, 1) }
    }
}

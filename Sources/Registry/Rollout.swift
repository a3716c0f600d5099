import FoundationEssentials

/// A rollout of one model: a shadow version that scores the serving version's listings off
/// the response path, a canary version that answers a share of them, and the guards that
/// stop a bad canary. From `<storage>/<model>/rollout.json` (fleet-wide) or an admin call
/// (this replica):
///
/// ```json
/// {"shadow": {"version": 3}, "canary": {"version": 3, "weight": 0.05},
///  "guards": {"min_samples": 1000, "max_disagreement": 0.02, "max_psi": 0.2}}
/// ```
///
/// Versions a rollout names are loaded and kept loaded, and never become the serving version
/// by being the newest (only a pin, `pin.json` or `:promote` makes them serve).
public struct RolloutSpec: Sendable, Hashable {
    /// The version that scores every listing the serving version scores, off the response path.
    public var shadow: Int?
    /// The version that answers a share of the listings.
    public var canary: Canary?
    /// When to stop the canary automatically.
    public var guards: RolloutGuards

    public struct Canary: Sendable, Hashable {
        public var version: Int
        /// Share of listings (by a hash of the listing id) the canary answers, in [0, 1].
        public var weight: Double

        public init(version: Int, weight: Double) {
            self.version = version
            self.weight = weight
        }
    }

    public init(shadow: Int? = nil, canary: Canary? = nil, guards: RolloutGuards = RolloutGuards()) {
        self.shadow = shadow
        self.canary = canary
        self.guards = guards
    }

    /// No shadow and no canary: nothing to roll out.
    public var isEmpty: Bool { shadow == nil && canary == nil }

    /// The versions this rollout names (loaded and kept loaded by the version policy).
    public var versions: Set<Int> {
        Set([shadow, canary?.version].compactMap { $0 })
    }
}

/// Limits on how far a shadow's or canary's scores may stray from the serving version's. Each
/// comparison is judged once it has `minSamples` listings; a broken limit aborts the canary.
public struct RolloutGuards: Sendable, Hashable {
    /// Listings compared before a guard may fire. Default 1000.
    public var minSamples: Int
    /// Largest share of listings whose label differs from the serving version's. Default: none.
    public var maxDisagreement: Double?
    /// Largest population stability index between the two score distributions. Default: none.
    public var maxPSI: Double?
    /// Largest mean |score difference|. Default: none.
    public var maxMeanDelta: Double?

    public init(minSamples: Int = 1000, maxDisagreement: Double? = nil, maxPSI: Double? = nil, maxMeanDelta: Double? = nil) {
        self.minSamples = minSamples
        self.maxDisagreement = maxDisagreement
        self.maxPSI = maxPSI
        self.maxMeanDelta = maxMeanDelta
    }
}

/// Why a rollout body or file was refused.
public struct RolloutSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer of the offending member ("" for the whole document).
    public var pointer: String
    public var problem: String
    public var description: String { pointer.isEmpty ? problem : "\(pointer): \(problem)" }
}

/// Why the canary stopped answering on this replica.
public struct RolloutAbort: Sendable, Hashable {
    /// The broken guard (`disagreement 0.31 > max_disagreement 0.02 after 1000 listings`) or
    /// `aborted by an admin`.
    public var reason: String
    /// Whether a guard fired (false: an admin called `:abort`).
    public var automatic: Bool
    public var at: Date
    /// Read from `rollout-abort.json`: a guard stopped this rollout earlier (before this process
    /// started, or on another replica reading the same storage). Default false.
    public var earlier: Bool
    /// Why a guard abort could not be written to `rollout-abort.json` (it holds in memory
    /// only, until a restart). Nil when written, or not to be written (an admin abort or rollout).
    public var recordError: String?

    public init(reason: String, automatic: Bool, at: Date, earlier: Bool = false, recordError: String? = nil) {
        self.reason = reason
        self.automatic = automatic
        self.at = at
        self.earlier = earlier
        self.recordError = recordError
    }
}

/// A guard abort as `<storage>/<model>/rollout-abort.json` records it, so it outlives the
/// process: the rollout (as in `rollout.json`) it stopped, why and when. It applies while
/// `rollout.json` names that same rollout; a changed `rollout.json` makes it stale.
///
/// ```json
/// {"rollout": {"canary": {"version": 3, "weight": 0.05}, "guards": {"min_samples": 1000}},
///  "reason": "canary: disagreement 0.31 > max_disagreement 0.02 after 1000 listings",
///  "at": "2026-12-04T16:30:00Z"}
/// ```
public struct RecordedAbort: Sendable, Hashable {
    public var rollout: RolloutSpec
    public var reason: String
    public var at: Date

    public init(rollout: RolloutSpec, reason: String, at: Date) {
        self.rollout = rollout
        self.reason = reason
        self.at = at
    }

    /// The file's name in a model's directory.
    public static let fileName = "rollout-abort.json"

    /// The file's bytes (one line of JSON, members sorted).
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain values into JSON cannot fail.
        return Array(try! encoder.encode(Document(rollout: rollout, reason: reason, at: at.formatted(.iso8601)))) + [0x0A]
    }

    /// Parses the file; anything but the documented members, a valid rollout and an ISO 8601
    /// time is refused.
    public static func parse(_ bytes: [UInt8]) throws(RolloutSpecError) -> RecordedAbort {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch let error as RolloutSpecError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            throw RolloutSpecError(pointer: RolloutSpec.pointer(context.codingPath), problem: context.debugDescription)
        } catch {
            throw RolloutSpecError(pointer: "", problem: "not JSON: \(error)")
        }
        guard let at = try? Date(document.at, strategy: .iso8601) else {
            throw RolloutSpecError(pointer: "/at", problem: "expected an ISO 8601 time")
        }
        return RecordedAbort(rollout: document.rollout, reason: document.reason, at: at)
    }

    private struct Document: Codable {
        var rollout: RolloutSpec
        var reason: String
        var at: String
    }
}

/// Where the rollout in force comes from.
public enum RolloutSource: String, Sendable, Hashable {
    /// `<storage>/<model>/rollout.json`.
    case file
    /// An admin call on this replica (`PUT …/rollout`, `:promote`), until `DELETE …/rollout` or a restart.
    case admin
}

/// A model's rollout as the status route shows it.
public struct RolloutStatus: Sendable, Hashable {
    /// The rollout in force (nil: none).
    public var spec: RolloutSpec?
    public var source: RolloutSource?
    /// The canary stopped on this replica, and why (nil: it answers its share).
    public var abort: RolloutAbort?
    /// Why `rollout.json` could not be used; what was in force stays in force.
    public var fileError: String?
    /// Why a named version does not take part yet (loading, failed, not in storage, serving).
    public var issues: [String]
}

/// What request handlers need of a rollout, published in the model's snapshot: versions
/// that are loaded, differ from the serving version and may take part now.
public struct RolloutRouting: Sendable, Hashable {
    /// The shadow version (loaded, not serving), if any.
    public var shadow: Int?
    /// The canary version and its weight (loaded, not serving, not aborted, weight > 0), if any.
    public var canary: RolloutSpec.Canary?
    public var guards: RolloutGuards

    public init(shadow: Int?, canary: RolloutSpec.Canary?, guards: RolloutGuards) {
        self.shadow = shadow
        self.canary = canary
        self.guards = guards
    }

    /// Whether anything is rolled out (a request then hands its listings to the monitor).
    public var isActive: Bool { shadow != nil || canary != nil }
}

extension RolloutSpec {
    /// Parses a rollout document (rollout.json, or an admin body). Members other than
    /// `shadow`, `canary` and `guards` (and their documented members) are refused, so a typo
    /// never passes for "no canary"; null members are absent.
    public static func parse(_ bytes: [UInt8]) throws(RolloutSpecError) -> RolloutSpec {
        do {
            return try JSONDecoder().decode(Document.self, from: Data(bytes)).spec
        } catch let error as RolloutSpecError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            throw RolloutSpecError(pointer: pointer(context.codingPath), problem: context.debugDescription)
        } catch {
            throw RolloutSpecError(pointer: "", problem: "not JSON: \(error)")
        }
    }

    static func pointer(_ path: [any CodingKey]) -> String {
        path.map { "/" + $0.stringValue }.joined()
    }

    /// Any member name, so unknown members can be named in the error.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct Document: Decodable {
        var spec = RolloutSpec()

        init(from decoder: any Decoder) throws {
            let root = try Self.members(decoder.container(keyedBy: Key.self), allowed: ["shadow", "canary", "guards"])
            if let shadow = try Self.object(root, "shadow", allowed: ["version"]) {
                spec.shadow = try Self.version(shadow, "version")
            }
            if let canary = try Self.object(root, "canary", allowed: ["version", "weight"]) {
                let version = try Self.version(canary, "version")
                let weight = try Self.number(canary, "weight", in: 0...1, required: true)!
                spec.canary = Canary(version: version, weight: weight)
            }
            if let guards = try Self.object(root, "guards", allowed: ["min_samples", "max_disagreement", "max_psi", "max_mean_delta"]) {
                if let samples = try Self.number(guards, "min_samples", in: 1...1e12, required: false) {
                    guard samples == samples.rounded() else {
                        throw RolloutSpecError(pointer: pointer(guards.codingPath) + "/min_samples", problem: "expected a positive integer")
                    }
                    spec.guards.minSamples = Int(samples)
                }
                spec.guards.maxDisagreement = try Self.number(guards, "max_disagreement", in: 0...1, required: false)
                spec.guards.maxPSI = try Self.number(guards, "max_psi", in: 0...1_000_000, required: false)
                spec.guards.maxMeanDelta = try Self.number(guards, "max_mean_delta", in: 0...1, required: false)
            }
        }

        static func members(_ container: KeyedDecodingContainer<Key>, allowed: [String]) throws -> KeyedDecodingContainer<Key> {
            if let extra = container.allKeys.map(\.stringValue).sorted().first(where: { !allowed.contains($0) }) {
                throw RolloutSpecError(pointer: pointer(container.codingPath) + "/" + extra,
                                       problem: "unknown member (expected \(allowed.joined(separator: ", ")))")
            }
            return container
        }

        static func object(_ container: KeyedDecodingContainer<Key>, _ name: String, allowed: [String]) throws -> KeyedDecodingContainer<Key>? {
            let key = Key(stringValue: name)
            guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
            return try members(container.nestedContainer(keyedBy: Key.self, forKey: key), allowed: allowed)
        }

        static func number(_ container: KeyedDecodingContainer<Key>, _ name: String, in range: ClosedRange<Double>, required: Bool) throws -> Double? {
            let key = Key(stringValue: name)
            let at = pointer(container.codingPath) + "/" + name
            guard container.contains(key), try !container.decodeNil(forKey: key) else {
                if required { throw RolloutSpecError(pointer: at, problem: "is required") }
                return nil
            }
            guard let value = try? container.decode(Double.self, forKey: key), value.isFinite, range.contains(value) else {
                throw RolloutSpecError(pointer: at, problem: "expected a number in [\(format(range.lowerBound)), \(format(range.upperBound))]")
            }
            return value
        }

        static func version(_ container: KeyedDecodingContainer<Key>, _ name: String) throws -> Int {
            let value = try number(container, name, in: 1...VersionSelector.largestVersion, required: true)!
            guard value == value.rounded() else {
                throw RolloutSpecError(pointer: pointer(container.codingPath) + "/" + name, problem: "expected a positive integer")
            }
            return Int(value)
        }

        static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
    }
}

/// The same document `parse` reads (`RecordedAbort` nests one); absent members are omitted.
extension RolloutSpec: Codable {
    public init(from decoder: any Decoder) throws {
        self = try Document(from: decoder).spec
    }

    public func encode(to encoder: any Encoder) throws {
        var root = encoder.container(keyedBy: Key.self)
        if let shadow {
            var member = root.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "shadow"))
            try member.encode(shadow, forKey: Key(stringValue: "version"))
        }
        if let canary {
            var member = root.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "canary"))
            try member.encode(canary.version, forKey: Key(stringValue: "version"))
            try member.encode(canary.weight, forKey: Key(stringValue: "weight"))
        }
        var guardMembers = root.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: "guards"))
        try guardMembers.encode(guards.minSamples, forKey: Key(stringValue: "min_samples"))
        try guardMembers.encodeIfPresent(guards.maxDisagreement, forKey: Key(stringValue: "max_disagreement"))
        try guardMembers.encodeIfPresent(guards.maxPSI, forKey: Key(stringValue: "max_psi"))
        try guardMembers.encodeIfPresent(guards.maxMeanDelta, forKey: Key(stringValue: "max_mean_delta"))
    }
}

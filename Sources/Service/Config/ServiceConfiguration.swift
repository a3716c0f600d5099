import FoundationEssentials
import HTTPServer
import JSON

/// A configuration problem; start-up stops with this message.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Resolved configuration: defaults, then the file, then `VIGIA_…` variables, then flags
/// (12-factor). Values are checked against `ConfigurationKey.all` at each layer, so an error
/// names the key and where the bad value came from.
public struct ServiceConfiguration: Sendable {
    /// Resolved value of every key, by dotted path.
    public private(set) var values: [String: JSONValue]
    /// Where each value came from ("default", a file path, an environment variable, "--flag").
    public private(set) var sources: [String: String]

    /// The file read when `--config` is not given, if it exists.
    public static let defaultFile = "config/vigia.json"

    public init() {
        values = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.path, $0.defaultValue) })
        sources = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.path, "default") })
    }

    /// - Parameters:
    ///   - file: a JSON file; nil reads `defaultFile` when present.
    ///   - environment: usually the process environment; every `VIGIA_` variable must be a known key.
    ///   - overrides: dotted path → text, from command-line flags.
    public static func resolve(
        file: String?, environment: [String: String], overrides: [(path: String, text: String, flag: String)] = []
    ) throws(ConfigurationError) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        let path = file ?? (FileManager.default.fileExists(atPath: defaultFile) ? defaultFile : nil)
        if let path { try configuration.apply(file: path) }
        let known = Set(ConfigurationKey.all.map(\.environmentName))
        for name in environment.keys.sorted() where name.hasPrefix("VIGIA_") && !known.contains(name) {
            throw ConfigurationError(message: "unknown environment variable \(name); known: see `vigia config-keys`")
        }
        for key in ConfigurationKey.all {
            if let text = environment[key.environmentName] {
                try configuration.set(key, text: text, source: "environment variable \(key.environmentName)")
            }
        }
        for override in overrides {
            guard let key = ConfigurationKey.named(override.path) else {
                throw ConfigurationError(message: "internal: flag \(override.flag) maps to unknown key \(override.path)")
            }
            try configuration.set(key, text: override.text, source: override.flag)
        }
        return configuration
    }

    mutating func apply(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(message: "cannot read configuration file \(path)")
        }
        let document: JSONValue
        do { document = try JSONParser.parse(Array(data)) } catch {
            throw ConfigurationError(message: "\(path) is not valid JSON: \(error)")
        }
        guard case .object = document else {
            throw ConfigurationError(message: "\(path): the top level must be an object")
        }
        var flat: [(String, JSONValue)] = []
        Self.flatten(document, prefix: "", into: &flat)
        for (path2, value) in flat {
            if path2.hasPrefix("_") || path2.contains("._") { continue }  // "_comment" keys document the file
            guard let key = ConfigurationKey.named(path2) else {
                throw ConfigurationError(message: "\(path): unknown key '\(path2)'")
            }
            if key.isSecret {
                throw ConfigurationError(
                    message: "\(path): '\(path2)' is a secret and must not be in the configuration file; set \(key.environmentName) or list tokens in auth.tokens_file")
            }
            try set(key, value: value, source: path)
        }
    }

    private static func flatten(_ value: JSONValue, prefix: String, into out: inout [(String, JSONValue)]) {
        if case .object(let object) = value {
            for member in object.members {
                let path = prefix.isEmpty ? member.key : prefix + "." + member.key
                if case .object = member.value { flatten(member.value, prefix: path, into: &out) } else {
                    out.append((path, member.value))
                }
            }
        }
    }

    mutating func set(_ key: ConfigurationKey, text: String, source: String) throws(ConfigurationError) {
        let value: JSONValue
        switch key.kind {
        case .integer, .number:
            guard let number = Double(Self.trimmed(text)) else {
                throw ConfigurationError(message: "\(key.path) (from \(source)): '\(text)' is not a number")
            }
            value = .number(number)
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "yes", "on": value = true
            case "false", "0", "no", "off": value = false
            default: throw ConfigurationError(message: "\(key.path) (from \(source)): '\(text)' is not a boolean")
            }
        case .stringList:
            value = .array(text.split(separator: ",").map { .string(Self.trimmed($0)) }.filter { $0 != "" })
        case .string, .choice, .optionalString:
            value = .string(text)
        }
        try set(key, value: value, source: source)
    }

    mutating func set(_ key: ConfigurationKey, value: JSONValue, source: String) throws(ConfigurationError) {
        func fail(_ problem: String) -> ConfigurationError {
            ConfigurationError(message: "\(key.path) (from \(source)): \(problem)")
        }
        switch key.kind {
        case .integer(let range):
            guard case .number(let n) = value, n.rounded() == n, abs(n) < 1e15 else { throw fail("expected an integer") }
            guard range.contains(Int(n)) else { throw fail("\(Int(n)) is outside \(range.lowerBound)…\(range.upperBound)") }
        case .number(let range):
            guard case .number(let n) = value, n.isFinite else { throw fail("expected a number") }
            guard range.contains(n) else { throw fail("\(n) is outside \(key.typeDescription)") }
        case .string:
            guard case .string(let s) = value, !s.isEmpty else { throw fail("expected a non-empty string") }
        case .optionalString:
            guard case .string = value else { throw fail("expected a string") }
        case .boolean:
            guard case .bool = value else { throw fail("expected true or false") }
        case .stringList:
            guard case .array(let items) = value, items.allSatisfy({ $0.stringValue?.isEmpty == false }) else {
                throw fail("expected a list of non-empty strings")
            }
        case .choice(let options):
            guard case .string(let s) = value, options.contains(s) else {
                throw fail("expected one of \(options.joined(separator: ", "))")
            }
        }
        values[key.path] = value
        sources[key.path] = source
    }

    /// `text` without leading and trailing spaces and tabs (what config values and header
    /// parameters may carry), working on UTF-8 bytes: this runs on the request path.
    static func trimmed(_ text: some StringProtocol) -> String {
        let utf8 = Array(text.utf8)
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let first = utf8.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isBlank($0) })!
        return String(decoding: utf8[first...last], as: UTF8.self)
    }

    /// The resolved value of `key` (its default when nothing set it). `ServiceSettings`
    /// decodes these once; the service reads the settings, not the keys.
    public func value(of key: ConfigurationKey) -> JSONValue? { values[key.path] }
}

import FoundationEssentials
import Inference
import SwiftCSV

/// One validated data row: its typed values in schema order (an empty optional cell is `.missing`), and the line it started on
/// (1-based, the header is line 1) so later errors can still point at the file.
public struct DatasetRow: Sendable, Equatable {
    public var line: Int
    public var values: [FeatureValue]
}

/// A validated training dataset: typed rows in schema order, plus its identity.
public struct Dataset: Sendable {
    public var schema: DatasetSchema
    public var rows: [DatasetRow]
    /// The name and version recorded in the artifact (default: the file's base name, version "1").
    public var name: String
    public var version: String

    public init(schema: DatasetSchema, rows: [DatasetRow], name: String, version: String) {
        self.schema = schema
        self.rows = rows
        self.name = name
        self.version = version
    }

    /// The index of a schema column in `DatasetRow.values`.
    public func columnIndex(_ name: String) -> Int? { schema.columns.firstIndex { $0.name == name } }

    /// The 0/1 labels, one per row (empty when the schema has no label column).
    public var labels: [Int] {
        guard let index = schema.columns.firstIndex(where: { $0.kind == .label }) else { return [] }
        return rows.map { row in
            if case .number(let value) = row.values[index] { return value == 1 ? 1 : 0 }
            return 0
        }
    }

    /// A dataset holding only the rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        Dataset(schema: schema, rows: indices.map { rows[$0] }, name: name, version: version)
    }

    /// The identifier of a row (its line number as a string when there is no identifier column).
    public func identifier(of row: DatasetRow) -> String {
        if let index = schema.columns.firstIndex(where: { $0.kind == .identifier }),
           case .string(let id) = row.values[index] {
            return id.string
        }
        return "line-\(row.line)"
    }
}

/// Why a CSV could not be loaded; always names the line (1-based; the header is line 1)
/// and, where one is at fault, the column.
public struct DatasetError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Kind: Equatable, Sendable {
        case emptyFile
        case missingHeaderColumn
        case unknownColumn
        case duplicateColumn
        case wrongFieldCount(expected: Int, found: Int)
        case missingRequiredValue
        case notANumber(String)
        case notABoolean(String)
        case labelNotBinary(String)
        case malformedQuoting(String)
        case unreadable(String)
        case noRows
    }

    public var kind: Kind
    /// 1-based line in the file; `nil` only when the whole file is at fault (unreadable).
    public var line: Int?
    public var column: String?

    public init(_ kind: Kind, line: Int?, column: String? = nil) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    public var description: String {
        var location = ""
        if let line { location += "line \(line)" }
        if let column { location += (location.isEmpty ? "" : ", ") + "column \(column)" }
        let problem: String
        switch kind {
        case .emptyFile: problem = "the file is empty (no header)"
        case .missingHeaderColumn: problem = "the header lacks this required column"
        case .unknownColumn: problem = "the schema does not declare this column (strict mode)"
        case .duplicateColumn: problem = "the header names this column twice"
        case .wrongFieldCount(let expected, let found):
            problem = "expected \(expected) fields as in the header, found \(found)"
        case .missingRequiredValue: problem = "a value is required"
        case .notANumber(let text): problem = "expected a finite number, found \"\(text)\""
        case .notABoolean(let text): problem = "expected 0, 1, true or false, found \"\(text)\""
        case .labelNotBinary(let text): problem = "the label must be 0 or 1, found \"\(text)\""
        case .malformedQuoting(let detail): problem = "malformed quoting (\(detail))"
        case .unreadable(let detail): problem = "cannot read the file: \(detail)"
        case .noRows: problem = "the file has a header but no data rows"
        }
        return location.isEmpty ? problem : "\(location): \(problem)"
    }
}

/// Loads CSV text into a validated `Dataset`. Pure: text in, dataset or error out.
public enum CSVDatasetLoader {
    /// Parses `text` (UTF-8, RFC 4180 quoting, a header line first) and validates every row
    /// against `schema`. Blank lines are skipped. The first problem found is thrown.
    public static func load(
        text: String, schema: DatasetSchema, name: String, version: String = "1"
    ) throws(DatasetError) -> Dataset {
        var body = text
        if body.hasPrefix("\u{FEFF}") { body.removeFirst() }
        if body.allSatisfy({ $0.isWhitespace }) { throw DatasetError(.emptyFile, line: 1) }
        // SwiftCSV drops an empty last field when the file lacks its final newline.
        if let last = body.last, !last.isNewline { body.append("\n") }

        // Records with the physical line each starts on. SwiftCSV does not report lines, so
        // they are recovered by counting the newlines each record consumed (embedded ones too).
        var records: [(line: Int, fields: [String])] = []
        var nextLine = 1
        do {
            let csv = try CSV<Enumerated>(string: body, delimiter: .comma, loadColumns: false, rowLimit: 0)
            try csv.enumerateAsArray(startAt: 0, rowLimit: nil) { (fields: [String]) in
                records.append((nextLine, fields))
                var consumed = 1
                for field in fields { for character in field where character.isNewline { consumed += 1 } }
                nextLine += consumed
            }
        } catch let error as CSVParseError {
            let detail: String
            switch error {
            case .generic(let message), .quotation(let message): detail = message
            }
            throw DatasetError(.malformedQuoting(detail), line: nextLine)
        } catch {
            throw DatasetError(.unreadable("\(error)"), line: nil)
        }
        let newlineCount = body.reduce(0) { $1.isNewline ? $0 + 1 : $0 }
        if nextLine - 1 > newlineCount, let last = records.last {
            throw DatasetError(.malformedQuoting("a quoted field is never closed"), line: last.line)
        }
        guard let header = records.first else { throw DatasetError(.emptyFile, line: 1) }
        return try validate(header: header.fields, records: records.dropFirst(), schema: schema, name: name, version: version)
    }

    static func validate(
        header rawHeader: [String], records: ArraySlice<(line: Int, fields: [String])>,
        schema: DatasetSchema, name: String, version: String
    ) throws(DatasetError) -> Dataset {
        let header = rawHeader.map { $0.trimmingWhitespace() }
        var positionByName: [String: Int] = [:]
        for (position, column) in header.enumerated() {
            if positionByName[column] != nil { throw DatasetError(.duplicateColumn, line: 1, column: column) }
            positionByName[column] = position
            if schema.strict, schema.column(named: column) == nil {
                throw DatasetError(.unknownColumn, line: 1, column: column)
            }
        }
        var positions: [Int?] = []
        for spec in schema.columns {
            let position = positionByName[spec.name]
            if position == nil, spec.required || spec.kind == .label {
                throw DatasetError(.missingHeaderColumn, line: 1, column: spec.name)
            }
            positions.append(position)
        }

        var rows: [DatasetRow] = []
        rows.reserveCapacity(records.count)
        for record in records {
            if record.fields.count == 1, record.fields[0].allSatisfy(\.isWhitespace), header.count > 1 { continue }
            guard record.fields.count == header.count else {
                throw DatasetError(.wrongFieldCount(expected: header.count, found: record.fields.count), line: record.line)
            }
            var values: [FeatureValue] = []
            values.reserveCapacity(schema.columns.count)
            for (spec, position) in zip(schema.columns, positions) {
                let raw = position.map { record.fields[$0] } ?? ""
                values.append(try parse(raw, as: spec, line: record.line))
            }
            rows.append(DatasetRow(line: record.line, values: values))
        }
        if rows.isEmpty { throw DatasetError(.noRows, line: 2) }
        return Dataset(schema: schema, rows: rows, name: name, version: version)
    }

    /// Parses one cell. Text keeps its inner spaces; numbers and flags are trimmed first.
    static func parse(_ raw: String, as spec: ColumnSpec, line: Int) throws(DatasetError) -> FeatureValue {
        let trimmed = raw.trimmingWhitespace()
        if trimmed.isEmpty {
            if spec.required || spec.kind == .label {
                throw DatasetError(.missingRequiredValue, line: line, column: spec.name)
            }
            return .missing
        }
        switch spec.kind {
        case .text, .categorical, .identifier, .reporting:
            return .string(spec.kind == .text ? raw : trimmed)
        case .numeric:
            guard let value = Double(trimmed), value.isFinite else {
                throw DatasetError(.notANumber(trimmed), line: line, column: spec.name)
            }
            return .number(value)
        case .boolean:
            switch trimmed.lowercased() {
            case "1", "true": return .bool(true)
            case "0", "false": return .bool(false)
            default: throw DatasetError(.notABoolean(trimmed), line: line, column: spec.name)
            }
        case .label:
            switch trimmed {
            case "0": return .number(0)
            case "1": return .number(1)
            default: throw DatasetError(.labelNotBinary(trimmed), line: line, column: spec.name)
            }
        }
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}

extension CSVDatasetLoader {
    /// Reads and loads a CSV file. Bytes that are not UTF-8 are an error naming their line.
    public static func load(
        path: String, schema: DatasetSchema, name: String, version: String = "1"
    ) throws(DatasetError) -> Dataset {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw DatasetError(.unreadable("\(path) does not exist or cannot be read"), line: nil)
        }
        return try load(text: try decodeUTF8(Array(bytes)), schema: schema, name: name, version: version)
    }

    /// Strict UTF-8 decoding; the error names the line of the first invalid byte.
    static func decodeUTF8(_ bytes: [UInt8]) throws(DatasetError) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let end = index + length
            if length == 0 || end > bytes.count || String(validating: bytes[index..<end], as: UTF8.self) == nil {
                throw DatasetError(.unreadable("invalid UTF-8 byte 0x\(String(byte, radix: 16))"), line: line)
            }
            if byte == 0x0A { line += 1 }
            index = end
        }
        throw DatasetError(.unreadable("invalid UTF-8"), line: nil)
    }
}

/// What a column of a training CSV holds, and so how it is parsed and validated.
public enum ColumnKind: String, Sendable, Codable, Equatable {
    /// Free text (a listing title): any UTF-8 string, fed to the text vectoriser.
    case text
    /// A category drawn from a small open set (site, category, reputation): one-hot encoded.
    case categorical
    /// A real number (price, counts): must parse as a finite `Double`.
    case numeric
    /// `0`/`1`/`true`/`false` (case-insensitive).
    case boolean
    /// The 0/1 training label; exactly one label column per schema.
    case label
    /// A row identifier, carried through predictions but never a feature.
    case identifier
    /// Kept for reporting (e.g. `family`), validated as text, never a feature.
    case reporting
}

/// One declared column.
public struct ColumnSpec: Sendable, Codable, Equatable {
    public var name: String
    public var kind: ColumnKind
    /// A required column may not hold an empty value. Default `true`.
    public var required: Bool
    /// What the column means; becomes the signature field's description (status route,
    /// OpenAPI). Default "".
    public var description: String

    public init(name: String, kind: ColumnKind, required: Bool = true, description: String = "") {
        self.name = name
        self.kind = kind
        self.required = required
        self.description = description
    }

    enum CodingKeys: String, CodingKey { case name, kind, required, description }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(ColumnKind.self, forKey: .kind)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? true
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
    }
}

/// The declared shape of a training CSV. Validation is done against it so that a bad file
/// fails at load time with the line and column, instead of as a strange model later.
public struct DatasetSchema: Sendable, Codable, Equatable {
    public var columns: [ColumnSpec]
    /// When `true`, a header column that the schema does not declare is an error;
    /// when `false` (the default) such columns are ignored.
    public var strict: Bool

    public init(columns: [ColumnSpec], strict: Bool = false) {
        self.columns = columns
        self.strict = strict
    }

    public func column(named name: String) -> ColumnSpec? { columns.first { $0.name == name } }

    /// The single label column's name, if any.
    public var labelColumn: String? { columns.first { $0.kind == .label }?.name }
    /// The identifier column's name, if any.
    public var identifierColumn: String? { columns.first { $0.kind == .identifier }?.name }
    /// Columns that become model features, in schema order.
    public var featureColumns: [ColumnSpec] {
        columns.filter { [.text, .categorical, .numeric, .boolean].contains($0.kind) }
    }

    /// The listings dataset written by the data pipeline (`data/listings.csv`).
    /// `seller_reputation` is categorical; `family` is a reporting column, not a feature.
    public static let listings = DatasetSchema(columns: [
        ColumnSpec(name: "id", kind: .identifier, description: "Listing identifier, echoed in the prediction."),
        ColumnSpec(name: "site_id", kind: .categorical, description: "Marketplace site, e.g. MLB, MLA, MLM, MCO, MLC."),
        ColumnSpec(name: "title", kind: .text, description: "Listing title as the seller wrote it."),
        ColumnSpec(name: "category_id", kind: .categorical, description: "Marketplace category, e.g. MLB1132."),
        ColumnSpec(name: "price_usd", kind: .numeric, description: "Price in US dollars."),
        ColumnSpec(name: "seller_age_days", kind: .numeric, description: "Days since the seller registered."),
        ColumnSpec(name: "seller_sales", kind: .numeric, description: "Completed sales of the seller."),
        ColumnSpec(name: "seller_reputation", kind: .categorical, required: false,
                   description: "Seller reputation level, e.g. bronze, silver, gold, platinum."),
        ColumnSpec(name: "is_prohibited", kind: .label, description: "1 when the listing is prohibited."),
        ColumnSpec(name: "family", kind: .reporting, required: false, description: "Kind of item, for reporting only."),
    ])
}

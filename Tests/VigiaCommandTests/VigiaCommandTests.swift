import Foundation
import HTTPTestClient
import Testing

/// The repository root (for the committed default model and config).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let defaultModel = repositoryRoot.appending(path: "models/prohibited-items/1").path

/// Runs the built `vigia` with `arguments`.
private func vigia(_ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    try runProcess(try BuiltProducts.executable("vigia").path, arguments, input: input, environment: environment, timeout: 300)
}

/// A scratch directory removed when the value goes away.
private final class Scratch {
    let url = FileManager.default.temporaryDirectory.appending(path: "vigia-command-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appending(path: name).path }
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: url.appending(path: name))
        return path(name)
    }
}

/// 60 listings (30 prohibited) that only the title tells apart; rows 50–59 copy rows 0–9.
/// With `families`, the positives' family is weapons or medicines by their words (three classes).
private func trainingCSV(families: Bool = false) -> String {
    let positive = ["pistola airsoft", "remedio tarja preta", "revolver calibre", "receita controlada"]
    let negative = ["camiseta algodao", "tenis corrida", "camiseta estampada", "tenis casual"]
    var lines = ["id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family"]
    for i in 0..<60 {
        let row = i < 50 ? i : i - 50
        let isPositive = row % 2 == 0
        let words = (isPositive ? positive : negative)[(row / 2) % 4]
        lines.append("L\(i),MLB,\(words) modelo \(row),MLB100\(row % 3),\(10 + row).5,\(100 + row),\(row),gold,\(isPositive ? 1 : 0),\(!isPositive ? "benign" : families && (row / 2) % 2 == 1 ? "medicines" : "weapons")")
    }
    return lines.joined(separator: "\n") + "\n"
}

private let trainingConfig = #"{"seed": 7, "folds": 3, "test_fraction": 0.25, "text": {"min_df": 1}}"#
private let familiesConfig = #"{"seed": 7, "folds": 3, "test_fraction": 0.25, "text": {"min_df": 1}, "classes": {"column": "family", "negative": ["benign"]}}"#

private let goodListing = #"{"id":"A","site_id":"MLB","title":"Pistola 9mm glock com carregador extra","category_id":"MLB1132","price_usd":850,"seller_age_days":3,"seller_sales":0,"seller_reputation":"bronze"}"#
private let benignListing = #"{"id":"B","site_id":"MLA","title":"Camiseta de algodon azul","category_id":"MLA1","price_usd":12.5,"seller_age_days":900,"seller_sales":340,"seller_reputation":"gold"}"#

@Suite(.exclusive(timeLimit: .minutes(10))) struct VigiaCommandTests {
    @Test func configKeysPrintsTheTableAndExitsZero() throws {
        let result = try vigia(["config-keys"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.first == "| key | environment variable | type | default | meaning |")
        #expect(lines.contains { $0.hasPrefix("| `server.port` | `VIGIA_SERVER_PORT` | integer 0…65535 | `8080` |") })
    }

    @Test func versionPrintsTheVersion() throws {
        let result = try vigia(["--version"])
        #expect(result.status == 0)
        #expect(result.output.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(result.output)")
    }

    @Test func configCheckPrintsEveryValueWithItsSourceAndRefusesABadOneWithoutUsage() throws {
        let scratch = try Scratch()
        let file = try scratch.write("vigia.json", Array(#"{"server": {"host": "0.0.0.0"}}"#.utf8))
        let result = try vigia(["config", "check", "--config", file, "--log-level", "debug"],
                               environment: ["VIGIA_SERVER_PORT": "9000", "VIGIA_AUTH_ADMIN_TOKENS": "s3cret,other"])
        #expect(result.status == 0, "\(result.errorOutput)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("| `server.host` | `\"0.0.0.0\"` | file \(file) |"), "\(result.output)")
        #expect(lines.contains("| `server.port` | `9000` | environment VIGIA_SERVER_PORT |"))
        #expect(lines.contains("| `logging.level` | `\"debug\"` | flag --log-level |"))
        #expect(lines.contains("| `server.backlog` | `1024` | default |"))
        #expect(lines.contains("| `auth.admin_tokens` | (secret: 2 set) | environment VIGIA_AUTH_ADMIN_TOKENS |"))
        #expect(!result.output.contains("s3cret"))
        #expect(lines.last == "configuration ok")

        for arguments in [["config", "check", "--log-level", "verbose"], ["config", "check", "--port", "eighty"], ["serve", "--port", "eighty"]] {
            let bad = try vigia(arguments)
            #expect(bad.status == 1, "\(arguments)")
            #expect(bad.errorOutput.hasPrefix("error: configuration: "), "\(bad.errorOutput)")
            #expect(!bad.errorOutput.contains("USAGE") && !bad.errorOutput.contains("Usage"), "\(bad.errorOutput)")
            #expect(bad.output.isEmpty)
        }
        // A training config with a misspelt key stops `vigia train` before it reads the data.
        let misspelt = try scratch.write("train.json", Array(#"{"fold": 3}"#.utf8))
        let train = try vigia(["train", "--data", "/nonexistent.csv", "--storage", scratch.path("models"), "--config", misspelt])
        #expect(train.status == 1)
        #expect(train.errorOutput.hasPrefix("error: \(misspelt): invalid training config: unknown key \"fold\""), "\(train.errorOutput)")
        #expect(!train.errorOutput.contains("Usage") && !train.errorOutput.contains("USAGE"))
    }

    /// The committed completion scripts are what the binary generates, and they offer the
    /// enumerated values (log levels, algorithms).
    @Test func completionScriptsAreCurrentAndOfferTheEnumeratedValues() throws {
        for (shell, file) in [("bash", "vigia.bash"), ("zsh", "_vigia"), ("fish", "vigia.fish")] {
            let generated = try vigia(["--generate-completion-script", shell])
            #expect(generated.status == 0)
            let committed = try String(contentsOf: repositoryRoot.appending(path: "completions/\(file)"), encoding: .utf8)
            #expect(generated.output == committed,
                    "completions/\(file) is stale: regenerate with `vigia --generate-completion-script \(shell) > completions/\(file)`")
            for value in ["critical", "multinomial_nb"] { #expect(generated.output.contains(value), "\(shell): \(value)") }
        }
    }

    /// `vigia predict` on a file of 1 MiB or more draws a bar on a terminal (a pseudo-terminal
    /// from util-linux `script`) and nothing on stderr otherwise; stdout is the same.
    @Test func predictDrawsABarOnATerminalOnlyForLargeFiles() throws {
        let scratch = try Scratch()
        let line = benignListing + "\n"
        let file = try scratch.write("large.jsonl", Array(String(repeating: line, count: (1 << 20) / line.utf8.count + 1).utf8))
        let plain = try vigia(["predict", "--model", defaultModel, "--input", file])
        #expect(plain.status == 0 && plain.errorOutput.isEmpty, "\(plain.errorOutput)")
        let lines = plain.output.split(separator: "\n").count
        let binary = try BuiltProducts.executable("vigia").path
        let command = "\(binary) predict --model \(defaultModel) --input \(file) > \(scratch.path("scores.jsonl"))"
        let terminal = try runProcess("/usr/bin/script", ["-qec", command, "/dev/null"], timeout: 300)
        #expect(terminal.status == 0)
        #expect(terminal.output.contains("predict        ["), "\(terminal.output.suffix(300))")
        #expect(terminal.output.contains("100%") && terminal.output.contains("KiB, \(lines) lines"), "\(terminal.output.suffix(300))")
        #expect(try String(contentsOfFile: scratch.path("scores.jsonl"), encoding: .utf8) == plain.output)
    }

    @Test func validateAcceptsTheDefaultModelAndNamesTheProblemOfABrokenCopy() throws {
        let good = try vigia(["validate", defaultModel])
        #expect(good.status == 0, "\(good.errorOutput)")
        #expect(good.output.hasPrefix("ok: prohibited-items version 1 (logistic_regression)"), "\(good.output)")

        let scratch = try Scratch()
        let copy = scratch.url.appending(path: "prohibited-items/1")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: defaultModel), to: copy)
        var weights = try Data(contentsOf: copy.appending(path: "weights.bin"))
        weights[100] ^= 0x01
        try weights.write(to: copy.appending(path: "weights.bin"))
        let broken = try vigia(["validate", copy.path])
        #expect(broken.status == 1)
        #expect(broken.errorOutput.contains("checksum_mismatch: weights.bin"), "\(broken.errorOutput)")
        #expect(broken.output.isEmpty)

        let missing = try vigia(["validate", scratch.path("nothing/1")])
        #expect(missing.status == 1)
        #expect(missing.errorOutput == "error: \(scratch.path("nothing/1")): missing_file: model.json is missing from \(scratch.path("nothing/1"))\n")
    }

    @Test func predictScoresAFileAndStdinAlikeAndStopsAtTheFirstBadLine() throws {
        let scratch = try Scratch()
        let lines = goodListing + "\n\n" + benignListing + "\n"
        let file = try scratch.write("in.jsonl", Array(lines.utf8))
        let fromFile = try vigia(["predict", "--model", defaultModel, "--input", file])
        #expect(fromFile.status == 0, "\(fromFile.errorOutput)")
        let rows = fromFile.output.split(separator: "\n")
        #expect(rows.count == 2, "a blank line is skipped")
        #expect(rows.first?.hasPrefix(#"{"id":"A","score":"#) == true && rows.first?.contains(#""label":"prohibited""#) == true)
        #expect(rows.last?.hasPrefix(#"{"id":"B","score":"#) == true && rows.last?.contains(#""label":"allowed""#) == true)

        let fromStdin = try vigia(["predict", "--model", defaultModel, "--input", "-"], input: Array(lines.utf8))
        #expect(fromStdin.status == 0, "\(fromStdin.errorOutput)")
        #expect(fromStdin.output == fromFile.output)

        // Without --keep-going the first bad line ends the run with exit status 1.
        let bad = goodListing + "\n" + #"{"id":"C","title":"x"}"# + "\n" + benignListing + "\n"
        let stopped = try vigia(["predict", "--model", defaultModel, "--input", "-"], input: Array(bad.utf8))
        #expect(stopped.status == 1)
        #expect(stopped.output.split(separator: "\n").count == 1)
        #expect(stopped.errorOutput.hasPrefix("error: -: line 2: /site_id is required"), "\(stopped.errorOutput)")
    }

    @Test func predictKeepGoingScoresEveryGoodLineAndRefusesInvalidUTF8() throws {
        let scratch = try Scratch()
        // Line 2 is a listing whose title holds a lone 0xFF byte; line 3 is not JSON.
        var bytes = Array((goodListing + "\n").utf8)
        bytes += Array(#"{"id":"U","site_id":"MLB","title":"pistola "#.utf8) + [0xFF]
            + Array(#"","category_id":"C","price_usd":1,"seller_age_days":1,"seller_sales":1}"#.utf8) + [0x0A]
        bytes += Array("{not json\n".utf8) + Array(benignListing.utf8)  // no final newline
        let file = try scratch.write("mixed.jsonl", bytes)
        let result = try vigia(["predict", "--model", defaultModel, "--input", file, "--keep-going"])
        #expect(result.status == 1)
        let ids = result.output.split(separator: "\n").map { $0.prefix(9) }
        #expect(ids == [#"{"id":"A""#, #"{"id":"B""#], "\(result.output)")
        let errors = result.errorOutput.split(separator: "\n")
        #expect(errors.count == 3, "\(result.errorOutput)")
        let counted = try vigia(["predict", "--model", defaultModel, "--input", file, "--keep-going", "--progress", "--threads", "2"])
        #expect(counted.output == result.output)
        #expect(counted.errorOutput.contains("predict: 2 rows in ") && counted.errorOutput.contains("rows/s, 2 thread(s)"), "\(counted.errorOutput)")
        #expect(errors.first?.hasPrefix("error: \(file): line 2: not JSON: ") == true, "\(errors)")
        #expect(errors.first?.contains("UTF-8") == true, "\(errors)")
        #expect(errors.dropFirst().first?.hasPrefix("error: \(file): line 3: not JSON: ") == true)
        #expect(errors.last == "2 line(s) could not be scored")
    }

    @Test func aFamilyModelIsEvaluatedPerClassOnItsHeldOutSplit() throws {
        let scratch = try Scratch()
        let data = try scratch.write("listings.csv", Array(trainingCSV(families: true).utf8))
        let config = try scratch.write("families.json", Array(familiesConfig.utf8))
        let storage = scratch.path("models")
        let trained = try vigia(["train", "--data", data, "--storage", storage, "--name", "families", "--config", config])
        #expect(trained.status == 0, "\(trained.errorOutput)")
        let evaluated = try vigia(["evaluate", "--model", "\(storage)/families/1", "--data", data, "--split", "test", "--config", config])
        #expect(evaluated.status == 0, "\(evaluated.errorOutput)")
        #expect(!evaluated.errorOutput.contains("warning"), "\(evaluated.errorOutput)")
        let lines = evaluated.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("class ") && $0.hasSuffix(" roc_auc") }, "\(evaluated.output)")
        for name in ["benign", "medicines", "weapons"] { #expect(lines.contains { $0.hasPrefix(name + " ") }, "\(name): \(evaluated.output)") }
        #expect(evaluated.output.contains("class accuracy (most probable class): "), "\(evaluated.output)")
        // Without the training config the rows' classes are unknown: said, not guessed.
        let bare = try vigia(["evaluate", "--model", "\(storage)/families/1", "--data", data])
        #expect(bare.status == 0, "\(bare.errorOutput)")
        #expect(bare.output.contains("per-class figures: give --config with the training config"), "\(bare.output)")
    }

    @Test func trainPublishesAndReportsDuplicatesValidateAndEvaluateReadTheVersion() throws {
        let scratch = try Scratch()
        let data = try scratch.write("listings.csv", Array(trainingCSV().utf8))
        let config = try scratch.write("train.json", Array(trainingConfig.utf8))
        let storage = scratch.path("models")
        let trained = try vigia(["train", "--data", data, "--storage", storage, "--name", "small", "--config", config])
        #expect(trained.status == 0, "\(trained.errorOutput)")
        #expect(trained.output.contains("duplicates: 10 rows repeat an earlier row's id or title; each listing's copies are on one side of the split"),
                "\(trained.output)")
        #expect(trained.output.contains("published small version 1 at \(storage)/small/1"), "\(trained.output)")

        let validated = try vigia(["validate", "\(storage)/small/1"])
        #expect(validated.status == 0, "\(validated.errorOutput)")

        let evaluated = try vigia(["evaluate", "--model", "\(storage)/small/1", "--data", data])
        #expect(evaluated.status == 0, "\(evaluated.errorOutput)")
        #expect(evaluated.output.contains("rows        60"), "\(evaluated.output)")
        #expect(evaluated.output.split(separator: "\n").contains { $0.hasPrefix("roc_auc ") }, "\(evaluated.output)")

        // The held-out split again (the training config's seed and groups), clean and disguised.
        let robust = try vigia(["evaluate", "--model", "\(storage)/small/1", "--data", data, "--split", "test", "--config", config, "--robustness"])
        #expect(robust.status == 0, "\(robust.errorOutput)")
        #expect(!robust.errorOutput.contains("warning"), "\(robust.errorOutput)")
        #expect(robust.output.contains("on the held-out split of \(data) (seed 7, test fraction 0.25)"), "\(robust.output)")
        let rows = robust.output.split(separator: "\n")
        let disguises = ["clean", "leetspeak", "dots", "spaces", "hyphens", "underscores", "zero_width", "repeats", "homoglyphs", "split"]
        for kind in disguises {
            #expect(rows.contains { $0.hasPrefix(kind + " ") }, "\(kind): \(robust.output)")
        }
        // The version carries its report and card, checksummed; evaluate writes the same report on demand.
        let manifest = try String(contentsOfFile: "\(storage)/small/1/model.json", encoding: .utf8)
        for file in ["report.html", "metrics.json", "MODEL_CARD.md"] {
            #expect(FileManager.default.fileExists(atPath: "\(storage)/small/1/\(file)"), "\(file)")
            #expect(manifest.contains("\"\(file)\" : \""), "\(file) is not listed in files")
        }
        // The version's report shows the robustness rows --robustness printed for the same
        // held-out rows and seed: one computation, the same figures in the table and the chart.
        let versionPage = try String(contentsOfFile: "\(storage)/small/1/report.html", encoding: .utf8)
        #expect(versionPage.contains("<h2 id=\"robustness\">Disguised words</h2>"))
        #expect(versionPage.contains("<title>Recall and false alarms by disguise</title>"))
        let pageLines = versionPage.split(separator: "\n")
        for kind in disguises {
            let printed = rows.first { $0.hasPrefix(kind + " ") }?.split(separator: " ").map(String.init) ?? []
            guard printed.count == 5 else { Issue.record("\(kind): \(robust.output)"); continue }
            let caught = printed[2].split(separator: "/"), flagged = printed[4].split(separator: "/")
            let cells = "<td>\(printed[1])</td><td>\(caught[0]) / \(caught[1])</td><td>\(printed[3])</td><td>\(flagged[0]) / \(flagged[1])</td></tr>"
            #expect(pageLines.contains { $0.hasPrefix("<tr><td class=\"k\">\(kind)</td>") && $0.hasSuffix(cells) }, "\(kind): \(cells)")
            #expect(versionPage.contains("<title>\(kind): recall \(printed[1]) (\(caught[0]) of \(caught[1]))</title>"), "\(kind)")
        }
        let card = try String(contentsOfFile: "\(storage)/small/1/MODEL_CARD.md", encoding: .utf8)
        #expect(card.contains("### Disguised words"), "\(card)")
        #expect(card.hasPrefix("# Model card: small version 1\n"), "\(card)")
        #expect(card.contains("| seed | 7 |"), "\(card)")
        let html = scratch.path("report.html"), json = scratch.path("metrics.json")
        let reported = try vigia(["evaluate", "--model", "\(storage)/small/1", "--data", data, "--report", html, "--json", json])
        #expect(reported.status == 0, "\(reported.errorOutput)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<svg ") && !page.contains("<script"))
        #expect(page.components(separatedBy: "<svg ").count - 1 == 5 && page.contains("Disguised words"))
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let overall = metrics?["overall"] as? [String: Any]
        #expect(overall?["rows"] as? Int == 60)
        let slices = (metrics?["slices"] as? [[String: Any]]) ?? []
        #expect(slices.contains { $0["dimension"] as? String == "family" && $0["key"] as? String == "weapons" }, "\(slices)")
        let disguised = ((metrics?["robustness"] as? [String: Any])?["rows"] as? [[String: Any]]) ?? []
        #expect(disguised.compactMap { $0["disguise"] as? String } == disguises, "\(disguised)")
        #expect(disguised.allSatisfy { $0["recall"] is Double && $0["false_alarm_rate"] is Double })
        let carded = try vigia(["model-card", "--model", "\(storage)/small/1", "--metrics", json, "--output", scratch.path("CARD.md")])
        #expect(carded.status == 0, "\(carded.errorOutput)")
        #expect(try String(contentsOfFile: scratch.path("CARD.md"), encoding: .utf8).contains("**family** (`family`)"))

        // The same settings as the `train` member of a params.yaml: the same weights; and the
        // metrics (held-out, disguised) as a JSON file.
        let parameters = try scratch.write("params.yaml", Array("""
            train:
              seed: 7
              folds: 3
              test_fraction: 0.25
              text: {min_df: 1}
            evaluate:
              disguise_seed: 18

            """.utf8))
        let fromYAML = try vigia(["train", "--data", data, "--storage", scratch.path("yaml"), "--name", "small", "--config", parameters])
        #expect(fromYAML.status == 0, "\(fromYAML.errorOutput)")
        #expect(FileManager.default.contents(atPath: scratch.path("yaml/small/1/weights.bin"))
            == FileManager.default.contents(atPath: "\(storage)/small/1/weights.bin"))
        let metricsPath = scratch.path("metrics.json")
        let withMetrics = try vigia(["evaluate", "--model", "\(storage)/small/1", "--data", data, "--split", "test",
                                     "--config", parameters, "--robustness", "--metrics", metricsPath])
        #expect(withMetrics.status == 0, "\(withMetrics.errorOutput)")
        let metricsFile = String(decoding: FileManager.default.contents(atPath: metricsPath) ?? Data(), as: UTF8.self)
        #expect(metricsFile.hasPrefix("{\n  \"accuracy\" : "), "\(metricsFile)")
        // The file says what the table says: the held-out rows, and a member per disguise.
        let tableRows = withMetrics.output.split(separator: "\n").first { $0.hasPrefix("rows ") }?
            .split(separator: " ").dropFirst().first.map(String.init)
        #expect(tableRows != nil && metricsFile.contains("\"rows\" : \(tableRows ?? "?"),"), "\(metricsFile)")
        #expect(metricsFile.contains("\"split\" : {") && metricsFile.contains("\"false_alarm_rate\" : "), "\(metricsFile)")

        // A CSV that breaks the schema: exit 1 naming line and column, nothing published.
        let broken = try scratch.write("broken.csv", Array(trainingCSV().replacingOccurrences(of: "L7,MLB", with: "L7,").utf8))
        let refused = try vigia(["train", "--data", broken, "--storage", storage, "--name", "small", "--config", config])
        #expect(refused.status == 1)
        #expect(refused.errorOutput.contains("line 9, column site_id"), "\(refused.errorOutput)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(storage)/small") == ["1"])
    }

    @Test func serveExitsOneOnABadConfigurationNamingTheKeyAndItsSource() throws {
        let result = try vigia(["serve", "--port", "0"], environment: ["VIGIA_SERVER_EVENT_LOOPS": "many"])
        #expect(result.status == 1)
        #expect(result.errorOutput == "error: configuration: server.event_loops (from environment variable VIGIA_SERVER_EVENT_LOOPS): 'many' is not a number\n")
        let unknownFlag = try vigia(["serve", "--prot", "1"])
        #expect(unknownFlag.status == 64, "a usage error keeps the usage status")
    }
}
